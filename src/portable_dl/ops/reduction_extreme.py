"""Extremes: max, min, amax, amin, aminmax, argmax, argmin."""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import wrap_dim
from ._reduction_common import (
    _along_index,
    _asarray,
    _axes,
    _const,
    _keep,
    _keep_shape,
    _put_along,
    _PutAlong,
    _tie_weights,
    return_type,
)

max_type = return_type("max")
min_type = return_type("min")
aminmax_type = return_type("aminmax", ("min", "max"))


# ----- max / min / amax / amin -------------------------------------------------------------------
def _check_nonempty(op: str, x: Any, axis: tuple | None, exc: type = RuntimeError) -> None:
    if x.size:
        return
    if axis is None:
        raise exc(
            f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )
    for d in axis:
        if x.shape[d] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


class _Extreme(Function):
    """amax/amin, and full max()/min() (which spread the gradient over tied and NaN extremes)."""

    _raw = True

    def name(self) -> str:
        return self.op_name

    @staticmethod
    def forward(ctx: Any, x: Any, axis: tuple | None, keepdim: bool, is_max: bool, full: bool) -> Any:
        xp = ctx.xp
        ctx.axis = axis
        ctx.full = full
        if full:
            ctx.op_name = "MaxBackward1" if is_max else "MinBackward1"
        else:
            ctx.op_name = "AmaxBackward0" if is_max else "AminBackward0"
        out = x.max(axis=axis, keepdims=keepdim) if is_max else x.min(axis=axis, keepdims=keepdim)
        out = _asarray(xp, out, axis is None and not keepdim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, out = ctx.saved_arrays
        w = _tie_weights(ctx.xp, x, out, ctx.axis, ctx.full)
        return _keep(grad, x.shape, ctx.axis) * _const(ctx, w), None, None, None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        x, out = ctx.saved_arrays
        w = _tie_weights(ctx.xp, x, out, ctx.axis, ctx.full)
        return grad.reshape(_keep_shape(x.shape, ctx.axis)) * w, None, None, None, None


class _ExtremeDim(Function):
    """max/min along one dim: (values, indices); the gradient goes to the selected index only."""

    _raw = True

    def name(self) -> str:
        return "MaxBackward0" if self.is_max else "MinBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int, keepdim: bool, is_max: bool) -> Any:
        xp = ctx.xp
        ctx.is_max = is_max
        ctx.in_shape = x.shape
        ctx.axis = axis
        if x.ndim == 0:
            return x.copy(), xp.zeros((), dtype=xp.int64)
        idx = (x.argmax if is_max else x.argmin)(axis=axis, keepdims=True).astype(xp.int64, copy=False)
        values = x[_along_index(xp, idx, axis)]
        ctx.save_for_backward(idx)
        if not keepdim:
            return values.squeeze(axis), idx.squeeze(axis)
        return values, idx

    @staticmethod
    def backward(ctx: Any, grad: Tensor, grad_indices: Any = None) -> Any:
        if len(ctx.in_shape) == 0:
            return grad, None, None, None
        (idx,) = ctx.saved_arrays
        return _PutAlong.apply(grad, _const(ctx, idx), ctx.axis, ctx.in_shape), None, None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any, grad_indices: Any = None) -> Any:
        if len(ctx.in_shape) == 0:
            return grad, None, None, None
        (idx,) = ctx.saved_arrays
        return _put_along(ctx.xp, grad, idx, ctx.axis, ctx.in_shape), None, None, None


def _binary_extreme(name: str, input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``max(a, b)`` / ``min(a, b)``: the elementwise ``maximum`` / ``minimum``."""
    from . import selection

    return getattr(selection, name)(input, other)


def _extreme(op: str, is_max: bool, input: Tensor, dim: Any, keepdim: bool) -> Any:  # noqa: A002
    x = input._data
    if dim is None:
        _check_nonempty(op, x, None)
        return _Extreme.apply(input, None, keepdim, is_max, True)
    if isinstance(dim, Tensor):
        return _binary_extreme("maximum" if is_max else "minimum", input, dim)
    if not isinstance(dim, int):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    axis = wrap_dim(dim, x.ndim, op)
    if x.ndim:
        _check_nonempty(op, x, (axis,))
    values, indices = _ExtremeDim.apply(input, axis, keepdim, is_max)
    return (max_type if is_max else min_type)(values, indices)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001, A002
    """``max(x)``: the largest value; ``max(x, dim)``: (values, indices); ``max(x, other)``: maximum."""
    return _extreme("max", True, input, dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001, A002
    """``min(x)``: the smallest value; ``min(x, dim)``: (values, indices); ``min(x, other)``: minimum."""
    return _extreme("min", False, input, dim, keepdim)


def _amax(op: str, is_max: bool, input: Tensor, dim: Any, keepdim: bool) -> Tensor:  # noqa: A002
    x = input._data
    axis = _axes(dim, x.ndim, op)
    _check_nonempty(op, x, axis)
    return _Extreme.apply(input, axis, keepdim, is_max, False)


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:  # noqa: A002
    """The maximum over ``dim`` (all dims by default); the gradient is shared evenly among ties."""
    return _amax("amax", True, input, dim, keepdim)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:  # noqa: A002
    """The minimum over ``dim`` (all dims by default); the gradient is shared evenly among ties."""
    return _amax("amin", False, input, dim, keepdim)


def aminmax(input: Tensor, *, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A002
    """``(min, max)`` over ``dim`` (an int) or over all elements."""
    x = input._data
    axis = None if dim is None else (wrap_dim(dim, x.ndim, "aminmax"),)
    if x.ndim == 0:
        axis = None
    if x.size == 0 and (axis is None or x.shape[axis[0]] == 0):
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
        )
    return aminmax_type(
        _Extreme.apply(input, axis, keepdim, False, False), _Extreme.apply(input, axis, keepdim, True, False)
    )


class _ArgExtreme(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: Any, keepdim: bool, is_max: bool) -> Any:
        xp = ctx.xp
        if axis is None:
            flat = x.reshape(-1)
            out = flat.argmax() if is_max else flat.argmin()
            out = xp.asarray(out, dtype=xp.int64)
            return out.reshape((1,) * x.ndim) if keepdim else out
        out = (x.argmax if is_max else x.argmin)(axis=axis, keepdims=keepdim)
        return out.astype(xp.int64, copy=False)


def _argextreme(op: str, is_max: bool, input: Tensor, dim: Any, keepdim: bool) -> Tensor:  # noqa: A002
    x = input._data
    if x.dtype.kind == "b":
        raise RuntimeError(f"{op}(): does not support bool input")
    if dim is None:
        if x.size == 0:
            raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
        return _ArgExtreme.apply(input, None, keepdim, is_max)
    if not isinstance(dim, int):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    axis = wrap_dim(dim, x.ndim, op)
    if x.ndim == 0:
        return _ArgExtreme.apply(input, None, False, is_max)
    _check_nonempty(op, x, (axis,))
    return _ArgExtreme.apply(input, axis, keepdim, is_max)


def argmax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Index of the (first) maximum along ``dim``; over the flattened tensor when ``dim`` is None."""
    return _argextreme("argmax", True, input, dim, keepdim)


def argmin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Index of the (first) minimum along ``dim``; over the flattened tensor when ``dim`` is None."""
    return _argextreme("argmin", False, input, dim, keepdim)


__all__ = ["max", "min", "amax", "amin", "aminmax", "argmax", "argmin"]
FUNCTIONAL: list[str] = []
TENSOR_METHODS: dict = {
    "max": max, "min": min, "amax": amax, "amin": amin, "aminmax": aminmax, "argmax": argmax, "argmin": argmin,
}  # fmt: skip
