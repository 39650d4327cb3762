"""Reductions (sum, mean, prod, var/std, max/min, amax/amin, argmax, logsumexp, norm, all/any)
and scans (cumsum, cumprod), with torch's argument names, result dtypes and gradients.

Every reduction takes ``dim`` as None (all dims), an int or a tuple of ints (where torch
does) and ``keepdim``. Backward formulas are written with Tensor ops (double backward works);
the hot ones also have a ``backward_arrays`` fast path that must agree with ``backward``.
"""

from __future__ import annotations

import builtins
import warnings
from collections import namedtuple
from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..tensor import Tensor
from ._common import assign_inplace, cast, normalize_dims, wrap_dim
from .linalg import _view

_INF = float("inf")
_NAN = float("nan")

# torch's scalar-type names, used in error messages ("Got: Long").
_TORCH_NAMES = {
    "float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "uint8": "Byte",
    "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool",
}  # fmt: skip


# ----- named tuples (torch.return_types.*) ---------------------------------------------------------
def return_type(name: str, fields: tuple = ("values", "indices")) -> type:
    """A ``torch.return_types.<name>``-like named tuple: unpackable, indexable and with attributes."""
    base = namedtuple(name, fields)  # type: ignore[misc]

    def __repr__(self: Any) -> str:  # noqa: N807
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"portable_dl.return_types.{name}(\n{body})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": "portable_dl.return_types"})


max_type = return_type("max")
min_type = return_type("min")
aminmax_type = return_type("aminmax", ("min", "max"))


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


def _binary_extreme(name: str, input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    from . import unary

    fn = getattr(unary, name, None)
    if fn is None:
        raise NotImplementedError(f"{name}() is not available yet (portable_dl.ops.unary)")
    return fn(input, other)


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


# ----- cumsum / cumprod --------------------------------------------------------------------------
def _scan_array(xp: Any, scan: Any, x: Any, axis: int, promote: bool) -> Any:
    """``scan`` (xp.cumsum or xp.cumprod) along ``axis`` with torch's dtypes: bool and integers give int64
    (``promote``) or keep their dtype, float16 accumulates in float32."""
    dt = (xp.int64 if promote else x.dtype) if x.dtype.kind in "biu" else None  # NumPy would widen small ints
    if x.ndim == 0:
        return x.astype(dt or x.dtype)
    if x.dtype.itemsize == 2 and x.dtype.kind == "f":
        return scan(x, axis=axis, dtype=xp.float32).astype(x.dtype)
    return scan(x, axis=axis, dtype=dt)


class Cumsum(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int, promote: bool = True) -> Any:
        ctx.axis = axis
        return _scan_array(ctx.xp, ctx.xp.cumsum, x, axis, promote)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        if grad._data.ndim == 0:
            return grad, None, None
        return _RevCumsum.apply(grad, ctx.axis), None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        if grad.ndim == 0:
            return grad, None, None
        return _rev_cumsum(ctx.xp, grad, ctx.axis), None, None


def _rev_cumsum(xp: Any, g: Any, axis: int) -> Any:
    return xp.flip(xp.cumsum(xp.flip(g, axis), axis=axis), axis)


class _RevCumsum(Function):
    """out[i] = sum_{k >= i} g[k] along ``axis`` (the adjoint of cumsum)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, g: Any, axis: int) -> Any:
        ctx.axis = axis
        return _rev_cumsum(ctx.xp, g, axis)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return Cumsum.apply(grad, ctx.axis), None


class Cumprod(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int, promote: bool = True) -> Any:
        ctx.axis = axis
        out = _scan_array(ctx.xp, ctx.xp.cumprod, x, axis, promote)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, out = ctx.saved_tensors
        xa = x._data
        axis = ctx.axis
        if xa.size <= 1 or xa.shape[axis] == 1:
            return grad, None, None
        zeros = xa == 0
        if not zeros.any():
            return _RevCumsum.apply(out * grad, axis) / x, None, None
        if not state.enabled:
            return _const(ctx, _cumprod_grad_zeros(ctx.xp, xa, out._data, grad._data, axis)), None, None
        return _cumprod_grad_quadratic(x, grad, axis), None, None


def _cumprod_grad_zeros(xp: Any, x: Any, out: Any, g: Any, axis: int) -> Any:
    """torch's O(n) cumprod gradient for inputs with zeros (not differentiable: no-grad mode only)."""
    w = out * g
    cs = xp.cumsum(x == 0, axis=axis)
    before = cs == 0  # [0, first zero)
    safe_x = xp.where(before, x, 1)
    grad_in = xp.where(before, _rev_cumsum(xp, xp.where(before, w, 0), axis) / safe_x, 0)
    one = cs == 1  # [first zero, second zero)
    first = (x == 0) & one
    between = one & ~first
    tail = xp.cumprod(xp.where(between, x, 1), axis=axis)
    s = (tail * xp.where(one, g, 0)).sum(axis=axis, keepdims=True)
    head = xp.cumprod(xp.where(first, 1, x), axis=axis)
    return xp.where(first, head * s, grad_in).astype(x.dtype, copy=False)


def _cumprod_grad_quadratic(x: Tensor, grad: Tensor, axis: int) -> Tensor:
    """Differentiable cumprod gradient with zeros: grad_i = sum_{k>=i} g_k prod_{j<=k, j!=i} x_j (O(n^2))."""
    xa = x._data
    xp = x._backend.xp
    shape = xa.shape
    n = shape[axis]
    lead, rest = shape[:axis], shape[axis + 1 :]
    tail = (1,) * len(rest)
    eye = xp.eye(n, dtype=xa.dtype).reshape((n, n) + tail)
    upper = xp.triu(xp.ones((n, n), dtype=xa.dtype)).reshape((n, n) + tail)  # [i, k] = k >= i
    xj = _view(x, lead + (1, n) + rest)  # x_j along axis + 1, broadcast over i along axis
    others = xj * Tensor._wrap(1 - eye, x._backend) + Tensor._wrap(eye, x._backend)  # x_j, 1 where j == i
    partial = Cumprod.apply(others, axis + 1)  # [i, k] = prod_{j<=k, j!=i} x_j
    gk = _view(grad, lead + (1, n) + rest)
    return Sum.apply(partial * gk * Tensor._wrap(upper, x._backend), (axis + 1,), False)


def _scan(cls: type, op: str, input: Tensor, dim: Any, dtype: Any) -> Tensor:  # noqa: A002
    if dim is None:
        raise TypeError(f"{op}() missing 1 required positional argument: 'dim'")
    axis = wrap_dim(dim, input._data.ndim, op)
    if dtype is not None:
        return cls.apply(cast(input, _dtype.to_dtype(dtype)), axis, False)
    return cls.apply(input, axis)


def cumsum(input: Tensor, dim: Any, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Cumulative sum along ``dim`` (bool and integer inputs give int64)."""
    return _scan(Cumsum, "cumsum", input, dim, dtype)


def cumprod(input: Tensor, dim: Any, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Cumulative product along ``dim``; the gradient is exact even where the input has zeros."""
    return _scan(Cumprod, "cumprod", input, dim, dtype)


def _cumsum_(self: Tensor, dim: Any, *, dtype: Any = None) -> Tensor:
    return assign_inplace(self, cumsum(self, dim, dtype=dtype), "cumsum_")


def _cumprod_(self: Tensor, dim: Any, *, dtype: Any = None) -> Tensor:
    # backward needs the old values: keep them in a copy, not in ``self`` (which is about to change)
    src = self.clone() if self.requires_grad and state.enabled else self
    return assign_inplace(self, cumprod(src, dim, dtype=dtype), "cumprod_")


# ----- norms -------------------------------------------------------------------------------------
class _VectorNorm(Function):
    _raw = True

    def name(self) -> str:
        return "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, p: float, axis: tuple | None, keepdim: bool) -> Any:
        xp = ctx.xp
        ctx.p = p
        ctx.axis = axis
        work = x.astype(xp.float32) if x.dtype.itemsize == 2 else x
        kw = {"axis": axis, "keepdims": keepdim}
        if p == 2:
            if axis is None and work.dtype.itemsize >= 4:  # BLAS dot: much faster than a square-and-sum
                flat = work.reshape(-1)
                out = xp.sqrt(flat @ flat)
                out = out.reshape((1,) * x.ndim) if keepdim else out
            else:
                out = xp.sqrt((work * work).sum(**kw))
        elif p == 1:
            out = xp.abs(work).sum(**kw)
        elif p == _INF:
            out = xp.abs(work).max(**kw)
        elif p == -_INF:
            out = xp.abs(work).min(**kw)
        elif p == 0:
            out = (work != 0).sum(**kw).astype(work.dtype)
        else:
            out = (xp.abs(work) ** p).sum(**kw) ** (1.0 / p)
        out = _asarray(xp, out, axis is None and not keepdim).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, norm = ctx.saved_tensors
        xp = ctx.xp
        p = ctx.p
        xa = x._data
        shape = xa.shape
        g = _keep(grad, shape, ctx.axis)
        norm = _keep(norm, shape, ctx.axis)
        if p == 0:
            return _const(ctx, xp.zeros(shape, dtype=xa.dtype)), None, None, None
        if p == 2:
            return g * _masked_div(ctx, x, norm), None, None, None
        sign = _Sign.apply(x)  # differentiable (zero derivative), as torch's sgn
        if p == 1:
            return sign * g, None, None, None
        if p in (_INF, -_INF):
            w = _tie_weights(xp, xp.abs(xa), norm._data, ctx.axis, True)
            return sign * (g * _const(ctx, w)), None, None, None
        abs_x = x * sign
        if p < 1:
            zero = xa == 0
            if zero.any():
                scaled = sign * (abs_x + _const(ctx, zero.astype(xa.dtype))) ** (p - 1) * _const(ctx, ~zero)
            else:
                scaled = sign * abs_x ** (p - 1)
            return scaled * g * norm ** (1 - p), None, None, None
        scaled = sign * abs_x ** (p - 1) if p < 2 else x * abs_x ** (p - 2)
        return scaled * _masked_div(ctx, g, norm ** (p - 1), norm._data), None, None, None


class _Sign(Function):
    """sign(x) with sign(nan) = 0 (torch's sgn); its derivative is zero."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        out = ctx.xp.sign(x)
        out[out != out] = 0
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return grad * 0.0


def _masked_div(ctx: Any, a: Tensor, b: Tensor, ref: Any = None) -> Tensor:
    """``a / b`` with 0 where ``ref`` (default ``b``) is 0 (torch's masked_fill_(norm == 0, 0))."""
    ref = b._data if ref is None else ref
    zero = ref == 0
    if not zero.any():
        return a / b
    return a / (b + _const(ctx, zero.astype(b._data.dtype))) * _const(ctx, ~zero)


def _norm_p(p: Any) -> float:
    if p is None or p == "fro":
        return 2.0
    if isinstance(p, str):
        raise NotImplementedError(f"norm(): p={p!r} is not supported (use 'fro' or a number)")
    return float(p)


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
                dtype: Any = None) -> Tensor:  # fmt: skip
    """``torch.linalg.vector_norm``: the ``ord``-norm of ``x`` over ``dim`` (all elements by default)."""
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {_torch_name(x._data.dtype)}"
        )
    p = _norm_p(ord)
    axis = _axes(dim, x._data.ndim, "linalg.vector_norm")
    if p < 0 or p == _INF:
        data = x._data
        if data.size == 0 and (axis is None or builtins.any(data.shape[d] == 0 for d in axis)):
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the operation "
                "does not have an identity"
            )
    return _VectorNorm.apply(x, p, axis, keepdim)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:  # noqa: A002
    """``torch.norm``: a vector norm over ``dim`` ('fro' = 2-norm, inf, -inf, 0, 1 or any p)."""
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


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
    "sum", "mean", "nansum", "nanmean", "prod", "var", "std", "var_mean", "std_mean", "max", "min",
    "amax", "amin", "aminmax", "argmax", "argmin", "logsumexp", "cumsum", "cumprod", "norm", "all", "any",
    "count_nonzero",
]  # fmt: skip
FUNCTIONAL: list[str] = []
TENSOR_METHODS: dict = {
    "sum": sum, "mean": mean, "nansum": nansum, "nanmean": nanmean, "prod": prod, "var": var, "std": std,
    "max": max, "min": min, "amax": amax, "amin": amin, "aminmax": aminmax, "argmax": argmax, "argmin": argmin,
    "logsumexp": logsumexp, "cumsum": cumsum, "cumprod": cumprod, "cumsum_": _cumsum_, "cumprod_": _cumprod_,
    "norm": norm, "all": all, "any": any, "count_nonzero": count_nonzero,
}  # fmt: skip
