"""Ops that copy data into a new arrangement: repeat/tile/repeat_interleave, flip/roll/rot90, pad."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import to_shape, wrap_dim
from .broadcast import sum_to
from .indexing import IndexSelect
from .shape_view import Transpose, View, _ints, _reshape


# ----- repeat / tile -------------------------------------------------------------------------------
class Repeat(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, reps: tuple) -> Any:
        ctx.in_shape = x.shape
        padded = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.reps = reps
        ctx.padded = padded
        return ctx.xp.tile(x.reshape(padded), reps)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        reps, padded = ctx.reps, ctx.padded
        inter: list = []
        target: list = []
        for r, s in zip(reps, padded):
            inter += [r, s]
            target += [1, s]
        g = sum_to(_reshape(grad, tuple(inter)), tuple(target))
        return _reshape(g, ctx.in_shape), None


def _repeat(input: Tensor, reps: tuple) -> Tensor:  # noqa: A002
    if len(reps) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(reps)}")
    return Repeat.apply(input, reps)


def repeat(self: Tensor, *sizes: Any) -> Tensor:
    return _repeat(self, to_shape(sizes, "repeat"))


def tile(input: Tensor, dims: Any) -> Tensor:  # noqa: A002
    dims = _ints(dims, "tile")
    nd = input._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + dims
    return _repeat(input, dims)


def _tile_method(self: Tensor, *dims: Any) -> Tensor:
    return tile(self, to_shape(dims, "tile"))


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,  # noqa: A002
                      output_size: int | None = None) -> Tensor:  # fmt: skip
    if repeats is None:  # torch.repeat_interleave(repeats): indices repeated by their counts
        counts = input
        xp = counts._backend.xp
        data = xp.repeat(xp.arange(counts._data.shape[0]), counts._data.tolist())  # CuPy wants host counts
        return Tensor._wrap(data.astype(counts._data.dtype, copy=False), counts._backend)
    if dim is None:
        input = _reshape(input, (-1,))  # noqa: A001
        dim = 0
    dim = wrap_dim(dim, input._data.ndim, "repeat_interleave")
    xp = input._backend.xp
    n = input._data.shape[dim] if input._data.ndim else 1
    if isinstance(repeats, Tensor):
        counts = repeats._data
        if counts.ndim == 0 or counts.shape == (1,):
            counts = int(counts.reshape(()))
        elif counts.shape != (n,):
            raise RuntimeError("repeats must have the same size as input along dim")
        else:
            counts = counts.tolist()  # CuPy's repeat takes host counts
    else:
        counts = int(repeats)
    if (min(counts) if isinstance(counts, list) and counts else counts) < 0:
        raise RuntimeError("repeats can not be negative")
    index = xp.repeat(xp.arange(n), counts)
    if input._data.ndim == 0:
        input = View.apply(input, (1,))  # noqa: A001
    return IndexSelect.apply(input, Tensor._wrap(index, input._backend), dim)


# ----- flip / roll / rot90 --------------------------------------------------------------------------
class Flip(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, dims: tuple) -> Any:
        ctx.dims = dims
        if not dims:
            return x.copy()
        return ctx.xp.flip(x, axis=dims).copy()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return Flip.apply(grad, ctx.dims), None


def flip(input: Tensor, dims: Any) -> Tensor:  # noqa: A002
    nd = input._data.ndim
    dims = tuple(wrap_dim(d, nd, "flip") for d in _ints(dims, "flip"))
    if len(set(dims)) != len(dims):
        raise RuntimeError(
            f"dims has duplicates, original flip dims size={len(dims)}, but unique flip dims size={len(set(dims))}"
        )
    if nd == 0:
        dims = ()
    return Flip.apply(input, dims)


def _flip_method(self: Tensor, *dims: Any) -> Tensor:
    if len(dims) == 1:
        dims = dims[0]
    return flip(self, dims)


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return Flip.apply(input, (1,))


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return Flip.apply(input, (0,))


class Roll(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, shifts: tuple, dims: Any) -> Any:
        ctx.args = (shifts, dims)
        if dims is None:
            return ctx.xp.roll(x.reshape(-1), shifts[0]).reshape(x.shape)
        return ctx.xp.roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        shifts, dims = ctx.args
        return Roll.apply(grad, tuple(-s for s in shifts), dims), None, None


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:  # noqa: A002
    shifts = _ints(shifts, "roll")
    nd = input._data.ndim
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: 0")
        return Roll.apply(input, shifts, None)
    dims = tuple(wrap_dim(d, nd, "roll") for d in _ints(dims, "roll"))
    if len(dims) != len(shifts):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    if nd == 0:
        return Roll.apply(input, shifts, None)
    return Roll.apply(input, shifts, dims)


def rot90(input: Tensor, k: int = 1, dims: Any = (0, 1)) -> Tensor:  # noqa: A002
    dims = _ints(dims, "rot90")
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = wrap_dim(dims[0], nd, "rot90"), wrap_dim(dims[1], nd, "rot90")
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return Transpose.apply(Flip.apply(input, (d1,)), d0, d1)
    if k == 2:
        return Flip.apply(input, (d0, d1))
    if k == 3:
        return Flip.apply(Transpose.apply(input, d0, d1), (d1,))
    return Flip.apply(input, ())


# ----- pad -----------------------------------------------------------------------------------------
class ConstantPad(Function):
    """Pad (or, with negative widths, crop) every dim by ``widths[d] = (before, after)``."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, widths: tuple, value: Any) -> Any:
        ctx.widths = widths
        out_shape = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, widths))
        if any(s < 0 for s in out_shape):
            raise RuntimeError(
                f"The input size {list(x.shape)}, plus negative padding {list(widths)} resulted in a negative "
                f"output size, which is invalid. Check dimension of your input."
            )
        out = ctx.xp.full(out_shape, value, dtype=x.dtype)
        src = []
        dst = []
        for s, (lo, hi) in zip(x.shape, widths):
            src.append(slice(max(-lo, 0), s - max(-hi, 0)))
            dst.append(slice(max(lo, 0), max(lo, 0) + max(s - max(-lo, 0) - max(-hi, 0), 0)))
        out[tuple(dst)] = x[tuple(src)]
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return ConstantPad.apply(grad, tuple((-lo, -hi) for lo, hi in ctx.widths), 0), None, None


def _pad_index(xp: Any, size: int, lo: int, hi: int, mode: str) -> Any:
    if mode == "reflect":
        idx = xp.arange(-lo, size + hi)
        idx = xp.abs(idx)
        return xp.where(idx > size - 1, 2 * (size - 1) - idx, idx)
    if mode == "replicate":
        return xp.clip(xp.arange(-lo, size + hi), 0, size - 1)
    # circular: torch crops negative widths first, then wraps around what is left
    start = max(-lo, 0)
    kept = size - start - max(-hi, 0)
    return start + (xp.arange(size + lo + hi) - max(lo, 0)) % kept


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: Any = None) -> Tensor:  # noqa: A002
    widths = [int(p) for p in pad]
    shape = input._data.shape
    nd = len(shape)
    if len(widths) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(widths) // 2
    if k > nd:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding "
            f"length {len(widths)} and input of dimension {nd}"
        )
    per_dim = [(0, 0)] * nd
    for i in range(k):
        per_dim[nd - 1 - i] = (widths[2 * i], widths[2 * i + 1])
    if mode == "constant":
        fill = 0 if value is None else value
        return ConstantPad.apply(input, tuple(per_dim), fill)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if not (k in (1, 2, 3) and k + 1 <= nd <= k + 2):
        raise NotImplementedError(
            f"Padding size {len(widths)} is not supported for {nd}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    xp = input._backend.xp
    out = input
    for d in range(nd - k, nd):
        lo, hi = per_dim[d]
        if lo == 0 and hi == 0:
            continue
        size = shape[d]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({lo}, {hi}) at dimension {d} of input {list(shape)}"
            )
        if mode == "circular" and (lo > size or hi > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "replicate" and size == 0:
            raise RuntimeError(f"padding size should be greater than 0 for dimension {d} of input {list(shape)}")
        if size + lo + hi < 0:
            raise RuntimeError(
                f"input tensor size {list(shape)} with padding {widths} results in a negative output size"
            )
        index = Tensor._wrap(_pad_index(xp, size, lo, hi, mode), input._backend)
        out = IndexSelect.apply(out, index, d)
    return out if out is not input else View.apply(input, shape)


__all__ = ["tile", "repeat_interleave", "flip", "fliplr", "flipud", "roll", "rot90"]
FUNCTIONAL = ["pad"]
TENSOR_METHODS = {
    "repeat": repeat, "tile": _tile_method, "repeat_interleave": repeat_interleave,
    "flip": _flip_method, "fliplr": fliplr, "flipud": flipud, "roll": roll, "rot90": rot90,
}  # fmt: skip
