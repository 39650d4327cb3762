"""softmax, log_softmax and softmin: numerically stable, with fused backward formulas.

The gradient of softmax is ``y * (g - sum(g * y))`` and that of log_softmax ``g - exp(y) * sum(g)``;
each is its own Function (fast array path, Tensor-op backward) so double backward works.
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import cast, check_tensor, wrap_dim


def softmax_array(xp: Any, x: Any, dim: int, safe: bool = False) -> Any:
    """Softmax of an array along ``dim``; ``safe`` gives 0 (not nan) for rows that are all -inf."""
    if x.size == 0:
        return xp.empty_like(x)
    if x.ndim == 0:
        return softmax_array(xp, x.reshape(1), 0, safe).reshape(())
    half = x.dtype == xp.float16
    if half:
        x = x.astype(xp.float32)
    m = x.max(axis=dim, keepdims=True)
    if safe:
        m = xp.where(m == -xp.inf, 0, m)
    e = x - m
    xp.exp(e, out=e)
    s = e.sum(axis=dim, keepdims=True)
    if safe:
        s = xp.where(s == 0, 1, s)
    e /= s
    return e.astype(xp.float16) if half else e


def _log_softmax_array(xp: Any, x: Any, dim: int) -> Any:
    if x.size == 0:
        return xp.empty_like(x)
    if x.ndim == 0:
        return _log_softmax_array(xp, x.reshape(1), 0).reshape(())
    half = x.dtype == xp.float16
    if half:
        x = x.astype(xp.float32)
    y = x - x.max(axis=dim, keepdims=True)
    y -= xp.log(xp.exp(y).sum(axis=dim, keepdims=True))
    return y.astype(xp.float16) if half else y


def _softmax_grad(xp: Any, g: Any, y: Any, dim: int) -> Any:
    if y.ndim == 0:
        return xp.zeros_like(y)  # the softmax of one element is constant
    gy = g * y
    gy -= y * gy.sum(axis=dim, keepdims=True)
    return gy


def _log_softmax_grad(xp: Any, g: Any, y: Any, dim: int) -> Any:
    if y.ndim == 0:
        return g - xp.exp(y) * g
    return g - xp.exp(y) * g.sum(axis=dim, keepdims=True)


class Softmax(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, dim: int, safe: bool = False) -> Any:
        ctx.dim = dim
        y = softmax_array(ctx.xp, x, dim, safe)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        (y,) = ctx.saved_tensors
        return SoftmaxBackward.apply(grad, y, ctx.dim), None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        (y,) = ctx.saved_arrays
        return _softmax_grad(ctx.xp, grad, y, ctx.dim), None, None


class SoftmaxBackward(Function):
    """``y * (g - sum(g * y, dim))``: the gradient of softmax, differentiable in ``g`` and ``y``."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, g: Any, y: Any, dim: int) -> Any:
        ctx.dim = dim
        ctx.save_for_backward(g, y)
        return _softmax_grad(ctx.xp, g, y, dim)

    @staticmethod
    def backward(ctx: Any, h: Tensor) -> Any:
        g, y = ctx.saved_tensors
        dim = ctx.dim
        need_g, need_y = ctx.needs_input_grad[:2]
        gg = SoftmaxBackward.apply(h, y, dim) if need_g else None
        gy = None
        if need_y:
            s_g = (g * y).sum(dim, keepdim=True)
            s_h = (h * y).sum(dim, keepdim=True)
            gy = h * (g - s_g) - g * s_h
        return gg, gy, None

    @staticmethod
    def backward_arrays(ctx: Any, h: Any) -> Any:
        g, y = ctx.saved_arrays
        dim = ctx.dim
        need_g, need_y = ctx.needs_input_grad[:2]
        gg = _softmax_grad(ctx.xp, h, y, dim) if need_g else None
        gy = None
        if need_y:
            if y.ndim == 0:
                s_g, s_h = g * y, h * y
            else:
                s_g = (g * y).sum(axis=dim, keepdims=True)
                s_h = (h * y).sum(axis=dim, keepdims=True)
            gy = h * (g - s_g) - g * s_h
        return gg, gy, None


class LogSoftmax(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, dim: int) -> Any:
        ctx.dim = dim
        y = _log_softmax_array(ctx.xp, x, dim)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        (y,) = ctx.saved_tensors
        return LogSoftmaxBackward.apply(grad, y, ctx.dim), None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        (y,) = ctx.saved_arrays
        return _log_softmax_grad(ctx.xp, grad, y, ctx.dim), None


class LogSoftmaxBackward(Function):
    """``g - exp(y) * sum(g, dim)``: the gradient of log_softmax, differentiable in ``g`` and ``y``."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, g: Any, y: Any, dim: int) -> Any:
        ctx.dim = dim
        ctx.save_for_backward(g, y)
        return _log_softmax_grad(ctx.xp, g, y, dim)

    @staticmethod
    def backward(ctx: Any, h: Tensor) -> Any:
        g, y = ctx.saved_tensors
        dim = ctx.dim
        need_g, need_y = ctx.needs_input_grad[:2]
        p = y.exp()
        gg = h - (h * p).sum(dim, keepdim=True) if need_g else None
        gy = -(h * p) * g.sum(dim, keepdim=True) if need_y else None
        return gg, gy, None

    @staticmethod
    def backward_arrays(ctx: Any, h: Any) -> Any:
        g, y = ctx.saved_arrays
        need_g, need_y = ctx.needs_input_grad[:2]
        hp = h * ctx.xp.exp(y)
        if y.ndim == 0:
            return (h - hp if need_g else None), (-hp * g if need_y else None), None
        gg = h - hp.sum(axis=ctx.dim, keepdims=True) if need_g else None
        gy = -hp * g.sum(axis=ctx.dim, keepdims=True) if need_y else None
        return gg, gy, None


def _implicit_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _prepare(x: Tensor, dim: Any, stacklevel: Any, dtype: Any, name: str) -> tuple:
    check_tensor(x, name)
    if isinstance(stacklevel, _dtype.dtype):  # torch.softmax(x, dim, dtype) spelled positionally
        dtype, stacklevel = stacklevel, 3
    if dim is None:
        dim = _implicit_dim(name, x._data.ndim, stacklevel + 1)
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    if x._data.dtype.kind != "f":
        raise NotImplementedError(
            f"{name}: not implemented for {x.dtype} tensors; use a floating point input or pass dtype="
        )
    return x, wrap_dim(dim, x._data.ndim, name)


def softmax(input: Tensor, dim: Any = None, _stacklevel: Any = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """Softmax along ``dim``: ``exp(x) / exp(x).sum(dim)``, computed stably."""
    x, dim = _prepare(input, dim, _stacklevel, dtype, "softmax")
    return Softmax.apply(x, dim)


def log_softmax(input: Tensor, dim: Any = None, _stacklevel: Any = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """``log(softmax(x))`` along ``dim``, computed stably."""
    x, dim = _prepare(input, dim, _stacklevel, dtype, "log_softmax")
    return LogSoftmax.apply(x, dim)


def softmin(input: Tensor, dim: Any = None, _stacklevel: Any = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """``softmax(-x)`` along ``dim``."""
    x, dim = _prepare(input, dim, _stacklevel, dtype, "softmin")
    return Softmax.apply(-x, dim)


def _softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return softmax(self, dim, dtype=dtype)


def _log_softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return log_softmax(self, dim, dtype=dtype)


__all__ = ["softmax", "log_softmax"]
FUNCTIONAL = ["softmax", "log_softmax", "softmin"]
TENSOR_METHODS = {"softmax": _softmax_method, "log_softmax": _log_softmax_method}
