"""The three image kinds the vision package accepts, seen as one ``[..., C, H, W]`` array.

Images arrive as portable_dl Tensors (``[..., C, H, W]``, torchvision's tensor layout), NumPy uint8 arrays
(``H x W`` or ``H x W x C``, what the datasets here return) or PIL images. Geometric and colour transforms work on
the planar array view and hand back the same kind they were given, so a pipeline keeps its type until
``ToTensor``. NumPy comes from the CPU backend (the package's rule: array libraries are owned by ``backends``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..backends import CPU
from ..tensor import Tensor

np = CPU.xp


def is_pil_image(img: Any) -> bool:
    """True for a PIL image, without importing Pillow."""
    return type(img).__module__.startswith("PIL.") and hasattr(img, "getbands")


def is_ndarray(img: Any) -> bool:
    return isinstance(img, np.ndarray)


def describe(img: Any) -> str:
    if isinstance(img, Tensor):
        return f"Tensor of shape {tuple(img.shape)}"
    if is_ndarray(img):
        return f"ndarray of shape {img.shape} and dtype {img.dtype}"
    return type(img).__name__


def require_pil() -> Any:
    """The ``PIL.Image`` module, or an error that says how to install it."""
    try:
        from PIL import Image
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("this needs Pillow: pip install Pillow (or the project's [vision] extra)") from error
    return Image


def pil_to_array(img: Any) -> Any:
    """A PIL image as a NumPy array (H x W or H x W x C); bilevel images become 0/255 uint8."""
    if img.mode == "1":
        return np.asarray(img, dtype=np.uint8) * np.uint8(255)
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    return np.asarray(img)


def to_planes(img: Any, op: str) -> tuple[Any, Any, Callable[[Any], Any]]:
    """``(array [..., C, H, W], xp, restore)``: ``restore(out)`` gives ``out`` back as ``img``'s kind."""
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise ValueError(f"{op}: expected a tensor image [..., C, H, W] or [H, W], got shape {tuple(img.shape)}")
        backend, data = img._backend, img._data
        if img.ndim == 2:
            return data[None], backend.xp, lambda out: Tensor._wrap(out[0], backend)
        return data, backend.xp, lambda out: Tensor._wrap(out, backend)
    if is_pil_image(img):
        image_module = require_pil()
        array = pil_to_array(img)
        planes, xp, restore = to_planes(array, op)
        return planes, xp, lambda out: image_module.fromarray(restore(out))
    if is_ndarray(img):
        if img.ndim == 2:
            return img[None], np, lambda out: np.ascontiguousarray(out[0])
        if img.ndim == 3:
            return img.transpose(2, 0, 1), np, lambda out: np.ascontiguousarray(out.transpose(1, 2, 0))
        raise ValueError(f"{op}: expected a NumPy image H x W or H x W x C, got shape {img.shape}")
    raise TypeError(f"{op}: expected a portable_dl Tensor, a NumPy array or a PIL image, got {describe(img)}")


def is_float(array: Any) -> bool:
    return array.dtype.kind == "f"


def max_value(array: Any) -> float:
    """The value of full intensity: 1.0 for float images, the type's maximum for integers."""
    return 1.0 if is_float(array) else float(np.iinfo(array.dtype).max)


def cast_back(values: Any, like: Any, xp: Any) -> Any:
    """Float results in ``like``'s dtype: rounded and clipped for integer images."""
    if is_float(like):
        return values.astype(like.dtype, copy=False)
    info = np.iinfo(like.dtype)
    return xp.clip(xp.round(values), info.min, info.max).astype(like.dtype)
