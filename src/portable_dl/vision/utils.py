"""``make_grid`` and ``save_image`` with torchvision's arguments and results (outside autograd)."""

from __future__ import annotations

import math
import os
from typing import Any, BinaryIO

from .._atomic import atomic_path
from ..ops.shape_join import stack
from ..tensor import Tensor
from ._image import np, require_pil


def _as_batch(tensor: Any) -> Tensor:
    if isinstance(tensor, (list, tuple)):
        if not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError("make_grid: a list must hold only Tensors")
        tensor = stack(list(tensor), dim=0)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"make_grid: tensor or list of tensors expected, got {type(tensor).__name__}")
    return tensor


def make_grid(tensor: Tensor | list[Tensor], nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:  # fmt: skip
    """Tile a batch ``B x C x H x W`` (or a list of ``C x H x W``) into one ``C x H' x W'`` image, ``nrow`` per row.

    One-channel images are repeated to three channels. ``normalize`` maps ``value_range`` (default: the min and max,
    per image with ``scale_each``) to [0, 1] after clamping. The result carries no autograd graph.
    """
    tensor = _as_batch(tensor)
    backend = tensor._backend
    xp = backend.xp
    data = tensor._data
    if data.ndim == 2:
        data = data[None]
    if data.ndim == 3:
        if data.shape[0] == 1:
            data = xp.concatenate([data, data, data], 0)
        data = data[None]
    if data.ndim != 4:
        raise ValueError(f"make_grid: expected a 2D, 3D or 4D tensor, got shape {tuple(tensor.shape)}")
    if data.shape[1] == 1:
        data = xp.concatenate([data, data, data], 1)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        data = data.copy()

        def norm_range(img: Any) -> None:
            low, high = value_range if value_range is not None else (float(img.min()), float(img.max()))
            xp.clip(img, low, high, out=img)
            img -= low
            img /= max(high - low, 1e-5)

        if scale_each:
            for img in data:
                norm_range(img)
        else:
            norm_range(data)
    if data.shape[0] == 1:
        return Tensor._wrap(data[0], backend)
    nmaps = int(data.shape[0])
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(data.shape[2] + padding), int(data.shape[3] + padding)
    grid = xp.full((data.shape[1], height * ymaps + padding, width * xmaps + padding), pad_value, dtype=data.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        top, left = y * height + padding, x * width + padding
        grid[:, top : top + height - padding, left : left + width - padding] = data[k]
    return Tensor._wrap(grid, backend)


def save_image(tensor: Tensor | list[Tensor], fp: str | os.PathLike | BinaryIO, format: str | None = None,  # noqa: A002
               **kwargs: Any) -> None:  # fmt: skip
    """Write ``make_grid(tensor, **kwargs)`` (values in [0, 1]) as an 8-bit image, PNG unless told otherwise.

    Pixels are ``clamp(x * 255 + 0.5, 0, 255)`` truncated, as torchvision does. A path is written atomically
    (a temporary file beside it, then a rename); Pillow picks the format from the extension when ``format`` is None.
    """
    image_module = require_pil()
    grid = make_grid(tensor, **kwargs)
    array = grid._backend.to_numpy(grid._data).astype(np.float64)
    pixels = np.clip(array * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    if pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    image = image_module.fromarray(np.ascontiguousarray(pixels))
    if not isinstance(fp, (str, os.PathLike)):
        image.save(fp, format=format or "PNG")
        return
    path = os.fspath(fp)
    fmt = format or (None if os.path.splitext(path)[1] else "PNG")
    with atomic_path(path, suffix=os.path.splitext(path)[1]) as tmp, open(tmp, "wb") as out:
        image.save(out, format=fmt or image_module.registered_extensions().get(os.path.splitext(path)[1].lower()))


__all__ = ["make_grid", "save_image"]
