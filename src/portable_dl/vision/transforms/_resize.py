"""Resizing with torch's interpolation kernels, in NumPy (CuPy for CUDA tensors).

Bilinear with ``antialias=True`` builds, per axis, the triangle-filter weights that ``torch.nn.functional.interpolate
(mode="bilinear", antialias=True, align_corners=False)`` uses (the PIL-style separable filter: the support widens by
the scale factor when shrinking), so a float tensor resizes as torchvision's tensor ``Resize`` does. With
``antialias=False`` the support stays one pixel (plain bilinear). ``nearest`` takes ``floor(dst * in / out)``.
Integer images are computed in float and rounded back.
"""

from __future__ import annotations

from typing import Any

from .._image import cast_back, np


def _bilinear_weights(in_size: int, out_size: int, antialias: bool) -> Any:
    """The ``(out_size, in_size)`` matrix of torch's ``_compute_weights_aa`` for the triangle filter."""
    scale = in_size / out_size
    support = scale if (scale >= 1.0 and antialias) else 1.0
    invscale = 1.0 / scale if (scale >= 1.0 and antialias) else 1.0
    weights = np.zeros((out_size, in_size), dtype=np.float64)
    for i in range(out_size):
        center = scale * (i + 0.5)
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size)
        j = np.arange(xmin, xmax)
        w = np.clip(1.0 - np.abs((j - center + 0.5) * invscale), 0.0, None)
        total = w.sum()
        if total != 0.0:
            weights[i, xmin:xmax] = w / total
    return weights


def _nearest_index(in_size: int, out_size: int) -> Any:
    scale = np.float32(in_size / out_size)
    return np.minimum(np.floor(np.arange(out_size, dtype=np.float32) * scale).astype(np.int64), in_size - 1)


def resize_planes(planes: Any, xp: Any, size: tuple[int, int], mode: str, antialias: bool) -> Any:
    """Resize ``[..., H, W]`` to ``size = (h, w)`` with ``mode`` 'bilinear' or 'nearest'."""
    in_h, in_w = int(planes.shape[-2]), int(planes.shape[-1])
    out_h, out_w = size
    if (in_h, in_w) == (out_h, out_w):
        return planes.copy()
    if mode == "nearest":
        rows = xp.asarray(_nearest_index(in_h, out_h))
        cols = xp.asarray(_nearest_index(in_w, out_w))
        return planes[..., rows[:, None], cols[None, :]]
    compute = planes.dtype if planes.dtype.kind == "f" else np.float32
    values = planes.astype(compute, copy=False)
    width = xp.asarray(_bilinear_weights(in_w, out_w, antialias).astype(compute))
    height = xp.asarray(_bilinear_weights(in_h, out_h, antialias).astype(compute))
    out = xp.matmul(height, xp.matmul(values, width.T))
    return cast_back(out, planes, xp)


def resized_output_size(height: int, width: int, size: Any, max_size: int | None) -> tuple[int, int]:
    """torchvision's rule: an int (or a 1-list) sets the smaller edge, keeping the aspect ratio; (h, w) is exact."""
    if size is None or (isinstance(size, (list, tuple)) and len(size) == 1) or isinstance(size, int):
        if size is None:
            if max_size is None:
                raise ValueError("Resize: size=None needs max_size (the longer edge)")
            short, long = min(height, width), max(height, width)
            new_long = max_size
            new_short = int(new_long * short / long)
        else:
            requested = size if isinstance(size, int) else size[0]
            short, long = (width, height) if width <= height else (height, width)
            new_short, new_long = requested, int(requested * long / short)
            if max_size is not None:
                if max_size <= requested:
                    raise ValueError(
                        f"max_size = {max_size} must be strictly greater than the requested size for the smaller "
                        f"edge size = {size}"
                    )
                if new_long > max_size:
                    new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if width <= height else (new_short, new_long)
    if max_size is not None:
        raise ValueError("max_size is only supported when size is an int or a 1-element sequence")
    return int(size[0]), int(size[1])


def check_size(size: Any, op: str) -> None:
    ok = size is None or (isinstance(size, int) and size > 0)
    if isinstance(size, (list, tuple)):
        ok = len(size) in (1, 2) and all(isinstance(s, int) and s > 0 for s in size)
    if not ok:
        raise ValueError(
            f"{op}: size must be a positive int, a sequence of 1 or 2 positive ints, or None; got {size!r}"
        )


__all__ = ["resize_planes", "resized_output_size", "check_size"]
