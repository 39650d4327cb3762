"""Helpers shared by the reductions: dim handling, result shapes, named tuples and gathers along a dim."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import normalize_dims, wrap_dim
from .linalg import _view

# Every reduction takes ``dim`` as None (all dims), an int or a tuple of ints (where torch
# does) and ``keepdim``. Backward formulas are written with Tensor ops (double backward works);
# the hot ones also have a ``backward_arrays`` fast path that must agree with ``backward``.


_INF = float("inf")
_NAN = float("nan")

# torch's scalar-type names, used in error messages ("Got: Long").
_TORCH_NAMES = {
    "float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "uint8": "Byte",
    "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool",
}  # fmt: skip


# ----- named tuples (torch.return_types.*) -------------------------------------------------------
def return_type(name: str, fields: tuple = ("values", "indices")) -> type:
    """A ``torch.return_types.<name>``-like named tuple: unpackable, indexable and with attributes."""
    base = namedtuple(name, fields)  # type: ignore[misc]

    def __repr__(self: Any) -> str:  # noqa: N807
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"portable_dl.return_types.{name}(\n{body})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": "portable_dl.return_types"})


# ----- helpers -----------------------------------------------------------------------------------
def _torch_name(dt: Any) -> str:
    return _TORCH_NAMES.get(str(dt), str(dt))


def _axes(dim: Any, ndim: int, op: str) -> tuple | None:
    """``dim`` as None (reduce everything) or a sorted tuple of non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, int):
        axes: tuple = (wrap_dim(dim, ndim, op),)
    else:
        dims = tuple(dim)
        if not dims:
            return None  # torch: dim=() / [] reduces every dim
        axes = normalize_dims(dims, ndim, op)  # type: ignore[assignment]
    if ndim == 0:
        return None
    return axes


def _keep_shape(shape: tuple, axis: tuple | None) -> tuple:
    """``shape`` with the reduced dims kept as size 1 (the keepdim=True result shape)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else s for i, s in enumerate(shape))


def _out_shape(shape: tuple, axis: tuple | None, keepdim: bool) -> tuple:
    if keepdim:
        return _keep_shape(shape, axis)
    if axis is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in axis)


def _count(shape: tuple, axis: tuple | None) -> int:
    n = 1
    for i, s in enumerate(shape):
        if axis is None or i in axis:
            n *= s
    return n


def _asarray(xp: Any, value: Any, full: bool) -> Any:
    """NumPy returns scalars from full reductions; keep results as (0-d) arrays."""
    return xp.asarray(value) if full else value


def _keep(t: Tensor, in_shape: tuple, axis: tuple | None) -> Tensor:
    """A reduction result (or its gradient) with the reduced dims restored as size 1."""
    return _view(t, _keep_shape(in_shape, axis))


def _const(ctx: Any, array: Any) -> Tensor:
    return Tensor._wrap(array, ctx.backend)


def _tie_weights(xp: Any, x: Any, out: Any, axis: tuple | None, spread_nan: bool) -> Any:
    """Gradient weights of an extremum: 1/count at the (tied) extreme elements, 0 elsewhere."""
    o = out.reshape(_keep_shape(x.shape, axis))
    mask = x == o
    if spread_nan:
        mask |= xp.isnan(x) & xp.isnan(o)
    count = mask.sum(axis=axis, keepdims=True).astype(x.dtype)
    if not count.all():  # a NaN extremum without NaN-aware ties: torch's grad / 0 * 0 = NaN
        count = xp.where(count == 0, _NAN, count).astype(x.dtype)
    return mask.astype(x.dtype) / count


# ----- gathers and scatters along a dim (max/min along a dim, sorting) ---------------------------
def _along_index(xp: Any, idx: Any, axis: int) -> tuple:
    """The advanced index that addresses ``idx`` positions along ``axis`` (take/put_along_axis)."""
    if idx.ndim == 1:
        return (idx,)
    out = []
    nd = idx.ndim
    for d, n in enumerate(idx.shape):
        if d == axis:
            out.append(idx)
        else:
            shape = [1] * nd
            shape[d] = n
            out.append(xp.arange(n).reshape(shape))
    return tuple(out)


def _take_along(xp: Any, x: Any, idx: Any, axis: int, shape: tuple) -> Any:
    """The values of ``x`` at the ``idx`` positions along ``axis``, reshaped to ``shape``."""
    return x[_along_index(xp, idx, axis)].reshape(shape)


def _put_along(xp: Any, g: Any, idx: Any, axis: int, shape: tuple) -> Any:
    """Zeros of ``shape`` with ``g`` written at the ``idx`` positions along ``axis`` (the adjoint of _take_along)."""
    out = xp.zeros(shape, dtype=g.dtype)
    out[_along_index(xp, idx, axis)] = g.reshape(idx.shape)
    return out


class _TakeAlong(Function):
    """``take_along_axis(x, idx, axis)`` reshaped to ``out_shape``; idx unique along axis in our uses."""

    _raw = True

    def name(self) -> str:
        return "GatherBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, idx: Any, axis: int, out_shape: tuple) -> Any:
        ctx.in_shape = x.shape
        ctx.axis = axis
        ctx.save_for_backward(idx)
        return _take_along(ctx.xp, x, idx, axis, out_shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        (idx,) = ctx.saved_arrays
        return _PutAlong.apply(grad, _const(ctx, idx), ctx.axis, ctx.in_shape), None, None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        (idx,) = ctx.saved_arrays
        return _put_along(ctx.xp, grad, idx, ctx.axis, ctx.in_shape), None, None, None


class _PutAlong(Function):
    """Zeros of ``shape`` with ``g`` written at the ``idx`` positions along ``axis`` (adjoint of _TakeAlong)."""

    _raw = True

    def name(self) -> str:
        return "ScatterBackward0"

    @staticmethod
    def forward(ctx: Any, g: Any, idx: Any, axis: int, shape: tuple) -> Any:
        ctx.g_shape = g.shape
        ctx.axis = axis
        ctx.save_for_backward(idx)
        return _put_along(ctx.xp, g, idx, axis, shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        (idx,) = ctx.saved_arrays
        return _TakeAlong.apply(grad, _const(ctx, idx), ctx.axis, ctx.g_shape), None, None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        (idx,) = ctx.saved_arrays
        return _take_along(ctx.xp, grad, idx, ctx.axis, ctx.g_shape), None, None, None
