"""Elementwise selection: clamp/clip, maximum/minimum, where."""

from __future__ import annotations

import warnings
from typing import Any

from .. import _dtype
from .._dtype import FROM_NUMPY
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import cast, check_tensor, promote_operands, result_type
from ._elementwise import TORCH_TYPE_NAMES, _binary_tensors, _const, _shape, _write_out, inplace, select
from .broadcast import _sum_to, sum_to


# ----- clamp ----------------------------------------------------------------------------------------
class Clamp(Function):
    """``min(max(x, lo), hi)``; ``lo``/``hi`` are arrays (tensors), numbers or None."""

    _raw = True

    def name(self) -> str:
        return self._name

    @staticmethod
    def forward(ctx: Any, x: Any, lo: Any, hi: Any, name: str) -> Any:
        xp = ctx.xp
        out = x if lo is None else xp.maximum(x, lo)
        if hi is not None:
            out = xp.minimum(out, hi)
        ctx._name = name
        ctx.save_for_backward(x, lo, hi)
        return out

    @staticmethod
    def _masks(xp: Any, x: Any, lo: Any, hi: Any, need: tuple) -> tuple:
        """Where each input gets the gradient (torch's clamp_backward_min_max)."""
        mx = mlo = mhi = None
        if lo is not None and hi is not None:
            if need[0]:
                mx = (x >= lo) & (x <= hi)
            if need[1]:
                mlo = (x < lo) & (lo < hi)
            if need[2]:
                mhi = (x > hi) | (hi < lo)
        elif lo is not None:
            mx = x >= lo if need[0] else None
            mlo = x < lo if need[1] else None
        else:
            mx = x <= hi if need[0] else None
            mhi = x > hi if need[2] else None
        return mx, mlo, mhi

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, lo, hi = ctx.saved_arrays
        need = ctx.needs_input_grad
        masks = Clamp._masks(ctx.xp, x, lo, hi, need)
        grads = []
        for mask, v in zip(masks, (x, lo, hi)):
            if mask is None:
                grads.append(None)
            else:
                grads.append(sum_to(where(_const(mask, grad), grad, 0.0), v.shape))
        return (*grads, None)

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        x, lo, hi = ctx.saved_arrays
        xp = ctx.xp
        masks = Clamp._masks(xp, x, lo, hi, ctx.needs_input_grad)
        grads = []
        for mask, v in zip(masks, (x, lo, hi)):
            grads.append(None if mask is None else _sum_to(xp, select(xp, mask, grad, 0), v.shape))
        return (*grads, None)


def _wrap_int(value: int, dt: _dtype.dtype) -> int:
    span = 1 << (8 * dt.itemsize)
    low = -(span >> 1) if dt.is_signed else 0
    return value if low <= value < low + span else (value - low) % span + low


def _bound(value: Any, dt: _dtype.dtype, op: str) -> Any:
    """A clamp bound in the result dtype: a Tensor cast to it, or a number converted to it."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        return cast(value, dt)
    if not isinstance(value, (int, float, bool)):
        raise TypeError(f"{op}(): min and max must be Tensors or numbers, got {type(value).__name__}")
    if dt.is_floating_point:
        return float(value)
    if dt is _dtype.bool_:
        return bool(value)
    return dt.np.type(_wrap_int(int(value), dt))


def _clamp(input: Tensor, min: Any, max: Any, op: str, kind: str) -> Tensor:  # noqa: A002
    check_tensor(input, op)
    if min is None and max is None:
        raise RuntimeError(f"torch.{op}: At least one of 'min' or 'max' must not be None")
    tensors = isinstance(min, Tensor) or isinstance(max, Tensor)
    if type(min) is float and max is None and input._data.dtype.kind == "f":
        dt = FROM_NUMPY[input._data.dtype]  # the common case, fast
    else:
        dt = result_type(input, *[v for v in (min, max) if v is not None])
    x = cast(input, dt)
    suffix = ("Backward0" if tensors else "Backward1") if kind == "Clamp" else ("Backward1" if tensors else "Backward0")
    return Clamp.apply(x, _bound(min, dt, op), _bound(max, dt, op), kind + suffix)


def clamp(input: Tensor, min: Any = None, max: Any = None, *, out: Any = None) -> Tensor:  # noqa: A002
    """Clamp into ``[min, max]`` (numbers or broadcastable tensors); the gradient passes at the bounds."""
    result = _clamp(input, min, max, "clamp", "Clamp")
    return result if out is None else _write_out(out, result, "clamp")


clip = clamp


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return _clamp(input, min, None, "clamp_min", "ClampMin")


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return _clamp(input, None, max, "clamp_max", "ClampMax")


# ----- maximum / minimum ----------------------------------------------------------------------------
class _MaxMin(Function):
    """maximum/minimum: the gradient goes to the larger (smaller) input; ties share it half and half."""

    _raw = True
    _ufunc = "maximum"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return getattr(ctx.xp, ctx._ufunc)(a, b)

    @staticmethod
    def _masks(ctx: Any, a: Any, b: Any) -> tuple:
        """(tie mask, where a loses, where b loses), as torch's masked_fill_ conditions."""
        if ctx._ufunc == "maximum":
            return a == b, a < b, a > b
        return a == b, a > b, a < b

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        a, b = ctx.saved_arrays
        tie, a_loses, b_loses = _MaxMin._masks(ctx, a, b)
        shared = where(_const(tie, grad), grad / 2, grad)
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(where(_const(a_loses, grad), 0.0, shared), a.shape) if need_a else None
        gb = sum_to(where(_const(b_loses, grad), 0.0, shared), b.shape) if need_b else None
        return ga, gb

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        a, b = ctx.saved_arrays
        xp = ctx.xp
        tie, a_loses, b_loses = _MaxMin._masks(ctx, a, b)
        shared = select(xp, tie, grad / 2, grad)
        need_a, need_b = ctx.needs_input_grad
        ga = _sum_to(xp, select(xp, a_loses, 0, shared), a.shape) if need_a else None
        gb = _sum_to(xp, select(xp, b_loses, 0, shared), b.shape) if need_b else None
        return ga, gb


class Maximum(_MaxMin):
    _ufunc = "maximum"


class Minimum(_MaxMin):
    _ufunc = "minimum"


def maximum(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """Elementwise maximum of two tensors (nan propagates)."""
    _binary_tensors(input, other, "maximum")
    a, b = promote_operands(input, other, "maximum")
    result = Maximum.apply(a, b)
    return result if out is None else _write_out(out, result, "maximum")


def minimum(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """Elementwise minimum of two tensors (nan propagates)."""
    _binary_tensors(input, other, "minimum")
    a, b = promote_operands(input, other, "minimum")
    result = Minimum.apply(a, b)
    return result if out is None else _write_out(out, result, "minimum")


# ----- where ----------------------------------------------------------------------------------------
class Where(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, cond: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(cond)
        ctx.shapes = (_shape(a), _shape(b))
        return select(ctx.xp, cond, a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        (cond,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        _, need_a, need_b = ctx.needs_input_grad
        ga = sum_to(Where.apply(cond, grad, 0.0), sa) if need_a else None
        gb = sum_to(Where.apply(cond, 0.0, grad), sb) if need_b else None
        return None, ga, gb

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        (cond,) = ctx.saved_arrays
        sa, sb = ctx.shapes
        xp = ctx.xp
        _, need_a, need_b = ctx.needs_input_grad
        ga = _sum_to(xp, select(xp, cond, grad, 0), sa) if need_a else None
        gb = _sum_to(xp, select(xp, cond, 0, grad), sb) if need_b else None
        return None, ga, gb


def _scalar_as(value: Any, dt: _dtype.dtype, like: Tensor) -> Any:
    """A number as a 0-d array of dtype ``dt`` on ``like``'s device."""
    return like._backend.asarray(float(value) if dt.is_floating_point else value, dtype=dt.np)


def where(condition: Tensor, input: Any = None, other: Any = None, *, out: Any = None) -> Any:  # noqa: A002
    """``input`` where ``condition`` holds, else ``other`` (tensors or numbers, broadcast and promoted).

    With only ``condition``: the indices of its nonzero elements, as a tuple (``nonzero(as_tuple=True)``).
    """
    check_tensor(condition, "where", "condition")
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if input is None or other is None:
        raise TypeError("where(): expected both input and other, or neither")
    kind = condition._data.dtype.kind
    if kind != "b":
        if condition._data.dtype.name != "uint8":
            raise RuntimeError(
                "where expected condition to be a boolean tensor, but got a tensor with dtype "
                f"{TORCH_TYPE_NAMES[condition._data.dtype.name]}"
            )
        warnings.warn(
            "where received a uint8 condition tensor. This behavior is deprecated and will be removed in a "
            "future version of PyTorch. Use a boolean condition instead.",
            UserWarning,
            stacklevel=2,
        )
        condition = cast(condition, _dtype.bool_)
    ta, tb = isinstance(input, Tensor), isinstance(other, Tensor)
    if ta and tb and input._data.dtype == other._data.dtype:
        a, b = input, other
    else:
        dt = result_type(input, other)
        a = cast(input, dt) if ta else _scalar_as(input, dt, condition)
        b = cast(other, dt) if tb else _scalar_as(other, dt, condition)
    result = Where.apply(condition, a, b)
    return result if out is None else _write_out(out, result, "where")


def _tensor_where(self: Tensor, condition: Tensor, y: Any) -> Tensor:
    return where(condition, self, y)


_CLAMP = {"clamp": clamp, "clip": clip, "clamp_min": clamp_min, "clamp_max": clamp_max}

__all__ = [*_CLAMP, "maximum", "minimum", "where", *[name + "_" for name in _CLAMP]]
FUNCTIONAL: list[str] = []
TENSOR_METHODS: dict = {
    **_CLAMP, "maximum": maximum, "minimum": minimum, "where": _tensor_where,
    **{name + "_": inplace(fn, name + "_") for name, fn in _CLAMP.items()},
}  # fmt: skip
for _name in __all__:
    if _name.endswith("_"):
        globals()[_name] = TENSOR_METHODS[_name]
