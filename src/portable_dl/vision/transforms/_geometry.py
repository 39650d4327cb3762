"""Crop, pad, flip and rotate on the planar ``[..., C, H, W]`` view, with torchvision's tensor-path rules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .._image import cast_back, np

PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def parse_padding(padding: Any, op: str) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` from an int, a 2-sequence (left/right, top/bottom) or a 4-sequence."""
    if isinstance(padding, int) and not isinstance(padding, bool):
        return padding, padding, padding, padding
    if isinstance(padding, Sequence) and len(padding) in (1, 2, 4) and all(isinstance(p, int) for p in padding):
        if len(padding) == 1:
            return (padding[0],) * 4
        if len(padding) == 2:
            return padding[0], padding[1], padding[0], padding[1]
        return tuple(padding)  # type: ignore[return-value]
    raise ValueError(f"{op}: padding must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}")


def pad_planes(planes: Any, xp: Any, padding: tuple[int, int, int, int], fill: Any, mode: str) -> Any:
    """Pad the last two axes; ``fill`` (a number, or one per channel) is used by ``constant`` mode only."""
    if mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {mode!r}")
    left, top, right, bottom = padding
    if min(padding) < 0:  # negative padding crops, as in torchvision
        h, w = planes.shape[-2], planes.shape[-1]
        planes = planes[..., max(-top, 0) : h - max(-bottom, 0), max(-left, 0) : w - max(-right, 0)]
        left, top, right, bottom = (max(p, 0) for p in padding)
    widths = [(0, 0)] * (planes.ndim - 2) + [(top, bottom), (left, right)]
    if mode != "constant":
        return xp.pad(planes, widths, mode=mode)
    if isinstance(fill, (list, tuple)) and len(fill) > 1:
        if len(fill) != planes.shape[-3]:
            raise ValueError(f"fill has {len(fill)} values but the image has {planes.shape[-3]} channels")
        out = xp.pad(planes, widths, mode="constant")
        inside = out[..., top : top + planes.shape[-2], left : left + planes.shape[-1]].copy()
        out[...] = xp.asarray(fill, dtype=planes.dtype).reshape(-1, 1, 1)
        out[..., top : top + planes.shape[-2], left : left + planes.shape[-1]] = inside
        return out
    value = fill[0] if isinstance(fill, (list, tuple)) else (0 if fill is None else fill)
    return xp.pad(planes, widths, mode="constant", constant_values=value)


def crop_planes(planes: Any, xp: Any, top: int, left: int, height: int, width: int) -> Any:
    """torchvision's ``crop``: a window that leaves the image is zero-padded."""
    h, w = int(planes.shape[-2]), int(planes.shape[-1])
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        padding = (max(-left, 0), max(-top, 0), max(right - w, 0), max(bottom - h, 0))
        planes = pad_planes(planes[..., max(top, 0) : bottom, max(left, 0) : right], xp, padding, 0, "constant")
        return planes
    return planes[..., top:bottom, left:right]


def center_crop_planes(planes: Any, xp: Any, size: tuple[int, int]) -> Any:
    """torchvision's ``center_crop``: pad with zeros when the crop is larger, offsets rounded as ``round()`` does."""
    th, tw = size
    h, w = int(planes.shape[-2]), int(planes.shape[-1])
    if th > h or tw > w:
        padding = (
            (tw - w) // 2 if tw > w else 0,
            (th - h) // 2 if th > h else 0,
            (tw - w + 1) // 2 if tw > w else 0,
            (th - h + 1) // 2 if th > h else 0,
        )
        planes = pad_planes(planes, xp, padding, 0, "constant")
        h, w = int(planes.shape[-2]), int(planes.shape[-1])
        if (h, w) == (th, tw):
            return planes
    top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
    return planes[..., top : top + th, left : left + tw]


def rotation_matrix(angle: float, center: tuple[float, float]) -> list[float]:
    """torchvision's inverse affine matrix for ``rotate`` (output pixel -> input pixel, centred coordinates)."""
    rot = math.radians(-angle)
    a, b, c, d = math.cos(rot), -math.sin(rot), math.sin(rot), math.cos(rot)
    matrix = [d, -b, 0.0, -c, a, 0.0]
    cx, cy = center
    matrix[2] += matrix[0] * (-cx) + matrix[1] * (-cy) + cx
    matrix[5] += matrix[3] * (-cx) + matrix[4] * (-cy) + cy
    return matrix


def expanded_size(matrix: list[float], width: int, height: int) -> tuple[int, int]:
    """``(width, height)`` that holds the whole rotated image (torchvision's ``_compute_affine_output_size``)."""
    corners = np.array([[-0.5 * width, -0.5 * height, 1.0], [-0.5 * width, 0.5 * height, 1.0],
                        [0.5 * width, 0.5 * height, 1.0], [0.5 * width, -0.5 * height, 1.0]])  # fmt: skip
    points = corners @ np.array(matrix, dtype=np.float64).reshape(2, 3).T
    tol = 1e-4
    cmax = np.ceil(np.trunc(points.max(0) / tol) * tol)
    cmin = np.floor(np.trunc(points.min(0) / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def rotate_planes(planes: Any, xp: Any, angle: float, mode: str, expand: bool, center: Any, fill: Any) -> Any:
    """Rotate counter-clockwise by ``angle`` degrees, sampling as ``grid_sample(align_corners=False)`` does."""
    h, w = int(planes.shape[-2]), int(planes.shape[-1])
    center_f = (0.0, 0.0) if center is None else (float(center[0]) - 0.5 * w, float(center[1]) - 0.5 * h)
    m = rotation_matrix(angle, center_f)
    ow, oh = expanded_size(m, w, h) if expand else (w, h)
    ys, xs = np.meshgrid(np.arange(oh, dtype=np.float64) - (oh - 1) / 2, np.arange(ow, dtype=np.float64) - (ow - 1) / 2,
                         indexing="ij")  # fmt: skip
    src_x = m[0] * xs + m[1] * ys + m[2] + (w - 1) / 2
    src_y = m[3] * xs + m[4] * ys + m[5] + (h - 1) / 2
    values = planes.astype(planes.dtype if planes.dtype.kind == "f" else np.float32, copy=False)
    if mode == "nearest":
        ix, iy = np.rint(src_x).astype(np.int64), np.rint(src_y).astype(np.int64)
        inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        ix_d, iy_d = xp.asarray(np.clip(ix, 0, w - 1)), xp.asarray(np.clip(iy, 0, h - 1))
        out = values[..., iy_d, ix_d] * xp.asarray(inside.astype(values.dtype))
        mask = xp.asarray(inside.astype(values.dtype))
    elif mode == "bilinear":
        x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
        fx, fy = src_x - x0, src_y - y0
        out = xp.zeros(values.shape[:-2] + (oh, ow), dtype=values.dtype)
        mask = xp.zeros((oh, ow), dtype=values.dtype)
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                ix, iy = x0 + dx, y0 + dy
                inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
                weight = xp.asarray((wx * wy * inside).astype(values.dtype))
                out += values[..., xp.asarray(np.clip(iy, 0, h - 1)), xp.asarray(np.clip(ix, 0, w - 1))] * weight
                mask += weight
    else:
        raise ValueError(f"rotate: interpolation must be 'nearest' or 'bilinear', got {mode!r}")
    if fill is None:  # torchvision samples with zero padding and no mask blend
        return cast_back(out, planes, xp)
    fill_values = list(fill) if isinstance(fill, (list, tuple)) else [float(fill)]
    if len(fill_values) not in (1, planes.shape[-3]):
        raise ValueError(f"fill has {len(fill_values)} values but the image has {planes.shape[-3]} channels")
    fill_img = xp.asarray(np.array(fill_values, dtype=np.float64).reshape(-1, 1, 1).astype(values.dtype))
    if mode == "bilinear":
        out = out * mask + (1.0 - mask) * fill_img
    else:
        out = xp.where(mask < 0.5, fill_img, out)
    return cast_back(out, planes, xp)
