"""The transform classes, with torchvision's names, arguments and defaults.

Random transforms draw from portable_dl's CPU generator, so ``portable_dl.manual_seed(s)`` makes a pipeline
reproducible (the draws differ from torch's: another random engine). Each class's ``get_params`` is a static
method as in torchvision.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from ...backends import CPU
from ...tensor import Tensor
from . import functional as F
from ._geometry import PADDING_MODES, parse_padding
from .functional import InterpolationMode


def _rng() -> Any:
    return CPU.generator()


def _uniform(low: float, high: float) -> float:
    return float(low + (high - low) * _rng().random())


def _randint(high: int) -> int:
    """An int in ``[0, high)``."""
    return int(_rng().integers(0, high))


class _Repr:
    def _extra(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._extra()})"


class Compose(_Repr):
    """Apply ``transforms`` in order."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class Lambda(_Repr):
    """Apply a user function."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)


class ToTensor(_Repr):
    """PIL image or NumPy ``H x W (x C)`` uint8 array -> float32 ``C x H x W`` tensor in [0, 1]."""

    def __call__(self, pic: Any) -> Tensor:
        return F.to_tensor(pic)


class PILToTensor(_Repr):
    """PIL image -> ``C x H x W`` tensor of the same dtype, not rescaled."""

    def __call__(self, pic: Any) -> Tensor:
        return F.pil_to_tensor(pic)


class ToPILImage(_Repr):
    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        return F.to_pil_image(pic, self.mode)


class Normalize(_Repr):
    """``(x - mean[c]) / std[c]`` per channel of a float tensor image."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def _extra(self) -> str:
        return f"mean={self.mean}, std={self.std}"


class Resize(_Repr):
    """Resize; an int ``size`` matches the smaller edge. Bilinear with antialias by default (torchvision's)."""

    def __init__(self, size: Any, interpolation: Any = InterpolationMode.BILINEAR, max_size: int | None = None,
                 antialias: bool | None = True) -> None:  # fmt: skip
        from ._resize import check_size

        check_size(size, "Resize")
        F._mode(interpolation, "Resize")
        self.size, self.interpolation, self.max_size, self.antialias = size, interpolation, max_size, antialias

    def __call__(self, img: Any) -> Any:
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def _extra(self) -> str:
        return f"size={self.size}, interpolation={getattr(self.interpolation, 'value', self.interpolation)}"


class CenterCrop(_Repr):
    def __init__(self, size: Any) -> None:
        self.size = F._pair(size, "CenterCrop")

    def __call__(self, img: Any) -> Any:
        return F.center_crop(img, self.size)

    def _extra(self) -> str:
        return f"size={self.size}"


class Pad(_Repr):
    def __init__(self, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> None:
        parse_padding(padding, "Pad")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"Pad: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img: Any) -> Any:
        return F.pad(img, self.padding, self.fill, self.padding_mode)


class RandomCrop(_Repr):
    """Pad by ``padding`` (and up to ``size`` if ``pad_if_needed``), then crop a random ``size`` window."""

    def __init__(self, size: Any, padding: Any = None, pad_if_needed: bool = False, fill: Any = 0,
                 padding_mode: str = "constant") -> None:  # fmt: skip
        self.size = F._pair(size, "RandomCrop")
        if padding is not None:
            parse_padding(padding, "RandomCrop")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of a random crop."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        return _randint(h - th + 1), _randint(w - tw + 1), th, tw

    def __call__(self, img: Any) -> Any:
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)

    def _extra(self) -> str:
        return f"size={self.size}, padding={self.padding}"


class RandomHorizontalFlip(_Repr):
    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        return F.hflip(img) if _rng().random() < self.p else img

    def _extra(self) -> str:
        return f"p={self.p}"


class RandomVerticalFlip(RandomHorizontalFlip):
    def __call__(self, img: Any) -> Any:
        return F.vflip(img) if _rng().random() < self.p else img


def _degrees(degrees: Any) -> list[float]:
    if isinstance(degrees, numbers.Number):
        if degrees < 0:
            raise ValueError(f"If degrees is a single number, it must be positive, got {degrees}")
        return [-float(degrees), float(degrees)]
    if isinstance(degrees, Sequence) and len(degrees) == 2:
        return [float(d) for d in degrees]
    raise ValueError(f"degrees should be a number or a sequence of 2 numbers, got {degrees!r}")


class RandomRotation(_Repr):
    """Rotate by an angle drawn uniformly from ``degrees`` (counter-clockwise, degrees)."""

    def __init__(self, degrees: Any, interpolation: Any = InterpolationMode.NEAREST, expand: bool = False,
                 center: Sequence[int] | None = None, fill: Any = 0) -> None:  # fmt: skip
        self.degrees = _degrees(degrees)
        F._mode(interpolation, "RandomRotation")
        if center is not None and not (isinstance(center, Sequence) and len(center) == 2):
            raise ValueError(f"center should be a sequence of length 2, got {center!r}")
        self.interpolation, self.expand, self.center, self.fill = interpolation, expand, center, fill

    @staticmethod
    def get_params(degrees: list[float]) -> float:
        return _uniform(degrees[0], degrees[1])

    def __call__(self, img: Any) -> Any:
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def _extra(self) -> str:
        return f"degrees={self.degrees}"


def _jitter_range(value: Any, name: str, center: float = 1.0, bound: tuple[float, float] = (0.0, math.inf),
                  clip_first_on_zero: bool = True) -> list[float] | None:  # fmt: skip
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative, got {value}")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, Sequence) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, got {value}")
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2, got {value!r}")
    return None if value[0] == value[1] == center else value


class ColorJitter(_Repr):
    """Randomly change brightness, contrast, saturation and hue, in a random order (torchvision's formulas)."""

    def __init__(self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0, hue: Any = 0) -> None:
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.hue = _jitter_range(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness: Any, contrast: Any, saturation: Any, hue: Any) -> tuple:
        """``(order, brightness, contrast, saturation, hue)`` factors (None for a disabled one)."""
        order = [int(i) for i in _rng().permutation(4)]
        factors = [None if r is None else _uniform(r[0], r[1]) for r in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def __call__(self, img: Any) -> Any:
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        ops = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
        for index in order:
            if factors[index] is not None:
                img = ops[index](img, factors[index])
        return img

    def _extra(self) -> str:
        return f"brightness={self.brightness}, contrast={self.contrast}, saturation={self.saturation}, hue={self.hue}"


__all__ = [
    "Compose", "Lambda", "ToTensor", "PILToTensor", "ToPILImage", "Normalize", "Resize", "CenterCrop", "Pad",
    "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "ColorJitter", "InterpolationMode",
]  # fmt: skip
