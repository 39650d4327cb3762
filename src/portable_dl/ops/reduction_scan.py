"""Cumulative scans: cumsum and cumprod (and their in-place methods)."""

from __future__ import annotations

from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..tensor import Tensor
from ._common import assign_inplace, cast, wrap_dim
from ._reduction_common import _const
from .linalg import _view
from .reduction_sum import Sum


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


__all__ = ["cumsum", "cumprod"]
FUNCTIONAL: list[str] = []
TENSOR_METHODS: dict = {"cumsum": cumsum, "cumprod": cumprod, "cumsum_": _cumsum_, "cumprod_": _cumprod_}
