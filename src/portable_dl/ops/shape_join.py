"""Joining and splitting along a dim: cat/stack families, split/chunk/tensor_split/unbind, narrow/select."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import cast, result_type, wrap_dim
from .indexing import BASIC, IndexView
from .shape_view import View, _atleast


# ----- joining -------------------------------------------------------------------------------------
def _legacy_empty(shape: tuple) -> bool:
    return len(shape) == 1 and shape[0] == 0


class Cat(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, dim: int, *arrays: Any) -> Any:
        ctx.dim = dim
        ctx.sizes = sizes = [None if _legacy_empty(a.shape) else a.shape[dim] for a in arrays]
        kept = [a for a, s in zip(arrays, sizes) if s is not None]
        if not kept:
            return arrays[0].copy()
        try:
            return ctx.xp.concatenate(kept, axis=dim)
        except ValueError:
            ref = kept[0].shape
            _check_cat([Tensor._wrap(a, ctx.backend) for a in arrays], ref, dim)  # raises torch's error
            raise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        dim = ctx.dim
        out: list = [None]
        start = 0
        lead = (slice(None),) * dim
        needs = ctx.needs_input_grad
        for i, size in enumerate(ctx.sizes):
            if size is None:
                out.append(Tensor._wrap(grad._backend.xp.zeros((0,), dtype=grad._data.dtype), grad._backend)
                           if needs[i + 1] else None)  # fmt: skip
                continue
            if needs[i + 1]:
                out.append(IndexView.apply(grad, lead + (slice(start, start + size),), BASIC))
            else:
                out.append(None)
            start += size
        return tuple(out)


def _common_dtype(op: str, tensors: Sequence[Tensor]) -> list:
    tensors = list(tensors)
    first = tensors[0]._data.dtype
    if all(t._data.dtype == first for t in tensors):
        return tensors
    dt = result_type(*tensors)
    return [cast(t, dt) for t in tensors]


def _fast_join(tensors: Any) -> int:
    """The common ndim when every item is a tensor of one dtype and ndim (-1 when not: take the slow path)."""
    try:
        first = tensors[0]._data
        nd, dt = first.ndim, first.dtype
        for t in tensors:
            d = t._data
            if d.ndim != nd or d.dtype != dt:
                return -1
        return nd
    except (AttributeError, IndexError, TypeError, KeyError):
        return -1


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    nd = _fast_join(tensors)
    if nd > 0 and -nd <= dim < nd and isinstance(tensors, (list, tuple)):
        return Cat.apply(dim + nd if dim < 0 else dim, *tensors)
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"cat(): argument 'tensors' must be a sequence of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    ref = None
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"cat(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
        shape = t._data.shape
        if not shape:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
        if ref is None and not _legacy_empty(shape):
            ref = shape
    if ref is None:
        ref = tensors[0]._data.shape
    dim = wrap_dim(dim, len(ref), "cat")
    _check_cat(tensors, ref, dim)
    return Cat.apply(dim, *_common_dtype("cat", tensors))


def _check_cat(tensors: Any, ref: tuple, dim: int) -> None:
    nd = len(ref)
    for i, t in enumerate(tensors):
        shape = t._data.shape
        if _legacy_empty(shape) and shape is not ref:
            continue
        if len(shape) != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {len(shape)}")
        for d in range(nd):
            if d != dim and shape[d] != ref[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size {ref[d]} but got "
                    f"size {shape[d]} for tensor number {i} in the list."
                )


concat = cat


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    return cat(tensors, axis)


class Stack(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, dim: int, *arrays: Any) -> Any:
        ctx.dim = dim
        return ctx.xp.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        lead = (slice(None),) * ctx.dim
        needs = ctx.needs_input_grad
        return (None,) + tuple(
            IndexView.apply(grad, lead + (i,), BASIC) if needs[i + 1] else None for i in range(len(needs) - 1)
        )


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    nd = _fast_join(tensors) + 1
    if nd > 0 and -nd <= dim < nd and isinstance(tensors, (list, tuple)):
        ref = tensors[0]._data.shape
        if all(t._data.shape == ref for t in tensors):
            return Stack.apply(dim + nd if dim < 0 else dim, *tensors)
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"stack(): argument 'tensors' must be a sequence of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"stack(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
        if t._data.shape != ref:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(ref)} at entry 0 and "
                f"{list(t._data.shape)} at entry {i}"
            )
    dim = wrap_dim(dim, len(ref) + 1, "stack")
    return Stack.apply(dim, *_common_dtype("stack", tensors))


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    tensors = _atleast(tuple(tensors), 1)
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    return cat(_atleast(tuple(tensors), 2), 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    return cat(_atleast(tuple(tensors), 3), 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    cols = [View.apply(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in tensors]
    return cat(cols, 1)


# ----- splitting -----------------------------------------------------------------------------------
class Split(Function):
    """Views of consecutive blocks along ``dim``."""

    _raw = True
    _is_view = True

    @staticmethod
    def forward(ctx: Any, x: Any, dim: int, sizes: tuple) -> Any:
        ctx.dim = dim
        ctx.sizes = sizes
        ctx.shape = x.shape
        lead = (slice(None),) * dim
        out = []
        start = 0
        for s in sizes:
            out.append(x[lead + (slice(start, start + s),)])
            start += s
        return tuple(out)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        dim = ctx.dim
        shape = list(ctx.shape)
        parts = []
        ref = next(g for g in grads if g is not None)
        for g, s in zip(grads, ctx.sizes):
            if g is None:
                shape[dim] = s
                g = Tensor._wrap(ref._backend.xp.zeros(tuple(shape), dtype=ref._data.dtype), ref._backend)
            parts.append(g)
        if len(parts) == 1:
            return parts[0], None, None
        return Cat.apply(dim, *parts), None, None


class Unbind(Function):
    _raw = True
    _is_view = True

    @staticmethod
    def forward(ctx: Any, x: Any, dim: int) -> Any:
        ctx.dim = dim
        ctx.shape = x.shape
        lead = (slice(None),) * dim
        return tuple(x[lead + (i, Ellipsis)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        ref = next(g for g in grads if g is not None)
        shape = ctx.shape[: ctx.dim] + ctx.shape[ctx.dim + 1 :]
        parts = [
            g if g is not None else Tensor._wrap(ref._backend.xp.zeros(shape, dtype=ref._data.dtype), ref._backend)
            for g in grads
        ]
        return Stack.apply(ctx.dim, *parts), None


def _split_sizes(op: str, size: int, split_size: int) -> tuple:
    if split_size < 0:
        raise RuntimeError(f"{op} expects split_size be non-negative, but got split_size={split_size}")
    if split_size == 0:
        if size != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        return (0,)
    n = max((size + split_size - 1) // split_size, 1)
    return tuple(split_size for _ in range(n - 1)) + (size - split_size * (n - 1),)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    shape = tensor._data.shape
    if not shape:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = wrap_dim(dim, len(shape), "split")
    size = shape[dim]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = tuple(int(s) for s in split_size_or_sections)
        if sum(sizes) != size or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                f"dimension {dim}), but got split_sizes={list(sizes)}"
            )
    else:
        sizes = _split_sizes("split", size, int(split_size_or_sections))
    return Split.apply(tensor, dim, sizes)


def _split_method(self: Tensor, split_size: Any, dim: int = 0) -> tuple:
    return split(self, split_size, dim)


def split_with_sizes(self: Tensor, split_sizes: Any, dim: int = 0) -> tuple:
    return split(self, list(split_sizes), dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:  # noqa: A002
    shape = input._data.shape
    if not shape:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = wrap_dim(dim, len(shape), "chunk")
    size = shape[dim]
    split_size = (size + chunks - 1) // chunks
    if split_size == 0 and size == 0:
        return Split.apply(input, dim, (0,) * chunks)
    return Split.apply(input, dim, _split_sizes("chunk", size, split_size))


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple:  # noqa: A002
    shape = input._data.shape
    if not shape:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    dim = wrap_dim(dim, len(shape), "tensor_split")
    size = shape[dim]
    if isinstance(indices_or_sections, Tensor) and indices_or_sections.ndim == 0:
        indices_or_sections = int(indices_or_sections.item())
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        base, extra = divmod(size, n)
        sizes = tuple(base + 1 if i < extra else base for i in range(n))
    else:
        bounds = [int(i) for i in (indices_or_sections.tolist() if isinstance(indices_or_sections, Tensor)
                                   else indices_or_sections)]  # fmt: skip
        sizes_list = []
        prev = 0
        for b in bounds + [size]:
            b = min(max(b + size if b < 0 else b, 0), size)
            sizes_list.append(max(b - prev, 0))
            prev = max(prev, b)
        sizes = tuple(sizes_list)
    return Split.apply(input, dim, sizes)


def unbind(input: Tensor, dim: int = 0) -> tuple:  # noqa: A002
    shape = input._data.shape
    if not shape:
        raise RuntimeError("Dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(input, wrap_dim(dim, len(shape), "unbind"))


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:  # noqa: A002
    shape = input._data.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, len(shape), "narrow")
    size = shape[dim]
    start = int(start)
    length = int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return IndexView.apply(input, (slice(None),) * dim + (slice(start, start + length),), BASIC)


def select(input: Tensor, dim: int, index: Any) -> Tensor:  # noqa: A002
    shape = input._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, len(shape), "select")
    index = int(index)
    size = shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(shape)} at dimension {dim}")
    return IndexView.apply(input, (slice(None),) * dim + (index,), BASIC)


__all__ = [
    "cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack", "column_stack",
    "split", "chunk", "tensor_split", "unbind", "narrow", "select",
]  # fmt: skip
FUNCTIONAL: list[str] = []
TENSOR_METHODS = {
    "split": _split_method, "split_with_sizes": split_with_sizes, "chunk": chunk, "tensor_split": tensor_split,
    "unbind": unbind, "narrow": narrow, "select": select,
}  # fmt: skip
