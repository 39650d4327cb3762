"""Reshaping and reordering views: reshape/view/flatten/squeeze/atleast_*, transpose/permute/movedim."""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import to_shape, wrap_dim


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


__all__ = [
    "reshape", "flatten", "ravel", "unflatten", "squeeze", "unsqueeze", "atleast_1d", "atleast_2d", "atleast_3d",
    "transpose", "swapaxes", "swapdims", "t", "permute", "movedim", "moveaxis",
]  # fmt: skip
FUNCTIONAL: list[str] = []
TENSOR_METHODS = {
    "reshape": _reshape_method, "view": view, "view_as": view_as, "reshape_as": reshape_as,
    "flatten": flatten, "ravel": ravel, "unflatten": unflatten, "squeeze": squeeze, "unsqueeze": unsqueeze,
    "transpose": transpose, "swapaxes": swapaxes, "swapdims": swapdims, "t": t, "permute": _permute_method,
    "movedim": movedim, "moveaxis": movedim, "T": property(_T), "mT": property(_mT),
}  # fmt: skip
