"""Vector norms: norm and linalg.vector_norm."""

from __future__ import annotations

import builtins
from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import cast
from ._reduction_common import _INF, _asarray, _axes, _const, _keep, _tie_weights, _torch_name


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


__all__ = ["norm"]
FUNCTIONAL: list[str] = []
TENSOR_METHODS: dict = {"norm": norm}
