"""Sums and statistics: sum, mean, nansum, nanmean, prod, var/std, logsumexp, all/any/count_nonzero."""

from __future__ import annotations

import builtins
import warnings
from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..tensor import Tensor
from ._common import cast
from ._reduction_common import (
    _INF,
    _NAN,
    _asarray,
    _axes,
    _const,
    _count,
    _keep,
    _keep_shape,
    _out_shape,
    _torch_name,
)
from .linalg import _view


# ----- sum / mean --------------------------------------------------------------------------------
def _sum_array(xp: Any, x: Any, axis: tuple | None, keepdim: bool, promote: bool = True) -> Any:
    kind = x.dtype.kind
    if kind in "biu":
        if not promote:
            return _asarray(xp, x.sum(axis=axis, keepdims=keepdim, dtype=x.dtype), axis is None and not keepdim)
        out = x.sum(axis=axis, keepdims=keepdim, dtype=xp.int64)
    elif x.dtype.itemsize == 2:  # float16: accumulate in float32 like torch
        out = x.sum(axis=axis, keepdims=keepdim, dtype=xp.float32).astype(x.dtype)
    else:
        out = x.sum(axis=axis, keepdims=keepdim)
    return _asarray(xp, out, axis is None and not keepdim)


def _unreduce_array(grad: Any, in_shape: tuple, axis: tuple | None, xp: Any) -> Any:
    return xp.broadcast_to(grad.reshape(_keep_shape(in_shape, axis)), in_shape)


class Sum(Function):
    _raw = True

    def name(self) -> str:
        return "SumBackward0" if self.axis is None else "SumBackward1"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: tuple | None, keepdim: bool, promote: bool = True) -> Any:
        ctx.in_shape = x.shape
        ctx.axis = axis
        return _sum_array(ctx.xp, x, axis, keepdim, promote)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return _Unreduce.apply(grad, ctx.in_shape, ctx.axis), None, None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        return _unreduce_array(grad, ctx.in_shape, ctx.axis, ctx.xp), None, None, None


class _Unreduce(Function):
    """Broadcast a reduction's gradient back over the reduced dims (the adjoint of Sum)."""

    _raw = True

    def name(self) -> str:
        return "ExpandBackward0"

    @staticmethod
    def forward(ctx: Any, g: Any, in_shape: tuple, axis: tuple | None) -> Any:
        ctx.axis = axis
        ctx.keepdim = g.ndim == len(in_shape)
        return _unreduce_array(g, in_shape, axis, ctx.xp)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return Sum.apply(grad, ctx.axis, ctx.keepdim), None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        return _sum_array(ctx.xp, grad, ctx.axis, ctx.keepdim), None, None


class Mean(Function):
    _raw = True

    def name(self) -> str:
        return "MeanBackward0" if self.axis is None else "MeanBackward1"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: tuple | None, keepdim: bool) -> Any:
        xp = ctx.xp
        ctx.in_shape = x.shape
        ctx.axis = axis
        n = _count(x.shape, axis)
        ctx.scale = 1.0 / n if n else 0.0
        if n == 0:
            return xp.full(_out_shape(x.shape, axis, keepdim), _NAN, dtype=x.dtype)
        if x.dtype.itemsize == 2:
            out = x.mean(axis=axis, keepdims=keepdim, dtype=xp.float32).astype(x.dtype)
        else:
            out = x.mean(axis=axis, keepdims=keepdim)
        return _asarray(xp, out, axis is None and not keepdim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return _Unreduce.apply(grad * ctx.scale, ctx.in_shape, ctx.axis), None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        return _unreduce_array(grad * ctx.scale, ctx.in_shape, ctx.axis, ctx.xp), None, None


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001, A002
    """Sum over ``dim`` (all dims by default); bool and integer inputs sum to int64."""
    if dtype is not None:
        x = cast(input, _dtype.to_dtype(dtype))
        return Sum.apply(x, _axes(dim, x._data.ndim, "sum"), keepdim, False)
    return Sum.apply(input, _axes(dim, input._data.ndim, "sum"), keepdim)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Arithmetic mean over ``dim``; integer inputs need a float ``dtype`` (as in torch). Empty -> nan."""
    if dtype is not None:
        dt = _dtype.to_dtype(dtype)
        if not dt.is_floating_point:
            raise RuntimeError(
                "mean(): could not infer output dtype. Optional dtype must be either a floating point or "
                f"complex dtype. Got: {_torch_name(dt)}"
            )
        x = cast(input, dt)
    elif input._data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {_torch_name(input._data.dtype)}"
        )
    else:
        x = input
    return Mean.apply(x, _axes(dim, x._data.ndim, "mean"), keepdim)


class _NanSum(Function):
    _raw = True

    def name(self) -> str:
        return "NansumBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: tuple | None, keepdim: bool, promote: bool) -> Any:
        xp = ctx.xp
        ctx.axis = axis
        ctx.save_for_backward(x)
        if x.dtype.kind == "f":
            x = xp.where(xp.isnan(x), 0, x).astype(x.dtype, copy=False)
        return _sum_array(xp, x, axis, keepdim, promote)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        (x,) = ctx.saved_arrays
        xp = ctx.xp
        mask = _const(ctx, (~xp.isnan(x)).astype(x.dtype))
        return _keep(grad, x.shape, ctx.axis) * mask, None, None, None


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Sum treating NaN as zero."""
    x = input if dtype is None else cast(input, _dtype.to_dtype(dtype))
    return _NanSum.apply(x, _axes(dim, x._data.ndim, "nansum"), keepdim, dtype is None)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Mean of the non-NaN elements (NaN where there are none)."""
    x = input if dtype is None else cast(input, _dtype.to_dtype(dtype))
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"nanmean(): expected input to have floating point or complex dtype but got {_torch_name(x._data.dtype)}"
        )
    axis = _axes(dim, x._data.ndim, "nanmean")
    xp = x._backend.xp
    count = (~xp.isnan(x._data)).sum(axis=axis, keepdims=keepdim).astype(x._data.dtype)
    return _NanSum.apply(x, axis, keepdim, True) / Tensor._wrap(xp.asarray(count), x._backend)


# ----- prod ----------------------------------------------------------------------------------------
class Prod(Function):
    _raw = True

    def name(self) -> str:
        return "ProdBackward0" if self.axis is None else "ProdBackward1"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: tuple | None, keepdim: bool, promote: bool = True) -> Any:
        xp = ctx.xp
        ctx.axis = axis
        kind = x.dtype.kind
        if kind in "biu":
            out = x.prod(axis=axis, keepdims=keepdim, dtype=xp.int64 if promote else x.dtype)
        elif x.dtype.itemsize == 2:
            out = x.prod(axis=axis, keepdims=keepdim, dtype=xp.float32).astype(x.dtype)
        else:
            out = x.prod(axis=axis, keepdims=keepdim)
        out = _asarray(xp, out, axis is None and not keepdim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, out = ctx.saved_tensors
        xp = ctx.xp
        shape = x._data.shape
        if x._data.ndim == 0:
            return grad, None, None, None
        g = _keep(grad, shape, ctx.axis)
        zeros = x._data == 0
        if not zeros.any():
            return g * (_keep(out, shape, ctx.axis) / x), None, None, None
        if ctx.axis is None:
            if not state.enabled and int(zeros.sum()) > 1:
                return _const(ctx, xp.zeros(shape, dtype=x._data.dtype)), None, None, None
            flat = _view(x, (x._data.size,))
            return g * _view(_prod_others(flat, 0), shape), None, None, None
        return g * _prod_others(x, ctx.axis[0]), None, None, None


def _prod_others(x: Tensor, axis: int) -> Tensor:
    """For each element, the product of the other elements of its slice along ``axis`` (zero-safe)."""
    from .reduction_scan import cumprod  # reduction_scan imports Sum from here

    left = cumprod(_Shift.apply(x, axis, 1), axis)
    right = _Flip.apply(cumprod(_Shift.apply(_Flip.apply(x, axis), axis, 1), axis), axis)
    return left * right


class _Shift(Function):
    """out[i] = x[i - 1] along ``axis`` with ``fill`` at i = 0 (a linear shift plus a constant)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int, fill: float) -> Any:
        xp = ctx.xp
        ctx.axis = axis
        out = xp.empty_like(x)
        n = x.shape[axis]
        head = [slice(None)] * x.ndim
        rest = [slice(None)] * x.ndim
        src = [slice(None)] * x.ndim
        head[axis] = slice(0, 1)
        rest[axis] = slice(1, n)
        src[axis] = slice(0, n - 1)
        out[tuple(head)] = fill
        out[tuple(rest)] = x[tuple(src)]
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return _Flip.apply(_Shift.apply(_Flip.apply(grad, ctx.axis), ctx.axis, 0.0), ctx.axis), None, None


class _Flip(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int) -> Any:
        ctx.axis = axis
        return ctx.xp.flip(x, axis)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return _Flip.apply(grad, ctx.axis), None


def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Product over one ``dim`` (or all elements); bool and integer inputs give int64."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    axis = _axes(dim, input._data.ndim, "prod")
    if dtype is not None:
        return Prod.apply(cast(input, _dtype.to_dtype(dtype)), axis, keepdim, False)
    return Prod.apply(input, axis, keepdim)


# ----- var / std ---------------------------------------------------------------------------------
class _Var(Function):
    _raw = True

    def name(self) -> str:
        return "StdBackward0" if self.take_sqrt else "VarBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: tuple | None, keepdim: bool, correction: float, take_sqrt: bool) -> Any:
        xp = ctx.xp
        ctx.axis = axis
        ctx.take_sqrt = take_sqrt
        n = _count(x.shape, axis)
        dof = builtins.max(n - correction, 0)
        ctx.dof = dof
        if n == 0:
            out = xp.full(_out_shape(x.shape, axis, keepdim), _NAN, dtype=x.dtype)
        else:
            work = x.astype(xp.float32) if x.dtype.itemsize == 2 else x
            diff = work - work.sum(axis=axis, keepdims=True) * (1.0 / n)
            ss = (diff * diff).sum(axis=axis, keepdims=keepdim)
            if dof > 0:
                out = ss / dof
            else:
                out = xp.where(ss > 0, _INF, _NAN).astype(ss.dtype)
            if take_sqrt:
                out = xp.sqrt(out)
            out = _asarray(xp, out, axis is None and not keepdim).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out if take_sqrt else None)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, out = ctx.saved_tensors
        shape = x._data.shape
        g = _keep(grad, shape, ctx.axis)
        if ctx.take_sqrt:
            o = _keep(out, shape, ctx.axis)
            zero = o._data == 0
            if zero.any():
                g = g / (o * 2.0 + _const(ctx, zero.astype(o._data.dtype))) * _const(ctx, ~zero)
            else:
                g = g / (o * 2.0)
        scale = 2.0 / ctx.dof if ctx.dof else _INF
        centered = x - Mean.apply(x, ctx.axis, True)
        return g * centered * scale, None, None, None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        x, out = ctx.saved_arrays
        shape = x.shape
        keep = _keep_shape(shape, ctx.axis)
        g = grad.reshape(keep)
        if ctx.take_sqrt:
            o = out.reshape(keep)
            zero = o == 0
            g = g / (o * 2 + zero) * ~zero if zero.any() else g / (o * 2)
        scale = 2.0 / ctx.dof if ctx.dof else _INF
        n = _count(shape, ctx.axis)
        centered = x - (x.sum(axis=ctx.axis, keepdims=True) * (1.0 / n)).astype(x.dtype, copy=False)
        return (g * centered * scale).astype(x.dtype, copy=False), None, None, None, None


def _var_args(op: str, input: Tensor, dim: Any, unbiased: Any, correction: Any) -> tuple:  # noqa: A002
    if isinstance(dim, bool):  # var(x, True): the legacy ``unbiased`` positional
        dim, unbiased = None, dim
    if input._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if correction is not None and unbiased is not None:
        raise RuntimeError(f"{op}: can't pass both unbiased and correction")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axis = _axes(dim, input._data.ndim, op)
    if _count(input._data.shape, axis) - correction <= 0:
        warnings.warn(
            f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor "
            "(input numel divided by output numel).",
            UserWarning,
            stacklevel=3,
        )
    return axis, correction


def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,  # noqa: A002
        correction: Any = None) -> Tensor:  # fmt: skip
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` means 0)."""
    axis, correction = _var_args("var", input, dim, unbiased, correction)
    return _Var.apply(input, axis, keepdim, correction, False)


def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,  # noqa: A002
        correction: Any = None) -> Tensor:  # fmt: skip
    """Standard deviation over ``dim`` (see ``var``)."""
    axis, correction = _var_args("std", input, dim, unbiased, correction)
    return _Var.apply(input, axis, keepdim, correction, True)


def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,  # noqa: A002
             correction: Any = None) -> tuple:  # fmt: skip
    """``(var, mean)`` over ``dim``."""
    axis, correction = _var_args("var_mean", input, dim, unbiased, correction)
    return _Var.apply(input, axis, keepdim, correction, False), Mean.apply(input, axis, keepdim)


def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,  # noqa: A002
             correction: Any = None) -> tuple:  # fmt: skip
    """``(std, mean)`` over ``dim``."""
    axis, correction = _var_args("std_mean", input, dim, unbiased, correction)
    return _Var.apply(input, axis, keepdim, correction, True), Mean.apply(input, axis, keepdim)


# ----- logsumexp ---------------------------------------------------------------------------------
class Logsumexp(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: tuple | None, keepdim: bool) -> Any:
        xp = ctx.xp
        ctx.axis = axis
        if x.size == 0:
            out = xp.full(_out_shape(x.shape, axis, keepdim), -_INF, dtype=x.dtype)
        else:
            m = x.max(axis=axis, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0).astype(x.dtype, copy=False)
            s = xp.exp(x - m).sum(axis=axis, keepdims=True)
            out = xp.log(s) + m
            if not keepdim:
                out = out.reshape(_out_shape(x.shape, axis, False))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, out = ctx.saved_tensors
        shape = x._data.shape
        return _keep(grad, shape, ctx.axis) * (x - _keep(out, shape, ctx.axis)).exp(), None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        x, out = ctx.saved_arrays
        keep = _keep_shape(x.shape, ctx.axis)
        return grad.reshape(keep) * ctx.xp.exp(x - out.reshape(keep)), None, None


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``log(sum(exp(x)))`` over ``dim``, computed stably (integer inputs give the default float)."""
    x = input if input._data.dtype.kind == "f" else cast(input, _dtype.get_default_dtype())
    return Logsumexp.apply(x, _axes(dim, x._data.ndim, "logsumexp"), keepdim)


# ----- all / any / count_nonzero -----------------------------------------------------------------
class _Logical(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: tuple | None, keepdim: bool, name: str) -> Any:
        xp = ctx.xp
        if name == "count_nonzero":
            out = (x != 0).sum(axis=axis, keepdims=keepdim, dtype=xp.int64)
        else:
            out = x.all(axis=axis, keepdims=keepdim) if name == "all" else x.any(axis=axis, keepdims=keepdim)
            if x.dtype == xp.uint8:
                out = out.astype(xp.uint8)
        return _asarray(xp, out, axis is None and not keepdim)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """True where every element along ``dim`` is nonzero (uint8 inputs give uint8, like torch)."""
    return _Logical.apply(input, _axes(dim, input._data.ndim, "all"), keepdim, "all")


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """True where some element along ``dim`` is nonzero (uint8 inputs give uint8, like torch)."""
    return _Logical.apply(input, _axes(dim, input._data.ndim, "any"), keepdim, "any")


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    """The number of nonzero elements along ``dim`` (int64)."""
    return _Logical.apply(input, _axes(dim, input._data.ndim, "count_nonzero"), False, "count_nonzero")


__all__ = [
    "sum", "mean", "nansum", "nanmean", "prod", "var", "std", "var_mean", "std_mean", "logsumexp", "all", "any",
    "count_nonzero",
]  # fmt: skip
FUNCTIONAL: list[str] = []
TENSOR_METHODS: dict = {
    "sum": sum, "mean": mean, "nansum": nansum, "nanmean": nanmean, "prod": prod, "var": var, "std": std,
    "logsumexp": logsumexp, "all": all, "any": any, "count_nonzero": count_nonzero,
}  # fmt: skip
