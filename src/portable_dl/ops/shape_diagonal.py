"""Triangles and diagonals of matrices: tril/triu, diagonal, diag_embed, diag."""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import wrap_dim
from .shape_view import View


class Tri(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, k: int, upper: bool) -> Any:
        ctx.args = (k, upper)
        return ctx.xp.triu(x, k) if upper else ctx.xp.tril(x, k)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return Tri.apply(grad, *ctx.args), None, None


def _tri(name: str, upper: bool) -> Any:
    def op(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
        if input._data.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        return Tri.apply(input, int(diagonal), upper)

    def op_(self: Tensor, diagonal: int = 0) -> Tensor:
        from ._common import assign_inplace

        return assign_inplace(self, op(self, diagonal), name + "_")

    op.__name__ = name
    op_.__name__ = name + "_"
    return op, op_


tril, tril_ = _tri("tril", False)
triu, triu_ = _tri("triu", True)


def _writable(array: Any) -> Any:
    flags = array.flags
    if getattr(flags, "writeable", True) is False:
        flags.writeable = True  # NumPy's diagonal views are read-only by default; torch's are writable
    return array


class Diagonal(Function):
    _raw = True
    _is_view = True

    @staticmethod
    def forward(ctx: Any, x: Any, offset: int, dim1: int, dim2: int) -> Any:
        ctx.args = (x.shape, offset, dim1, dim2)
        return _writable(ctx.xp.diagonal(x, offset, dim1, dim2))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        shape, offset, dim1, dim2 = ctx.args
        return DiagonalScatter.apply(grad, shape, offset, dim1, dim2), None, None, None


class DiagonalCopy(Diagonal):
    """``torch.diag`` of a matrix: the diagonal as a new tensor."""

    _is_view = False

    @staticmethod
    def forward(ctx: Any, x: Any, offset: int, dim1: int, dim2: int) -> Any:
        ctx.args = (x.shape, offset, dim1, dim2)
        return ctx.xp.diagonal(x, offset, dim1, dim2).copy()


class DiagonalScatter(Function):
    """Zeros of ``shape`` with ``src`` written on a diagonal (diagonal's adjoint, and diag_embed)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, src: Any, shape: tuple, offset: int, dim1: int, dim2: int) -> Any:
        ctx.args = (offset, dim1, dim2)
        out = ctx.xp.zeros(shape, dtype=src.dtype)
        _writable(ctx.xp.diagonal(out, offset, dim1, dim2))[...] = src
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return Diagonal.apply(grad, *ctx.args), None, None, None, None


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    nd = input._data.ndim
    d1, d2 = wrap_dim(dim1, nd, "diagonal"), wrap_dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, int(offset), d1, d2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    shape = input._data.shape
    nd = len(shape) + 1
    d1, d2 = wrap_dim(dim1, nd, "diag_embed"), wrap_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (shape[-1] if shape else 1) + abs(int(offset))
    batch = list(shape[:-1])
    lo, hi = sorted((d1, d2))
    batch.insert(lo, n)
    batch.insert(hi, n)
    if not shape:
        input = View.apply(input, (1,))  # noqa: A001
    return DiagonalScatter.apply(input, tuple(batch), int(offset), d1, d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    nd = input._data.ndim
    if nd == 1:
        return diag_embed(input, diagonal, 0, 1)
    if nd == 2:
        return DiagonalCopy.apply(input, int(diagonal), 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")


__all__ = ["tril", "triu", "diagonal", "diag_embed", "diag"]
FUNCTIONAL: list[str] = []
TENSOR_METHODS = {
    "tril": tril, "triu": triu, "tril_": tril_, "triu_": triu_,
    "diagonal": diagonal, "diag_embed": diag_embed, "diag": diag,
}  # fmt: skip
