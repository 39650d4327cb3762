"""Shape ops: views (reshape, transpose, permute, squeeze, narrow, split ...), joins (cat, stack),
copies that move data (flip, roll, repeat, pad) and triangular/diagonal ops."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import cast, result_type, to_shape, wrap_dim
from .broadcast import sum_to
from .indexing import BASIC, IndexSelect, IndexView


def _ints(values: Any, op: str) -> tuple:
    """A dims/sizes argument given as an int or a sequence of ints, as a tuple of ints."""
    if isinstance(values, (int, Tensor)) or hasattr(values, "__index__"):
        return (int(values),)
    try:
        return tuple(int(v) for v in values)
    except (TypeError, ValueError):
        raise TypeError(f"{op}(): expected an int or a sequence of ints, got {values!r}") from None


# ----- reshape and friends -------------------------------------------------------------------------
class Reshape(Function):
    """A reshape that may copy (input not contiguous)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, shape: tuple) -> Any:
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except (ValueError, TypeError):
            _infer_shape(to_shape((shape,), "reshape"), x.size)  # raises torch's error
            raise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return _reshape(grad, ctx.in_shape), None


class View(Reshape):
    """A reshape that is a view (contiguous input, or only size-1 dims added or removed)."""

    _is_view = True


def _infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve -1 and check the element count, with torch's errors."""
    known = 1
    infer = -1
    for i, s in enumerate(shape):
        if s == -1:
            if infer >= 0:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if infer >= 0:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:infer] + (numel // known,) + shape[infer + 1 :]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _reshape(x: Tensor, shape: Any) -> Tensor:
    """``x`` reshaped (NumPy resolves -1; errors are translated in forward): a view when x is contiguous."""
    if type(shape) is list:
        shape = tuple(shape)
    if shape and min(shape) < -1:  # NumPy would read any negative size as -1
        _infer_shape(shape, x._data.size)
    return View.apply(x, shape) if x._data.flags.c_contiguous else Reshape.apply(x, shape)


def reshape(input: Tensor, shape: Any) -> Tensor:  # noqa: A002 - torch argument name
    return _reshape(input, shape if type(shape) is tuple else to_shape((shape,), "reshape"))


def _reshape_method(self: Tensor, *shape: Any) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return _reshape(self, shape)


view = _reshape_method


def view_as(self: Tensor, other: Tensor) -> Tensor:
    return _reshape(self, tuple(other._data.shape))


def reshape_as(self: Tensor, other: Tensor) -> Tensor:
    return _reshape(self, tuple(other._data.shape))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    shape = input._data.shape
    if not shape:
        return View.apply(input, (1,))
    nd = len(shape)
    start = wrap_dim(start_dim, nd, "flatten")
    end = wrap_dim(end_dim, nd, "flatten")
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    n = 1
    for s in shape[start : end + 1]:
        n *= s
    return _reshape(input, shape[:start] + (n,) + shape[end + 1 :])


def ravel(input: Tensor) -> Tensor:  # noqa: A002
    return _reshape(input, (-1,))


def unflatten(input: Tensor, dim: int, sizes: Any) -> Tensor:  # noqa: A002
    shape = input._data.shape
    dim = wrap_dim(dim, len(shape), "unflatten")
    sizes = _ints(sizes, "unflatten")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        sizes = _infer_shape(sizes, shape[dim])
    except RuntimeError:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({shape[dim]}) in the input tensor"
        ) from None
    return _reshape(input, shape[:dim] + sizes + shape[dim + 1 :])


def squeeze(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    shape = input._data.shape
    nd = len(shape)
    if dim is None:
        out = tuple(s for s in shape if s != 1)
    else:
        dims = {wrap_dim(d, nd, "squeeze") for d in _ints(dim, "squeeze")}
        out = tuple(s for i, s in enumerate(shape) if s != 1 or i not in dims)
    return View.apply(input, out)


def unsqueeze(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    shape = input._data.shape
    dim = wrap_dim(dim, len(shape) + 1, "unsqueeze")
    return View.apply(input, shape[:dim] + (1,) + shape[dim:])


def atleast_1d(*tensors: Any) -> Any:
    return _atleast(tensors, 1)


def atleast_2d(*tensors: Any) -> Any:
    return _atleast(tensors, 2)


def atleast_3d(*tensors: Any) -> Any:
    return _atleast(tensors, 3)


def _atleast(tensors: tuple, n: int) -> Any:
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    items = tensors if not (len(tensors) == 1 and isinstance(tensors[0], (list, tuple))) else tensors[0]
    out = []
    for t in items:
        shape = t._data.shape
        if len(shape) < n:
            if n == 3 and len(shape) == 2:
                shape = shape + (1,)
            elif n == 3 and len(shape) == 1:
                shape = (1,) + shape + (1,)
            else:
                shape = (1,) * (n - len(shape)) + shape
            t = View.apply(t, shape)
        out.append(t)
    return out[0] if single else tuple(out)


# ----- dimension reordering ------------------------------------------------------------------------
class Permute(Function):
    _raw = True
    _is_view = True

    @staticmethod
    def forward(ctx: Any, x: Any, perm: tuple) -> Any:
        ctx.perm = perm
        try:
            return x.transpose(perm)
        except (ValueError, TypeError, IndexError):
            _check_perm(perm, x.ndim)  # raises torch's error
            raise

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        perm = ctx.perm
        nd = len(perm)
        inverse = [0] * nd
        for i, p in enumerate(perm):
            inverse[p % nd] = i
        return Permute.apply(grad, tuple(inverse)), None


class Transpose(Function):
    _raw = True
    _is_view = True

    @staticmethod
    def forward(ctx: Any, x: Any, dim0: int, dim1: int) -> Any:
        ctx.dims = (dim0, dim1)
        return x.swapaxes(dim0, dim1)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return Transpose.apply(grad, *ctx.dims), None, None


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    nd = input._data.ndim
    d0 = wrap_dim(dim0, nd, "transpose")
    d1 = wrap_dim(dim1, nd, "transpose")
    if nd == 0:
        return View.apply(input, ())
    return Transpose.apply(input, d0, d1)


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:  # noqa: A002
    return transpose(input, axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    return transpose(input, dim0, dim1)


def t(input: Tensor) -> Tensor:  # noqa: A002
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return Transpose.apply(input, 0, 1) if nd == 2 else View.apply(input, input._data.shape)


def _check_perm(dims: tuple, nd: int) -> None:
    if len(dims) != nd:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
            f"desired ordering of dimensions i.e. input.dim() = {nd} is not equal to len(dims) = {len(dims)}"
        )
    perm = [wrap_dim(int(d), nd, "permute") for d in dims]
    if len(set(perm)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")


def permute(input: Tensor, dims: Any) -> Tensor:  # noqa: A002
    return Permute.apply(input, _ints(dims, "permute"))


def _permute_method(self: Tensor, *dims: Any) -> Tensor:
    if len(dims) == 1 and not isinstance(dims[0], int):
        dims = _ints(dims[0], "permute")
    return Permute.apply(self, dims)


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:  # noqa: A002
    nd = input._data.ndim
    src = [wrap_dim(d, nd, "movedim") for d in _ints(source, "movedim")]
    dst = [wrap_dim(d, nd, "movedim") for d in _ints(destination, "movedim")]
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(_ints(source, 'movedim'))} dims) should "
            f"contain the same number of dims as destination ({list(_ints(destination, 'movedim'))} dims)"
        )
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(_ints(source, 'movedim'))})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(_ints(destination, 'movedim'))})")
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    if nd == 0:
        return View.apply(input, ())
    return Permute.apply(input, tuple(order))


moveaxis = movedim


def _T(self: Tensor) -> Tensor:  # noqa: N802 - torch's property name
    nd = self._data.ndim
    if nd == 2:
        return Transpose.apply(self, 0, 1)
    if nd < 2:
        return View.apply(self, self._data.shape)
    return Permute.apply(self, tuple(range(nd - 1, -1, -1)))


def _mT(self: Tensor) -> Tensor:  # noqa: N802
    nd = self._data.ndim
    if nd < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {nd}-D tensor.")
    return Transpose.apply(self, nd - 2, nd - 1)


# ----- repeat / tile -------------------------------------------------------------------------------
class Repeat(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, reps: tuple) -> Any:
        ctx.in_shape = x.shape
        padded = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.reps = reps
        ctx.padded = padded
        return ctx.xp.tile(x.reshape(padded), reps)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        reps, padded = ctx.reps, ctx.padded
        inter: list = []
        target: list = []
        for r, s in zip(reps, padded):
            inter += [r, s]
            target += [1, s]
        g = sum_to(_reshape(grad, tuple(inter)), tuple(target))
        return _reshape(g, ctx.in_shape), None


def _repeat(input: Tensor, reps: tuple) -> Tensor:  # noqa: A002
    if len(reps) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(reps)}")
    return Repeat.apply(input, reps)


def repeat(self: Tensor, *sizes: Any) -> Tensor:
    return _repeat(self, to_shape(sizes, "repeat"))


def tile(input: Tensor, dims: Any) -> Tensor:  # noqa: A002
    dims = _ints(dims, "tile")
    nd = input._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + dims
    return _repeat(input, dims)


def _tile_method(self: Tensor, *dims: Any) -> Tensor:
    return tile(self, to_shape(dims, "tile"))


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,  # noqa: A002
                      output_size: int | None = None) -> Tensor:  # fmt: skip
    if repeats is None:  # torch.repeat_interleave(repeats): indices repeated by their counts
        counts = input
        xp = counts._backend.xp
        data = xp.repeat(xp.arange(counts._data.shape[0]), counts._data.tolist())  # CuPy wants host counts
        return Tensor._wrap(data.astype(counts._data.dtype, copy=False), counts._backend)
    if dim is None:
        input = _reshape(input, (-1,))  # noqa: A001
        dim = 0
    dim = wrap_dim(dim, input._data.ndim, "repeat_interleave")
    xp = input._backend.xp
    n = input._data.shape[dim] if input._data.ndim else 1
    if isinstance(repeats, Tensor):
        counts = repeats._data
        if counts.ndim == 0 or counts.shape == (1,):
            counts = int(counts.reshape(()))
        elif counts.shape != (n,):
            raise RuntimeError("repeats must have the same size as input along dim")
        else:
            counts = counts.tolist()  # CuPy's repeat takes host counts
    else:
        counts = int(repeats)
    if (min(counts) if isinstance(counts, list) and counts else counts) < 0:
        raise RuntimeError("repeats can not be negative")
    index = xp.repeat(xp.arange(n), counts)
    if input._data.ndim == 0:
        input = View.apply(input, (1,))  # noqa: A001
    return IndexSelect.apply(input, Tensor._wrap(index, input._backend), dim)


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


# ----- data movement -------------------------------------------------------------------------------
class Flip(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, dims: tuple) -> Any:
        ctx.dims = dims
        if not dims:
            return x.copy()
        return ctx.xp.flip(x, axis=dims).copy()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return Flip.apply(grad, ctx.dims), None


def flip(input: Tensor, dims: Any) -> Tensor:  # noqa: A002
    nd = input._data.ndim
    dims = tuple(wrap_dim(d, nd, "flip") for d in _ints(dims, "flip"))
    if len(set(dims)) != len(dims):
        raise RuntimeError(
            f"dims has duplicates, original flip dims size={len(dims)}, but unique flip dims size={len(set(dims))}"
        )
    if nd == 0:
        dims = ()
    return Flip.apply(input, dims)


def _flip_method(self: Tensor, *dims: Any) -> Tensor:
    if len(dims) == 1:
        dims = dims[0]
    return flip(self, dims)


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return Flip.apply(input, (1,))


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return Flip.apply(input, (0,))


class Roll(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, shifts: tuple, dims: Any) -> Any:
        ctx.args = (shifts, dims)
        if dims is None:
            return ctx.xp.roll(x.reshape(-1), shifts[0]).reshape(x.shape)
        return ctx.xp.roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        shifts, dims = ctx.args
        return Roll.apply(grad, tuple(-s for s in shifts), dims), None, None


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:  # noqa: A002
    shifts = _ints(shifts, "roll")
    nd = input._data.ndim
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: 0")
        return Roll.apply(input, shifts, None)
    dims = tuple(wrap_dim(d, nd, "roll") for d in _ints(dims, "roll"))
    if len(dims) != len(shifts):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    if nd == 0:
        return Roll.apply(input, shifts, None)
    return Roll.apply(input, shifts, dims)


def rot90(input: Tensor, k: int = 1, dims: Any = (0, 1)) -> Tensor:  # noqa: A002
    dims = _ints(dims, "rot90")
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = wrap_dim(dims[0], nd, "rot90"), wrap_dim(dims[1], nd, "rot90")
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return Transpose.apply(Flip.apply(input, (d1,)), d0, d1)
    if k == 2:
        return Flip.apply(input, (d0, d1))
    if k == 3:
        return Flip.apply(Transpose.apply(input, d0, d1), (d1,))
    return Flip.apply(input, ())


# ----- triangles and diagonals ---------------------------------------------------------------------
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


# ----- pad -----------------------------------------------------------------------------------------
class ConstantPad(Function):
    """Pad (or, with negative widths, crop) every dim by ``widths[d] = (before, after)``."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, widths: tuple, value: Any) -> Any:
        ctx.widths = widths
        out_shape = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, widths))
        if any(s < 0 for s in out_shape):
            raise RuntimeError(
                f"The input size {list(x.shape)}, plus negative padding {list(widths)} resulted in a negative "
                f"output size, which is invalid. Check dimension of your input."
            )
        out = ctx.xp.full(out_shape, value, dtype=x.dtype)
        src = []
        dst = []
        for s, (lo, hi) in zip(x.shape, widths):
            src.append(slice(max(-lo, 0), s - max(-hi, 0)))
            dst.append(slice(max(lo, 0), max(lo, 0) + max(s - max(-lo, 0) - max(-hi, 0), 0)))
        out[tuple(dst)] = x[tuple(src)]
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return ConstantPad.apply(grad, tuple((-lo, -hi) for lo, hi in ctx.widths), 0), None, None


def _pad_index(xp: Any, size: int, lo: int, hi: int, mode: str) -> Any:
    if mode == "reflect":
        idx = xp.arange(-lo, size + hi)
        idx = xp.abs(idx)
        return xp.where(idx > size - 1, 2 * (size - 1) - idx, idx)
    if mode == "replicate":
        return xp.clip(xp.arange(-lo, size + hi), 0, size - 1)
    # circular: torch crops negative widths first, then wraps around what is left
    start = max(-lo, 0)
    kept = size - start - max(-hi, 0)
    return start + (xp.arange(size + lo + hi) - max(lo, 0)) % kept


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: Any = None) -> Tensor:  # noqa: A002
    widths = [int(p) for p in pad]
    shape = input._data.shape
    nd = len(shape)
    if len(widths) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(widths) // 2
    if k > nd:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding "
            f"length {len(widths)} and input of dimension {nd}"
        )
    per_dim = [(0, 0)] * nd
    for i in range(k):
        per_dim[nd - 1 - i] = (widths[2 * i], widths[2 * i + 1])
    if mode == "constant":
        fill = 0 if value is None else value
        return ConstantPad.apply(input, tuple(per_dim), fill)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if not (k in (1, 2, 3) and k + 1 <= nd <= k + 2):
        raise NotImplementedError(
            f"Padding size {len(widths)} is not supported for {nd}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    xp = input._backend.xp
    out = input
    for d in range(nd - k, nd):
        lo, hi = per_dim[d]
        if lo == 0 and hi == 0:
            continue
        size = shape[d]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({lo}, {hi}) at dimension {d} of input {list(shape)}"
            )
        if mode == "circular" and (lo > size or hi > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "replicate" and size == 0:
            raise RuntimeError(f"padding size should be greater than 0 for dimension {d} of input {list(shape)}")
        if size + lo + hi < 0:
            raise RuntimeError(
                f"input tensor size {list(shape)} with padding {widths} results in a negative output size"
            )
        index = Tensor._wrap(_pad_index(xp, size, lo, hi, mode), input._backend)
        out = IndexSelect.apply(out, index, d)
    return out if out is not input else View.apply(input, shape)


# ----- Tensor properties ---------------------------------------------------------------------------
__all__ = [
    "reshape", "flatten", "ravel", "unflatten", "squeeze", "unsqueeze", "atleast_1d", "atleast_2d", "atleast_3d",
    "transpose", "swapaxes", "swapdims", "t", "permute", "movedim", "moveaxis", "tile", "repeat_interleave",
    "cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack", "column_stack",
    "split", "chunk", "tensor_split", "unbind", "narrow", "select", "flip", "fliplr", "flipud", "roll", "rot90",
    "tril", "triu", "diagonal", "diag_embed", "diag",
]  # fmt: skip
FUNCTIONAL = ["pad"]
TENSOR_METHODS = {
    "reshape": _reshape_method, "view": view, "view_as": view_as, "reshape_as": reshape_as,
    "flatten": flatten, "ravel": ravel, "unflatten": unflatten, "squeeze": squeeze, "unsqueeze": unsqueeze,
    "transpose": transpose, "swapaxes": swapaxes, "swapdims": swapdims, "t": t, "permute": _permute_method,
    "movedim": movedim, "moveaxis": movedim, "T": property(_T), "mT": property(_mT),
    "repeat": repeat, "tile": _tile_method, "repeat_interleave": repeat_interleave,
    "split": _split_method, "split_with_sizes": split_with_sizes, "chunk": chunk, "tensor_split": tensor_split,
    "unbind": unbind, "narrow": narrow, "select": select,
    "flip": _flip_method, "fliplr": fliplr, "flipud": flipud, "roll": roll, "rot90": rot90,
    "tril": tril, "triu": triu, "tril_": tril_, "triu_": triu_,
    "diagonal": diagonal, "diag_embed": diag_embed, "diag": diag,
}  # fmt: skip
