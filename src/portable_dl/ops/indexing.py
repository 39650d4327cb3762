"""Indexing: ``x[...]`` (read and write), gather/scatter, index_select/index_add, masks, nonzero.

``x[idx]`` follows torch (= NumPy) semantics: basic indexing (ints, slices, None, Ellipsis) gives a
view; advanced indexing (int/bool tensors, lists) gives a copy. The gradient of an index is a
scatter into zeros (accumulating repeated indices), itself an op whose gradient is the index again.
"""

from __future__ import annotations

import operator
from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..tensor import Tensor, _bump_version, trace_observer
from ._common import assign_inplace, cast, wrap_dim
from .broadcast import broadcast_shapes, expand, sum_to

_BAD_INDEX_DTYPE = "tensors used as indices must be long, int, byte or bool tensors"

# Kinds of a parsed index: basic (a view), advanced without integer arrays (plain assignment is
# its adjoint), advanced with integer arrays (repeated indices: the adjoint accumulates).
BASIC, MASKED, ADVANCED = 0, 1, 2


# ----- index parsing -------------------------------------------------------------------------------
def _sequence_as_tuple(seq: list) -> bool:
    """torch's legacy rule: a list holding tensors, sequences, slices, None or ... is a tuple of indices."""
    if len(seq) >= 32:
        return False
    for item in seq:
        if item is None or item is Ellipsis or isinstance(item, (Tensor, list, tuple, slice)):
            return True
    return False


def _as_index_array(item: Any, backend: Any) -> Any:
    if isinstance(item, Tensor):
        arr = item._data
        if item._backend is not backend:
            arr = backend.asarray(item._backend.to_numpy(arr))
        kind = arr.dtype.kind
        if kind == "b" or arr.dtype.name in ("int64", "int32", "uint8"):
            return arr
        raise IndexError(_BAD_INDEX_DTYPE)
    if isinstance(item, (list, tuple)):
        arr = backend.asarray(item)
        if arr.dtype.kind == "f":  # torch truncates float lists (and [] is float64 in NumPy)
            arr = arr.astype("int64")
        return arr
    arr = backend.asarray(item)  # a NumPy / CuPy array
    if arr.dtype.kind not in "biu":
        raise IndexError(_BAD_INDEX_DTYPE)
    return arr


class _Split:
    """An advanced index that also has ints: torch selects the int dims first (a view), then applies the
    advanced part to what is left, so the ints never join NumPy's advanced-index broadcasting."""

    __slots__ = ("basic", "adv")
    trace_fields = ("basic", "adv")  # the export tracer looks inside (constructor takes them in this order)

    def __init__(self, basic: tuple, adv: tuple) -> None:
        self.basic = basic
        self.adv = adv


def _split_ints(items: list) -> _Split:
    basic: list = []
    adv: list = []
    for item in items:
        if type(item) is int:
            basic.append(item)
        elif item is None:
            basic.append(None)
            adv.append(slice(None))
        elif item is Ellipsis:
            basic.append(Ellipsis)
            adv.append(Ellipsis)
        elif type(item) is slice:
            basic.append(item)
            adv.append(slice(None))
        elif type(item) is bool or item.ndim == 0:
            adv.append(item)
        else:
            n = item.ndim if item.dtype.kind == "b" else 1
            basic.extend([slice(None)] * n)
            adv.append(item)
    if Ellipsis not in basic:
        basic.append(Ellipsis)  # x[basic] is then always a view, never a NumPy scalar
    return _Split(tuple(basic), tuple(adv))


def _parse_index(x: Tensor, index: Any) -> tuple[Any, int]:
    """``index`` as an index the backend array understands, and its kind (BASIC/MASKED/ADVANCED)."""
    if type(index) is not tuple:
        if isinstance(index, list) and _sequence_as_tuple(index):
            index = tuple(index)
        else:
            index = (index,)
    out = []
    kind = BASIC
    has_int = False
    backend = x._backend
    for item in index:
        t = type(item)
        if t is int:
            has_int = True
            out.append(item)
            continue
        if item is None or item is Ellipsis:
            out.append(item)
            continue
        if t is slice:
            step = item.step
            if step is not None and operator.index(step) <= 0:
                raise ValueError("step must be greater than zero")
            out.append(item)
            continue
        if t is bool:
            kind = kind or MASKED
            out.append(item)
            continue
        if (
            isinstance(item, (Tensor, list, tuple))
            or hasattr(item, "__array_interface__")
            or hasattr(item, "__cuda_array_interface__")
        ):
            arr = _as_index_array(item, backend)
            k = arr.dtype.kind
            if k == "u" and arr.dtype.itemsize == 1:
                arr = arr.astype(bool)  # torch's legacy byte masks
                k = "b"
            if k == "b":
                kind = kind or MASKED
            elif arr.ndim == 0:
                has_int = True
                out.append(int(arr))  # a 0-d integer tensor indexes like an int
                continue
            else:
                kind = ADVANCED
            out.append(arr)
            continue
        try:
            out.append(operator.index(item))
            has_int = True
        except TypeError:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
                f"indices (got {type(item).__name__})"
            ) from None
    if kind == BASIC:
        return (out[0] if len(out) == 1 else tuple(out)), kind
    if has_int:
        return _split_ints(out), kind
    return tuple(out), kind


def _get(x: Any, idx: Any) -> Any:
    if type(idx) is _Split:
        return x[idx.basic][idx.adv]
    return x[idx]


def _put(target: Any, idx: Any, value: Any) -> None:
    if type(idx) is _Split:
        target = target[idx.basic]
        idx = idx.adv
    target[idx] = value


def _accumulate(backend: Any, target: Any, idx: Any, value: Any) -> None:
    if type(idx) is _Split:
        target = target[idx.basic]
        idx = idx.adv
    backend.scatter_add(target, idx, value)


def _index_error(err: Exception) -> IndexError:
    msg = str(err).replace("axis", "dimension").replace("for array", "for tensor").replace("array", "tensor")
    return IndexError(msg)


# ----- the index op and its adjoint ----------------------------------------------------------------
class Index(Function):
    """``x[idx]`` with an advanced index: a copy."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, idx: Any, kind: int) -> Any:
        ctx.info = (x.shape, idx, kind)
        try:
            out = _get(x, idx)
        except IndexError as err:
            raise _index_error(err) from None
        if not out.ndim and type(out) is not type(x):  # a NumPy scalar: index again for a 0-d view
            out = x[(idx if type(idx) is tuple else (idx,)) + (Ellipsis,)]
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        shape, idx, kind = ctx.info
        return IndexBackward.apply(grad, shape, idx, kind), None, None


class IndexView(Index):
    """``x[idx]`` with a basic index (ints, slices, None, ...): a view."""

    _is_view = True


class IndexBackward(Function):
    """Zeros of ``shape`` with ``grad`` put (accumulated, for repeated indices) at ``idx``."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, grad: Any, shape: tuple, idx: Any, kind: int) -> Any:
        ctx.info = (idx, kind)
        out = ctx.xp.zeros(shape, dtype=grad.dtype)
        if kind == ADVANCED:
            _accumulate(ctx.backend, out, idx, grad)
        else:
            _put(out, idx, grad)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        idx, kind = ctx.info
        return _index(grad, idx, kind), None, None, None


def _index(x: Tensor, idx: Any, kind: int) -> Tensor:
    return IndexView.apply(x, idx, kind) if kind == BASIC else Index.apply(x, idx, kind)


def getitem(self: Tensor, index: Any) -> Tensor:
    if type(index) is int:
        return IndexView.apply(self, index, BASIC)
    idx, kind = _parse_index(self, index)
    return IndexView.apply(self, idx, kind) if kind == BASIC else Index.apply(self, idx, kind)


# ----- x[idx] = value ------------------------------------------------------------------------------
class IndexZero(Function):
    """A copy of ``x`` with the entries at ``idx`` set to zero (the gradient of an overwrite)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, idx: Any) -> Any:
        ctx.idx = idx
        out = x.copy()
        _put(out, idx, 0)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return IndexZero.apply(grad, ctx.idx), None


class IndexPut(Function):
    """A copy of ``x`` with ``x[idx] = value`` (or ``+=``, accumulating repeats, for ``accumulate``).

    ``x[idx] = v`` under autograd goes through here: assign_inplace then rebases x onto the result.
    """

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, value: Any, idx: Any, kind: int, accumulate: bool = False) -> Any:
        ctx.info = (idx, kind, value.shape if hasattr(value, "shape") else None, accumulate)
        out = x.copy()
        if accumulate:
            if kind == BASIC:
                out[idx] += value
            else:
                shape = _get(x, idx).shape
                _accumulate(ctx.backend, out, idx, ctx.xp.broadcast_to(ctx.xp.asarray(value, dtype=x.dtype), shape))
        else:
            _write(out, idx, value)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        idx, kind, vshape, accumulate = ctx.info
        need_x, need_v = ctx.needs_input_grad[:2]
        gx = gv = None
        if need_x:
            gx = grad if accumulate else IndexZero.apply(grad, idx)
        if vshape is not None and need_v:
            gv = _index(grad, idx, kind)
            extra = len(vshape) - gv.ndim
            if extra > 0:  # value had leading size-1 dims that NumPy dropped
                gv = gv.reshape(vshape)
            else:
                gv = sum_to(gv, vshape)
        return gx, gv, None, None, None


def _write(target: Any, idx: Any, value: Any) -> None:
    try:
        _put(target, idx, value)
    except IndexError as err:
        raise _index_error(err) from None
    except ValueError as err:
        text = str(err)
        if "read-only" in text:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single "
                "memory location (an expanded view). Please clone() the tensor before performing the operation."
            ) from None
        raise RuntimeError(f"shape mismatch: {text}") from None


def setitem(self: Tensor, index: Any, value: Any) -> None:
    idx, kind = _parse_index(self, index) if type(index) is not int else (index, BASIC)
    if isinstance(value, Tensor):
        if value._backend is not self._backend:
            value = value.to(self.device)
        if value._data.dtype != self._data.dtype:
            value = cast(value, _dtype.FROM_NUMPY[self._data.dtype])
        record = state.enabled and (self.requires_grad or value.requires_grad)
    else:
        if not isinstance(value, (int, float, bool)) and not hasattr(value, "__index__"):
            value = self._backend.asarray(value, dtype=self._data.dtype)
        record = state.enabled and self.requires_grad
    if not record and trace_observer() is None:
        _write(self._data, idx, value._data if isinstance(value, Tensor) else value)
        _bump_version(self)
        return
    if record and self.requires_grad and self.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    assign_inplace(self, IndexPut.apply(self, value, idx, kind), "__setitem__")


def index_put(input: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:  # noqa: A002
    """``input`` with ``input[indices] = values`` (``+=`` with ``accumulate``: repeated indices add up)."""
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): values must be a Tensor, got {type(values).__name__}")
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): indices must be a tuple of Tensors")
    idx, kind = _parse_index(input, tuple(indices))
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got {input.dtype} for the destination "
            f"and {values.dtype} for the source."
        )
    return IndexPut.apply(input, values, idx, kind, bool(accumulate))


def index_put_(self: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    return assign_inplace(self, index_put(self, indices, values, accumulate), "index_put_")


# ----- gather / scatter ----------------------------------------------------------------------------
def _check_index(op: str, index: Any, dtypes: tuple = ("int64",)) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): index must be a Tensor, got {type(index).__name__}")
    if index._data.dtype.name not in dtypes:
        allowed = " or ".join(dtypes)
        raise RuntimeError(f"{op}(): Expected dtype {allowed} for index, got {index.dtype}")


def _dim_index(xp: Any, index: Any, dim: int) -> tuple:
    """The full advanced index addressing ``out[i][j][index[i][j][k]]``-style positions along ``dim``."""
    nd = index.ndim
    parts = []
    for d in range(nd):
        if d == dim:
            parts.append(index)
        else:
            shape = [1] * nd
            shape[d] = index.shape[d]
            parts.append(xp.arange(index.shape[d]).reshape(shape))
    return tuple(parts)


def _leading(shape: tuple, index_shape: tuple, skip: int | None) -> Any:
    """Slices taking the leading ``index_shape`` block of ``shape`` (all of ``skip``); None if it's everything."""
    if all(i == s or d == skip for d, (i, s) in enumerate(zip(index_shape, shape))):
        return None
    return tuple(slice(None) if d == skip else slice(0, i) for d, i in enumerate(index_shape))


def _check_gather_shapes(op: str, x_shape: tuple, index_shape: tuple, dim: int, other: str = "self") -> None:
    if len(index_shape) != len(x_shape) and not (len(index_shape) <= 1 and len(x_shape) <= 1):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as {other} tensor")
    for d, (i, s) in enumerate(zip(index_shape, x_shape)):
        if d != dim and i > s:
            raise RuntimeError(
                f"{op}(): Size does not match at dimension {d} expected index {list(index_shape)} to be no "
                f"larger than {other} {list(x_shape)} apart from dimension {dim}"
            )


class Gather(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, index: Any, dim: int) -> Any:
        ctx.info = (x.shape, dim)
        ctx.save_for_backward(index)
        if x.ndim == 0:
            return x.reshape(1)[index.reshape(1)].reshape(index.shape)
        block = _leading(x.shape, index.shape, dim)
        if block is not None:
            x = x[block]
        try:
            return ctx.xp.take_along_axis(x, index, axis=dim)
        except IndexError as err:
            raise RuntimeError(f"gather(): {_index_error(err)}") from None

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        shape, dim = ctx.info
        (index,) = ctx.saved_tensors
        return ScatterAddZeros.apply(grad, index, dim, shape), None, None


class ScatterAddZeros(Function):
    """Zeros of ``shape`` plus ``src`` scattered (accumulated) along ``dim`` at ``index`` (gather's adjoint)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, src: Any, index: Any, dim: int, shape: tuple) -> Any:
        ctx.dim = dim
        ctx.save_for_backward(index)
        out = ctx.xp.zeros(shape, dtype=src.dtype)
        if index.size:
            _scatter_into(ctx, out, index, dim, src, "add")
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        (index,) = ctx.saved_tensors
        return Gather.apply(grad, index, ctx.dim), None, None, None


def _scatter_into(ctx: Any, out: Any, index: Any, dim: int, src: Any, reduce: str | None) -> None:
    """Write ``src`` (a scalar or an array at least as large as index) into ``out`` along ``dim``."""
    xp = ctx.xp
    if out.ndim == 0:
        out, index = out.reshape(1), index.reshape(1)
        if hasattr(src, "shape"):
            src = src.reshape(1)
    if hasattr(src, "shape"):
        block = _leading(src.shape, index.shape, None)
        if block is not None:
            src = src[block]
    where = _dim_index(xp, index, dim)
    try:
        if reduce is None:
            out[where] = src
        elif reduce == "add":
            ctx.backend.scatter_add(out, where, xp.broadcast_to(xp.asarray(src, dtype=out.dtype), index.shape))
        else:
            ctx.backend.scatter_multiply(out, where, src)
    except IndexError as err:
        raise RuntimeError(f"scatter(): {_index_error(err)}") from None


class Scatter(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, index: Any, src: Any, dim: int, reduce: str | None) -> Any:
        src_shape = src.shape if hasattr(src, "shape") else None
        ctx.info = (dim, reduce, src_shape)
        ctx.save_for_backward(index)
        out = x.copy()
        if index.size:
            if src_shape is not None and src.dtype != out.dtype:
                src = src.astype(out.dtype)
            _scatter_into(ctx, out, index, dim, src, reduce)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        dim, reduce, src_shape = ctx.info
        if reduce == "multiply":
            raise RuntimeError("scatter(): the derivative for scatter with reduce='multiply' is not implemented")
        (index,) = ctx.saved_tensors
        need_x, _, need_src = ctx.needs_input_grad[:3]
        gx = gsrc = None
        if need_x:
            gx = grad if reduce == "add" else Scatter.apply(grad, index, 0.0, dim, None)
        if need_src and src_shape is not None:
            gsrc = _gather_to(grad, index, dim, src_shape)
        return gx, None, gsrc, None, None


def _gather_to(grad: Tensor, index: Tensor, dim: int, shape: tuple) -> Tensor:
    """``grad.gather(dim, index)`` placed into zeros of ``shape`` (when src was larger than index)."""
    g = Gather.apply(grad, index, dim) if grad.ndim or index.ndim else grad
    if tuple(g.shape) != tuple(shape):
        if len(shape) == 0 or g.ndim == 0:
            return g.reshape(shape)
        g = IndexBackward.apply(g, shape, tuple(slice(0, s) for s in g.shape), MASKED)
    return g


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:  # noqa: A002
    _check_index("gather", index)
    dim = wrap_dim(dim, input.ndim, "gather")
    _check_gather_shapes("gather", tuple(input.shape), tuple(index.shape), dim)
    return Gather.apply(input, index, dim)


def _scatter_args(op: str, input: Tensor, dim: int, index: Tensor, src: Any) -> tuple:  # noqa: A002
    _check_index(op, index)
    dim = wrap_dim(dim, input.ndim, op)
    _check_gather_shapes(op, tuple(input.shape), tuple(index.shape), dim)
    if isinstance(src, Tensor):
        if src.ndim != index.ndim and not (src.ndim <= 1 and index.ndim <= 1):
            raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as src tensor")
        for i, s in zip(index.shape, src.shape):
            if i > s:
                raise RuntimeError(
                    f"{op}(): Expected index {list(index.shape)} to be no larger than src {list(src.shape)} "
                    f"apart from dimension {dim}"
                )
        if src._data.dtype != input._data.dtype:
            raise RuntimeError(
                f"{op}(): Expected self.dtype to be equal to src.dtype (got {input.dtype} and {src.dtype})"
            )
    elif not isinstance(src, (int, float, bool)):
        raise TypeError(f"{op}(): src must be a Tensor or a Python number, got {type(src).__name__}")
    return dim


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,  # noqa: A002
            reduce: str | None = None) -> Tensor:  # fmt: skip
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): expected a src Tensor or a value")
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")
    dim = _scatter_args("scatter", input, dim, index, src)
    return Scatter.apply(input, index, src, dim, reduce)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:  # noqa: A002
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): src must be a Tensor, got {type(src).__name__}")
    dim = _scatter_args("scatter_add", input, dim, index, src)
    return Scatter.apply(input, index, src, dim, "add")


def scatter_(self: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
             reduce: str | None = None) -> Tensor:  # fmt: skip
    return assign_inplace(self, scatter(self, dim, index, src, value=value, reduce=reduce), "scatter_")


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return assign_inplace(self, scatter_add(self, dim, index, src), "scatter_add_")


# ----- index_select / index_add --------------------------------------------------------------------
class IndexSelect(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, index: Any, dim: int) -> Any:
        ctx.info = (x.shape, dim)
        ctx.save_for_backward(index)
        if x.ndim == 0:
            return x.reshape(1)[index].reshape(())
        try:
            return ctx.xp.take(x, index, axis=dim)
        except IndexError as err:
            raise IndexError(f"index_select(): {_index_error(err)}") from None

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        shape, dim = ctx.info
        (index,) = ctx.saved_tensors
        return IndexAdd.apply(None, index, grad, dim, 1, shape), None, None


class IndexAdd(Function):
    """``x.index_add(dim, index, src * alpha)``; with x None, into zeros of ``shape`` (index_select's adjoint)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, index: Any, src: Any, dim: int, alpha: Any, shape: tuple | None) -> Any:
        ctx.info = (dim, alpha)
        ctx.save_for_backward(index)
        xp = ctx.xp
        out = xp.zeros(shape, dtype=src.dtype) if x is None else x.copy()
        if alpha != 1:
            src = src * alpha
        if src.dtype != out.dtype:
            src = src.astype(out.dtype)
        if out.ndim == 0:
            ctx.backend.scatter_add(out.reshape(1), index, src.reshape(-1))
        else:
            ctx.backend.scatter_add(out, (slice(None),) * dim + (index,), src)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        dim, alpha = ctx.info
        (index,) = ctx.saved_tensors
        need_x, _, need_src = ctx.needs_input_grad[:3]
        gsrc = None
        if need_src:
            gsrc = IndexSelect.apply(grad, index, dim)
            if alpha != 1:
                gsrc = gsrc * alpha
        return (grad if need_x else None), None, gsrc, None, None, None


def _vector_index(op: str, index: Any) -> Tensor:
    _check_index(op, index, ("int64", "int32"))
    if index.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    return index.reshape(-1) if index.ndim == 0 else index


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:  # noqa: A002
    index = _vector_index("index_select", index)
    return IndexSelect.apply(input, index, wrap_dim(dim, input.ndim, "index_select"))


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    index = _vector_index("index_add", index)
    dim = wrap_dim(dim, input.ndim, "index_add")
    n = index.shape[0]
    expected = list(input.shape)
    if expected:
        expected[dim] = n
    if list(source.shape) != expected and not (source.ndim == 0 and n == 1 and input.ndim <= 1):
        raise RuntimeError(
            f"index_add(): source {list(source.shape)} must have the shape of self with dimension {dim} "
            f"of size {n}: {expected}"
        )
    return IndexAdd.apply(input, index, source, dim, alpha, None)


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    return assign_inplace(self, index_add(self, dim, index, source, alpha=alpha), "index_add_")


# ----- masks -------------------------------------------------------------------------------------
class MaskedFill(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, mask: Any, value: Any) -> Any:
        if hasattr(value, "shape"):
            ctx.v_shape = value.shape
            fill = value.astype(x.dtype)
        else:
            ctx.v_shape = None
            fill = x.dtype.type(value)
        out = ctx.xp.where(mask, fill, x)
        ctx.x_shape = x.shape
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        (mask,) = ctx.saved_tensors
        need_x = ctx.needs_input_grad[0]
        need_v = len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]
        gx = gv = None
        if need_x:
            gx = sum_to(MaskedFill.apply(grad, mask, 0), ctx.x_shape)
        if need_v and ctx.v_shape is not None:
            gv = sum_to(MaskedFill.apply(grad, ~mask, 0), ())
            if ctx.v_shape != ():
                gv = gv.reshape(ctx.v_shape)
        return gx, None, gv


def _check_mask(op: str, mask: Any) -> None:
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): mask must be a Tensor, got {type(mask).__name__}")
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {mask.dtype}")


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:  # noqa: A002
    _check_mask("masked_fill_", mask)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value.ndim} "
                "dimension(s)."
            )
        if value._backend is not input._backend and not value.requires_grad:
            value = value.item()
    elif not isinstance(value, (int, float, bool)):
        value = operator.index(value) if hasattr(value, "__index__") else float(value)
    return MaskedFill.apply(input, mask, value)


def masked_fill_(self: Tensor, mask: Tensor, value: Any) -> Tensor:
    return assign_inplace(self, masked_fill(self, mask, value), "masked_fill_")


def masked_select(input: Tensor, mask: Tensor) -> Tensor:  # noqa: A002
    _check_mask("masked_select", mask)
    shape = broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    x = expand(input, shape)
    m = mask._data if tuple(mask.shape) == shape else mask._backend.xp.broadcast_to(mask._data, shape)
    return Index.apply(x, m, MASKED)


# ----- take / take_along_dim ---------------------------------------------------------------------
def take(input: Tensor, index: Tensor) -> Tensor:  # noqa: A002
    _check_index("take", index)
    flat = input.reshape(-1)  # type: ignore[attr-defined]
    if index.ndim == 0:
        return Index.apply(flat, index._data.reshape(1), ADVANCED).reshape(())
    return Index.apply(flat, index._data, ADVANCED)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:  # noqa: A002
    _check_index("take_along_dim", indices)
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))  # type: ignore[attr-defined]
    dim = wrap_dim(dim, input.ndim, "take_along_dim")
    if input.ndim != indices.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of dimensions, but got "
            f"{input.ndim} dimensions for input, and {indices.ndim} dimensions for indices"
        )
    in_shape, idx_shape = list(input.shape), list(indices.shape)
    in_shape[dim] = idx_shape[dim] = 1
    common = list(broadcast_shapes(tuple(in_shape), tuple(idx_shape)))
    target_in, target_idx = list(common), list(common)
    target_in[dim], target_idx[dim] = input.shape[dim], indices.shape[dim]
    return gather(expand(input, tuple(target_in)), dim, expand(indices, tuple(target_idx)))


# ----- nonzero -----------------------------------------------------------------------------------
def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:  # noqa: A002
    xp = input._backend.xp
    data = input._data
    if as_tuple:
        if data.ndim == 0:
            data = data.reshape(1)
        return tuple(Tensor._wrap(i.astype("int64", copy=False), input._backend) for i in xp.nonzero(data))
    out = xp.argwhere(data)
    return Tensor._wrap(out.astype("int64", copy=False), input._backend)


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    return nonzero(input)


__all__ = [
    "index_put", "gather", "scatter", "scatter_add", "index_select", "index_add", "masked_fill", "masked_select",
    "take", "take_along_dim", "nonzero", "argwhere",
]  # fmt: skip
FUNCTIONAL: list[str] = []
TENSOR_METHODS = {
    "__getitem__": getitem, "__setitem__": setitem, "index_put": index_put, "index_put_": index_put_,
    "gather": gather, "scatter": scatter, "scatter_": scatter_, "scatter_add": scatter_add,
    "scatter_add_": scatter_add_, "index_select": index_select, "index_add": index_add, "index_add_": index_add_,
    "masked_fill": masked_fill, "masked_fill_": masked_fill_, "masked_select": masked_select,
    "take": take, "take_along_dim": take_along_dim, "nonzero": nonzero, "argwhere": argwhere,
}  # fmt: skip
