"""Colour adjustments with torchvision's tensor formulas (``_blend``, grayscale weights, HSV round trip).

Integer images follow torchvision: blends are clamped to the type's range and truncated back to the integer type;
hue works in float ``[0, 1]`` and converts back with ``x * (255 + 1 - 1e-3)`` truncated.
"""

from __future__ import annotations

from typing import Any

from .._image import is_float, max_value


def _blend(img1: Any, img2: Any, ratio: float, xp: Any) -> Any:
    bound = max_value(img1)
    out = xp.clip(
        ratio * img1.astype(xp.float32 if not is_float(img1) else img1.dtype) + (1.0 - ratio) * img2, 0, bound
    )
    return out.astype(img1.dtype)


def rgb_to_grayscale(planes: Any, xp: Any) -> Any:
    """``0.2989 R + 0.587 G + 0.114 B`` in the image's dtype (truncated for integers), one channel kept."""
    if planes.shape[-3] != 3:
        raise ValueError(f"rgb_to_grayscale: expected 3 channels, got {planes.shape[-3]}")
    r, g, b = (planes[..., i, :, :].astype(xp.float32 if not is_float(planes) else planes.dtype) for i in range(3))
    return (0.2989 * r + 0.587 * g + 0.114 * b).astype(planes.dtype)[..., None, :, :]


def _check_channels(planes: Any, op: str) -> None:
    if planes.shape[-3] not in (1, 3):
        raise ValueError(f"{op}: expected an image with 1 or 3 channels, got {planes.shape[-3]}")


def adjust_brightness(planes: Any, xp: Any, factor: float) -> Any:
    if factor < 0:
        raise ValueError(f"brightness_factor ({factor}) is not non-negative")
    return _blend(planes, xp.zeros((), dtype=xp.float32), factor, xp)


def adjust_contrast(planes: Any, xp: Any, factor: float) -> Any:
    if factor < 0:
        raise ValueError(f"contrast_factor ({factor}) is not non-negative")
    _check_channels(planes, "adjust_contrast")
    gray = rgb_to_grayscale(planes, xp) if planes.shape[-3] == 3 else planes
    mean = gray.astype(xp.float32 if not is_float(gray) else gray.dtype).mean(axis=(-3, -2, -1), keepdims=True)
    return _blend(planes, mean, factor, xp)


def adjust_saturation(planes: Any, xp: Any, factor: float) -> Any:
    if factor < 0:
        raise ValueError(f"saturation_factor ({factor}) is not non-negative")
    _check_channels(planes, "adjust_saturation")
    if planes.shape[-3] == 1:
        return planes
    return _blend(planes, rgb_to_grayscale(planes, xp), factor, xp)


def _rgb2hsv(img: Any, xp: Any) -> Any:
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc, minc = img.max(axis=-3), img.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    ones = xp.ones_like(maxc)
    s = cr / xp.where(eqc, ones, maxc)
    divisor = xp.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = xp.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return h, s, maxc


def _hsv2rgb(h: Any, s: Any, v: Any, xp: Any) -> Any:
    i = xp.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(xp.int32) % 6
    p = xp.clip(v * (1.0 - s), 0.0, 1.0)
    q = xp.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = xp.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    channels = [xp.select([i == k for k in range(6)], [c[ch] for c in choices]) for ch in range(3)]
    return xp.stack(channels, axis=-3)


def adjust_hue(planes: Any, xp: Any, factor: float) -> Any:
    if not -0.5 <= factor <= 0.5:
        raise ValueError(f"hue_factor ({factor}) is not in [-0.5, 0.5]")
    _check_channels(planes, "adjust_hue")
    if planes.shape[-3] == 1:
        return planes
    img = planes if is_float(planes) else planes.astype(xp.float32) / max_value(planes)
    h, s, v = _rgb2hsv(img, xp)
    out = _hsv2rgb((h + factor) % 1.0, s, v, xp).astype(img.dtype)
    if is_float(planes):
        return out.astype(planes.dtype)
    return (out * (max_value(planes) + 1.0 - 1e-3)).astype(planes.dtype)
