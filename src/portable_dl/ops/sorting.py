"""Sorting and selection: sort, argsort, topk, kthvalue (values and int64 indices, like torch).

NaN sorts as the largest value (torch's order). Gradients of the values scatter back to the
positions they came from (``_PutAlong``, whose own backward is a gather: double backward works).
"""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import wrap_dim
from ._reduction_common import _along_index, _const, _put_along, _PutAlong, return_type

sort_type = return_type("sort")
topk_type = return_type("topk")
kthvalue_type = return_type("kthvalue")


def _slice(ndim: int, axis: int, sl: slice) -> tuple:
    index = [slice(None)] * ndim
    index[axis] = sl
    return tuple(index)


def _argsort(xp: Any, x: Any, axis: int, descending: bool, stable: bool) -> Any:
    """Indices sorting ``x`` along ``axis``; descending keeps equal elements in their original order."""
    kind = "stable" if stable else None
    if not descending:
        idx = xp.argsort(x, axis=axis, kind=kind)
    else:
        # argsort of the reversed array, reversed again: descending, NaN first, ties in original order
        rev = _slice(x.ndim, axis, slice(None, None, -1))
        idx = (x.shape[axis] - 1) - xp.argsort(x[rev], axis=axis, kind=kind)[rev]
    return idx.astype(xp.int64, copy=False)


class _Select(Function):
    """Values of ``x`` at the indices chosen along ``axis`` plus the indices (sort, topk, kthvalue)."""

    _raw = True

    def name(self) -> str:
        return self.op_name

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int, mode: str, arg: Any, flag: bool, keepdim: bool) -> Any:
        xp = ctx.xp
        ctx.in_shape = x.shape
        ctx.axis = axis
        ctx.op_name = {"sort": "SortBackward0", "topk": "TopkBackward0", "kthvalue": "KthvalueBackward0"}[mode]
        if x.ndim == 0:
            return x.copy(), xp.zeros((), dtype=xp.int64)
        if mode == "sort":  # arg: descending, flag: stable
            idx = _argsort(xp, x, axis, arg, flag)
        elif mode == "topk":  # arg: k, flag: largest
            idx = _topk_indices(ctx, x, axis, arg, flag)
        else:  # kthvalue: arg = k (1-based)
            idx = _kth_indices(ctx, x, axis, arg)
        values = x[_along_index(xp, idx, axis)]
        ctx.save_for_backward(idx)
        if mode == "kthvalue" and not keepdim:
            return values.squeeze(axis), idx.squeeze(axis)
        return values, idx

    @staticmethod
    def backward(ctx: Any, grad: Tensor, grad_indices: Any = None) -> Any:
        if grad is None:
            return None, None, None, None, None, None
        if len(ctx.in_shape) == 0:
            return grad, None, None, None, None, None
        (idx,) = ctx.saved_arrays
        return _PutAlong.apply(grad, _const(ctx, idx), ctx.axis, ctx.in_shape), None, None, None, None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any, grad_indices: Any = None) -> Any:
        if grad is None:
            return None, None, None, None, None, None
        if len(ctx.in_shape) == 0:
            return grad, None, None, None, None, None
        (idx,) = ctx.saved_arrays
        return _put_along(ctx.xp, grad, idx, ctx.axis, ctx.in_shape), None, None, None, None, None


def _topk_indices(ctx: Any, x: Any, axis: int, k: int, largest: bool) -> Any:
    xp = ctx.xp
    n = x.shape[axis]
    if k == 0:
        shape = list(x.shape)
        shape[axis] = 0
        return xp.zeros(tuple(shape), dtype=xp.int64)
    if ctx.backend.name == "numpy" and 4 * k < n:
        # partial selection first (NumPy's argpartition orders NaN last, as a sort does), then sort k
        if largest:
            part = xp.argpartition(x, n - k, axis=axis)[_slice(x.ndim, axis, slice(n - k, n))]
        else:
            part = xp.argpartition(x, k - 1, axis=axis)[_slice(x.ndim, axis, slice(0, k))]
        order = _argsort(xp, x[_along_index(xp, part, axis)], axis, largest, True)
        return part[_along_index(xp, order, axis)].astype(xp.int64, copy=False)
    return _argsort(xp, x, axis, largest, False)[_slice(x.ndim, axis, slice(0, k))]


def _kth_indices(ctx: Any, x: Any, axis: int, k: int) -> Any:
    xp = ctx.xp
    if ctx.backend.name == "numpy":
        part = xp.argpartition(x, k - 1, axis=axis)
    else:
        part = xp.argsort(x, axis=axis)
    return part[_slice(x.ndim, axis, slice(k - 1, k))].astype(xp.int64, copy=False)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:  # noqa: A002
    """Sorted values along ``dim`` and the indices they came from (NaN counts as the largest)."""
    axis = wrap_dim(dim, input._data.ndim, "sort")
    values, indices = _Select.apply(input, axis, "sort", bool(descending), bool(stable), False)
    return sort_type(values, indices)


class _Argsort(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int, descending: bool, stable: bool) -> Any:
        xp = ctx.xp
        if x.ndim == 0:
            return xp.zeros((), dtype=xp.int64)
        return _argsort(xp, x, axis, descending, stable)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:  # noqa: A002
    """The indices that sort ``input`` along ``dim``."""
    axis = wrap_dim(dim, input._data.ndim, "argsort")
    return _Argsort.apply(input, axis, bool(descending), bool(stable))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, in sorted order."""
    x = input._data
    axis = wrap_dim(dim, x.ndim, "topk")
    size = x.shape[axis] if x.ndim else 1
    k = int(k)
    if not 0 <= k <= size:
        raise RuntimeError(f"topk(): selected index k={k} out of range for dimension {axis} of size {size}")
    values, indices = _Select.apply(input, axis, "topk", k, bool(largest), False)
    return topk_type(values, indices)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:  # noqa: A002
    """The ``k``-th smallest element (1-based) along ``dim`` and its index."""
    x = input._data
    axis = wrap_dim(dim, x.ndim, "kthvalue")
    size = x.shape[axis] if x.ndim else 1
    k = int(k)
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    values, indices = _Select.apply(input, axis, "kthvalue", k, False, keepdim)
    return kthvalue_type(values, indices)


def msort(input: Tensor) -> Tensor:  # noqa: A002
    """Sort along the first dim (values only)."""
    return sort(input, 0).values


__all__ = ["sort", "argsort", "topk", "kthvalue", "msort"]
FUNCTIONAL: list[str] = []
TENSOR_METHODS: dict = {
    "sort": sort, "argsort": argsort, "topk": topk, "kthvalue": kthvalue, "msort": msort,
}  # fmt: skip
