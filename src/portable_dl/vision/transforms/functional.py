"""``transforms.functional``: the stateless image operations behind the transform classes.

Every function accepts a portable_dl Tensor ``[..., C, H, W]``, a NumPy ``H x W (x C)`` array or a PIL image and
returns the same kind (``to_tensor``/``normalize`` excepted). They run on the tensor's arrays outside autograd: the
result of a geometric op on a tensor that requires grad carries no graph (torchvision's would).
"""

from __future__ import annotations

import enum
import numbers
from collections.abc import Sequence
from typing import Any

from ...ops.creation import from_numpy
from ...ops.creation import tensor as as_new_tensor
from ...tensor import Tensor
from .._image import describe, is_ndarray, is_pil_image, np, pil_to_array, require_pil, to_planes
from . import _color, _geometry, _resize


class InterpolationMode(enum.Enum):
    """torchvision's interpolation names; only NEAREST and BILINEAR are implemented."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


_PIL_FILTERS = {"nearest": 0, "bilinear": 2, "bicubic": 3}


def _mode(interpolation: Any, op: str) -> str:
    value = interpolation.value if isinstance(interpolation, InterpolationMode) else interpolation
    if value not in ("nearest", "bilinear"):
        raise ValueError(f"{op}: interpolation must be InterpolationMode.NEAREST or BILINEAR, got {interpolation!r}")
    return value


def to_tensor(pic: Any) -> Tensor:
    """A PIL image or NumPy ``H x W (x C)`` array as a float32 ``C x H x W`` tensor; uint8 is scaled to [0, 1]."""
    if is_pil_image(pic):
        array = pil_to_array(pic)
    elif is_ndarray(pic):
        array = pic
    else:
        raise TypeError(f"to_tensor: pic should be a PIL Image or a NumPy ndarray, got {describe(pic)}")
    if array.ndim not in (2, 3):
        raise ValueError(f"to_tensor: pic should be 2 or 3 dimensional (H x W or H x W x C), got {array.ndim} dims")
    if array.ndim == 2:
        array = array[:, :, None]
    chw = np.ascontiguousarray(array.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        return from_numpy(chw.astype(np.float32) / np.float32(255.0))
    if chw.dtype == np.uint16:
        chw = chw.astype(np.int32)
    return from_numpy(chw)


def pil_to_tensor(pic: Any) -> Tensor:
    """A PIL image (or NumPy array) as a ``C x H x W`` tensor of its own dtype, not rescaled."""
    array = pil_to_array(pic) if is_pil_image(pic) else pic
    if not is_ndarray(array):
        raise TypeError(f"pil_to_tensor: expected a PIL Image or NumPy array, got {describe(pic)}")
    array = array[:, :, None] if array.ndim == 2 else array
    chw = np.ascontiguousarray(array.transpose(2, 0, 1))
    return from_numpy(chw.astype(np.int32) if chw.dtype == np.uint16 else chw)


def to_pil_image(pic: Any, mode: str | None = None) -> Any:
    """A ``C x H x W`` tensor (floats in [0, 1] are scaled by 255) or ``H x W (x C)`` array as a PIL image."""
    image_module = require_pil()
    if isinstance(pic, Tensor):
        array = pic.detach().cpu().numpy()
        array = array[None] if array.ndim == 2 else array
        if array.ndim != 3:
            raise ValueError(f"to_pil_image: expected a 2D or 3D tensor, got shape {tuple(pic.shape)}")
        if array.dtype.kind == "f":
            array = (array * 255).astype(np.uint8)
        array = array.transpose(1, 2, 0)
    elif is_ndarray(pic):
        array = pic
    else:
        raise TypeError(f"to_pil_image: pic should be a Tensor or ndarray, got {describe(pic)}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return image_module.fromarray(np.ascontiguousarray(array), mode=mode)


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """``(tensor - mean[c]) / std[c]`` per channel of a float ``[..., C, H, W]`` tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"normalize: img should be a Tensor (apply ToTensor first), got {describe(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"normalize: input tensor should be a float tensor, got {tensor.dtype}")
    if tensor.ndim < 3:
        raise ValueError(f"normalize: expected a tensor image of size (..., C, H, W), got {tuple(tensor.shape)}")
    mean_t = as_new_tensor(
        list(mean) if isinstance(mean, Sequence) else [mean], dtype=tensor.dtype, device=tensor.device
    )
    std_t = as_new_tensor(list(std) if isinstance(std, Sequence) else [std], dtype=tensor.dtype, device=tensor.device)
    if bool((std_t == 0).any()):
        raise ValueError(
            f"normalize: std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero"
        )
    channels = tensor.shape[-3]
    for name, values in (("mean", mean_t), ("std", std_t)):
        if values.numel() not in (1, channels):
            raise ValueError(f"normalize: {name} has {values.numel()} values but the image has {channels} channels")
    mean_t, std_t = mean_t.view(-1, 1, 1), std_t.view(-1, 1, 1)
    if inplace:
        return tensor.sub_(mean_t).div_(std_t)
    return (tensor - mean_t) / std_t


def resize(img: Any, size: Any, interpolation: Any = InterpolationMode.BILINEAR, max_size: int | None = None,
           antialias: bool | None = True) -> Any:  # fmt: skip
    """Resize to ``size`` (an int sets the smaller edge); PIL images use Pillow's resampling, as torchvision does."""
    _resize.check_size(size, "resize")
    mode = _mode(interpolation, "resize")
    if is_pil_image(img):
        h, w = img.size[1], img.size[0]
        out_h, out_w = _resize.resized_output_size(h, w, size, max_size)
        return img if (out_h, out_w) == (h, w) else img.resize((out_w, out_h), _PIL_FILTERS[mode])
    planes, xp, restore = to_planes(img, "resize")
    h, w = int(planes.shape[-2]), int(planes.shape[-1])
    out_size = _resize.resized_output_size(h, w, size, max_size)
    if out_size == (h, w):
        return img
    return restore(_resize.resize_planes(planes, xp, out_size, mode, bool(antialias)))


def _pair(size: Any, op: str) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, Sequence) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{op}: size should be an int or a sequence of 1 or 2 ints, got {size!r}")


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The ``height x width`` window at ``(top, left)``; parts outside the image are zero."""
    planes, xp, restore = to_planes(img, "crop")
    return restore(_geometry.crop_planes(planes, xp, int(top), int(left), int(height), int(width)))


def center_crop(img: Any, output_size: Any) -> Any:
    """The central ``output_size`` window, zero-padded first when the image is smaller."""
    planes, xp, restore = to_planes(img, "center_crop")
    return restore(_geometry.center_crop_planes(planes, xp, _pair(output_size, "center_crop")))


def pad(img: Any, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Any:
    """Pad the borders: ``padding`` is an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    planes, xp, restore = to_planes(img, "pad")
    return restore(_geometry.pad_planes(planes, xp, _geometry.parse_padding(padding, "pad"), fill, padding_mode))


def hflip(img: Any) -> Any:
    """Mirror left-right."""
    planes, _, restore = to_planes(img, "hflip")
    return restore(planes[..., ::-1].copy())


def vflip(img: Any) -> Any:
    """Mirror top-bottom."""
    planes, _, restore = to_planes(img, "vflip")
    return restore(planes[..., ::-1, :].copy())


def rotate(img: Any, angle: float, interpolation: Any = InterpolationMode.NEAREST, expand: bool = False,
           center: Sequence[int] | None = None, fill: Any = None) -> Any:  # fmt: skip
    """Rotate counter-clockwise by ``angle`` degrees; PIL images use Pillow's ``rotate``."""
    mode = _mode(interpolation, "rotate")
    if is_pil_image(img):
        fillcolor = tuple(int(f) for f in fill) if isinstance(fill, (list, tuple)) else fill
        return img.rotate(angle, resample=_PIL_FILTERS[mode], expand=expand, center=center, fillcolor=fillcolor)
    planes, xp, restore = to_planes(img, "rotate")
    return restore(_geometry.rotate_planes(planes, xp, float(angle), mode, expand, center, fill))


def _color_op(name: str) -> Any:
    def apply(img: Any, factor: float) -> Any:
        planes, xp, restore = to_planes(img, name)
        return restore(getattr(_color, name)(planes, xp, float(factor)))

    apply.__name__ = name
    apply.__doc__ = f"torchvision's ``{name}`` (tensor formula), for any accepted image kind."
    return apply


adjust_brightness = _color_op("adjust_brightness")
adjust_contrast = _color_op("adjust_contrast")
adjust_saturation = _color_op("adjust_saturation")
adjust_hue = _color_op("adjust_hue")


def get_dimensions(img: Any) -> list[int]:
    """``[channels, height, width]``."""
    planes, _, _ = to_planes(img, "get_dimensions")
    return [int(planes.shape[-3]), int(planes.shape[-2]), int(planes.shape[-1])]


__all__ = [
    "InterpolationMode", "to_tensor", "pil_to_tensor", "to_pil_image", "normalize", "resize", "crop", "center_crop",
    "pad", "hflip", "vflip", "rotate", "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
    "get_dimensions",
]  # fmt: skip
