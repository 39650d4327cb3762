"""Lookup tables: ``one_hot``, ``embedding`` and ``embedding_bag``.

Built on a pair of mutually adjoint Functions: ``_Gather`` (rows of a table picked by an index
array, optionally scaled) and ``_Scatter`` (rows added back into a zero table); each one's backward
is the other, so gradients of any order work.
"""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from ..tensor import Tensor, _bump_version


def _coef_shape(coef: Any, extra: int) -> Any:
    return coef if coef is None or not extra else coef.reshape(coef.shape + (1,) * extra)


def _gather(xp: Any, table: Any, index: Any, coef: Any, along: bool) -> Any:
    if along:
        out = xp.take_along_axis(table, index, axis=0)
    else:
        out = table[index]  # fancy indexing (a copy); works for any index shape
    if coef is not None:
        out *= _coef_shape(coef, 0 if along else table.ndim - 1)
    return out


def _scatter(backend: Any, grad: Any, index: Any, n: int, coef: Any, along: bool) -> Any:
    xp = backend.xp
    if along:
        out = xp.zeros((n,) + grad.shape[1:], dtype=grad.dtype)
        if coef is not None:
            grad = grad * coef
        cols = xp.arange(grad.shape[1]).reshape((1, -1) + (1,) * (grad.ndim - 2))
        backend.scatter_add(out, (index, cols), grad)
        return out
    row_shape = grad.shape[index.ndim :]
    out = xp.zeros((n,) + row_shape, dtype=grad.dtype)
    if coef is not None:
        grad = grad * _coef_shape(coef, len(row_shape))
    backend.scatter_add(out, index.reshape(-1), grad.reshape((-1,) + row_shape))
    return out


class _Gather(Function):
    """``table[index] * fcoef``; the gradient scatters ``grad * bcoef`` back (``along``: take_along_axis 0)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, table: Any, index: Any, fcoef: Any = None, bcoef: Any = None, along: bool = False) -> Any:
        ctx.cfg = (table.shape[0], along)
        ctx.save_for_backward(index, bcoef)
        return _gather(ctx.xp, table, index, fcoef, along)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        index, bcoef = ctx.saved_arrays
        n, along = ctx.cfg
        return _Scatter.apply(grad, index, n, bcoef, along), None, None, None, None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        index, bcoef = ctx.saved_arrays
        n, along = ctx.cfg
        return _scatter(ctx.backend, grad, index, n, bcoef, along), None, None, None, None


class _Scatter(Function):
    """Rows ``grad * coef`` added into a zero table of ``n`` rows at ``index``; the adjoint of ``_Gather``."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, grad: Any, index: Any, n: int, coef: Any = None, along: bool = False) -> Any:
        ctx.along = along
        ctx.save_for_backward(index, coef)
        return _scatter(ctx.backend, grad, index, n, coef, along)

    @staticmethod
    def backward(ctx: Any, h: Tensor) -> Any:
        index, coef = ctx.saved_arrays
        return _Gather.apply(h, index, coef, coef, ctx.along), None, None, None, None

    @staticmethod
    def backward_arrays(ctx: Any, h: Any) -> Any:
        index, coef = ctx.saved_arrays
        return _gather(ctx.xp, h, index, coef, ctx.along), None, None, None, None


# ----- one_hot ------------------------------------------------------------------------------------
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """``(..., num_classes)`` int64 tensor with a 1 at each index of ``tensor``."""
    dt = tensor._data.dtype
    if dt.kind != "i" or dt.itemsize != 8:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    data = tensor._data
    xp = tensor._backend.xp
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size:
        if int(data.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(data.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    elif num_classes < 0:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = (data[..., None] == xp.arange(num_classes, dtype=data.dtype)).astype(xp.int64)
    return Tensor._wrap(out, tensor._backend)


# ----- embedding ----------------------------------------------------------------------------------
def _check_indices(indices: Tensor, name: str, arg: str = "indices") -> None:
    if not isinstance(indices, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(indices).__name__}")
    dt = indices._data.dtype
    if dt.kind != "i" or dt.itemsize not in (4, 8):
        raise RuntimeError(
            f"Expected tensor for argument #1 '{arg}' to have one of the following scalar types: Long, Int; "
            f"but got {indices.dtype} instead (while checking arguments for {name})"
        )


def _check_range(index: Any, n: int) -> None:
    if index.size and (int(index.min()) < 0 or int(index.max()) >= n):
        raise IndexError("index out of range in self")


def _norms(xp: Any, rows: Any, p: float) -> Any:
    a = xp.abs(rows)
    if p == float("inf"):
        return a.max(axis=1)
    if p == 0:
        return (a != 0).sum(axis=1).astype(rows.dtype)
    if p == 2:
        return xp.sqrt((a * a).sum(axis=1))
    if p == 1:
        return a.sum(axis=1)
    return (a**p).sum(axis=1) ** (1.0 / p)


def _renorm_(weight: Tensor, index: Any, max_norm: float, norm_type: float) -> None:
    """torch's embedding_renorm_: rows referenced by ``index`` with norm > max_norm scaled down, in place."""
    xp = weight._backend.xp
    rows = xp.unique(index.reshape(-1))
    if rows.size == 0:
        return
    table = weight._data
    norms = _norms(xp, table[rows], float(norm_type))
    big = norms > max_norm
    if bool(big.any()):
        rows = rows[big]
        scale = (max_norm / (norms[big] + 1e-7)).astype(table.dtype)
        table[rows] *= scale.reshape((-1,) + (1,) * (table.ndim - 1))
    _bump_version(weight)


def _padding_idx(padding_idx: Any, n: int) -> Any:
    if padding_idx is None:
        return None
    if padding_idx > 0:
        if padding_idx >= n:
            raise AssertionError("Padding_idx must be within num_embeddings")
    elif padding_idx < 0:
        if padding_idx < -n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = n + padding_idx
    return padding_idx


def _grad_coef(xp: Any, index: Any, n: int, padding_idx: Any, scale_grad_by_freq: bool, dtype: Any) -> Any:
    """Per-index factor on the gradient: 0 at padding_idx, 1/count with scale_grad_by_freq; None if all 1."""
    if padding_idx is None and not scale_grad_by_freq:
        return None
    coef = xp.ones(index.shape, dtype=dtype)
    if scale_grad_by_freq:
        counts = xp.bincount(index.reshape(-1), minlength=n)
        coef /= counts[index].astype(dtype)
    if padding_idx is not None:
        coef[index == padding_idx] = 0
    return coef


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,  # noqa: A002
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:  # fmt: skip
    """Rows of ``weight`` picked by the integer ``input``: shape ``input.shape + (embedding_dim,)``.

    ``padding_idx``'s row gets no gradient; ``scale_grad_by_freq`` divides each row's gradient by how
    often it occurs in ``input``; ``max_norm`` renormalises the rows used, in place (as torch does).
    ``sparse`` is accepted; gradients are always dense.
    """
    n = weight._data.shape[0] if weight._data.ndim else 0
    padding_idx = _padding_idx(padding_idx, n)
    _check_indices(input, "embedding")
    if weight._data.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    index = input._data
    _check_range(index, n)
    if max_norm is not None:
        _renorm_(weight, index, max_norm, norm_type)
    coef = None  # only the gradient uses it
    if weight.requires_grad and grad_state.enabled:
        coef = _grad_coef(weight._backend.xp, index, n, padding_idx, scale_grad_by_freq, weight._data.dtype)
    return _Gather.apply(weight, index, None, coef)


# ----- embedding_bag ------------------------------------------------------------------------------
def _bags(xp: Any, input: Tensor, offsets: Any, include_last_offset: bool) -> tuple:  # noqa: A002
    """Flat indices, the bag of each index, the number of bags, and which flat entries are kept (or None)."""
    data = input._data
    if data.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length "
                f"sequences. However, found offsets of type {type(offsets)}"
            )
        b, length = data.shape
        return data.reshape(-1), xp.repeat(xp.arange(b), length), b, None
    if data.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {data.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    off = offsets._data
    if off.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    if off.dtype.kind not in "iu":
        raise RuntimeError(f"embedding_bag: expected offsets of an integer dtype, got {offsets.dtype}")
    total = data.shape[0]
    if off.size:
        first, last = int(off[0]), int(off[-1])
        if first != 0:
            raise RuntimeError(
                "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. "
                f"However, got {first}"
            )
        if last > total:
            raise RuntimeError(
                f"offsets[-1] can not be greater than input's length {total} but got offsets[-1] of {last}"
            )
        if off.size > 1 and bool((off[1:] < off[:-1]).any()):
            raise RuntimeError("embedding_bag: offsets must be non-decreasing")
    nbags = max(off.size - 1 if include_last_offset else off.size, 0)
    if nbags == 0:
        return data[:0], xp.zeros((0,), dtype=xp.int64), 0, xp.zeros((total,), dtype=bool)
    bag = xp.searchsorted(off[:nbags], xp.arange(total), side="right") - 1
    if include_last_offset and int(off[-1]) < total:  # entries past offsets[-1] belong to no bag
        keep = xp.arange(total) < int(off[-1])
        return data[keep], bag[keep], nbags, keep
    return data, bag, nbags, None


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,  # noqa: A002
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:  # fmt: skip
    """Sums, means or maxima of bags of embeddings (rows of ``input`` if 2-D, else ``offsets`` slices).

    Entries equal to ``padding_idx`` are left out of their bag; empty bags give zeros.
    """
    _check_indices(input, "embedding_bag", "input")
    if weight._data.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight._data.ndim}")
    n, d = weight._data.shape
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it must have "
            f"the same shape as the input ({input.shape})"
        )
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
            f"mode='sum' (got mode='{mode}'). Please open a feature request on GitHub."
        )
    padding_idx = _padding_idx(padding_idx, n)
    xp = weight._backend.xp
    index, bag, nbags, keep = _bags(xp, input, offsets, include_last_offset)
    if index.size and (int(index.min()) < 0 or int(index.max()) >= n):
        bad = int(xp.argmax((index < 0) | (index >= n)))
        raise RuntimeError(
            f"Index {bad} of input takes value {int(index[bad])} which is not in the valid range [0, {n})"
        )
    if max_norm is not None:
        _renorm_(weight, index, max_norm, norm_type)
    if padding_idx is not None:
        valid = index != padding_idx
        if not bool(valid.all()):
            index, bag = index[valid], bag[valid]
            if keep is None:
                keep = valid
            else:
                keep = keep.copy()
                keep[xp.nonzero(keep)[0]] = valid
    if mode == "max":
        return _bag_max(xp, weight, index, bag, nbags, d)
    dt = weight._data.dtype
    fcoef = None
    if mode == "mean":
        counts = xp.bincount(bag, minlength=nbags) if bag.size else xp.zeros((nbags,), dtype=xp.int64)
        fcoef = (1.0 / xp.maximum(counts, 1)).astype(dt)[bag]
    bcoef = fcoef
    if scale_grad_by_freq and index.size:
        freq = xp.bincount(index, minlength=n)[index].astype(dt)
        bcoef = (xp.ones(index.shape, dtype=dt) if fcoef is None else fcoef) / freq
    rows = _Gather.apply(weight, index, fcoef, bcoef)
    if per_sample_weights is not None:
        psw = per_sample_weights if per_sample_weights.ndim == 1 else per_sample_weights.reshape(-1)
        if keep is not None:
            psw = _Gather.apply(psw, xp.nonzero(keep)[0])
        rows = rows * psw.reshape(-1, 1)
    return _Scatter.apply(rows, bag, nbags)


def _bag_max(xp: Any, weight: Tensor, index: Any, bag: Any, nbags: int, d: int) -> Tensor:
    """Per-bag, per-column maximum: which table row wins each (bag, column), then a take_along_axis gather."""
    table = weight._data
    if index.size == 0 or nbags == 0:
        zeros = xp.zeros((nbags, d), dtype=table.dtype)
        return _Gather.apply(weight, zeros.astype(xp.int64), zeros, None, True)
    starts = xp.searchsorted(bag, xp.arange(nbags), side="left")
    pos = xp.arange(bag.shape[0]) - starts[bag]
    width = int(pos.max()) + 1
    dense = xp.full((nbags, width, d), -xp.inf, dtype=table.dtype)
    dense[bag, pos] = table[index]
    which = dense.argmax(axis=1)  # (nbags, d): position within the bag
    slot = xp.full((nbags, width), 0, dtype=xp.int64)
    slot[bag, pos] = index
    winner = xp.take_along_axis(slot, which, axis=1)  # table row of each (bag, column) maximum
    empty = xp.bincount(bag, minlength=nbags) == 0
    coef = None
    if bool(empty.any()):
        coef = xp.broadcast_to((~empty).astype(table.dtype)[:, None], (nbags, d)).copy()
    return _Gather.apply(weight, winner, coef, coef, True)


__all__: list[str] = []  # torch has these only in nn.functional (torch.embedding takes (weight, indices))
FUNCTIONAL = ["one_hot", "embedding", "embedding_bag"]
TENSOR_METHODS: dict = {}
