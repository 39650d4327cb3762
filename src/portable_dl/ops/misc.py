"""Miscellaneous ops: closeness tests, addcmul/addcdiv, trace/diff/kron/cdist, grids, index sets, counting."""

from __future__ import annotations

import math
import warnings
from typing import Any

from .. import _dtype
from .._dtype import FROM_NUMPY
from ..backends import get_backend
from ..tensor import Tensor
from ._common import assign_inplace, check_tensor, wrap_dim

_ATEN_NAMES = {
    "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
    "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
}  # fmt: skip


def _aten_name(np_dtype: Any) -> str:
    """torch's C++ name of a dtype, as its error messages print it (float32 -> Float)."""
    name = FROM_NUMPY[np_dtype].name
    return _ATEN_NAMES.get(name, name)


# ----- closeness -------------------------------------------------------------------------------


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:  # noqa: A002
    check_tensor(input, "isclose")
    check_tensor(other, "isclose", "other", 2)
    a, b = input._data, other._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"{_aten_name(a.dtype)} did not match {_aten_name(b.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    xp = input._backend.xp
    if a.dtype.kind == "b":
        return Tensor._wrap(xp.asarray(a == b), input._backend)
    if a.dtype.kind != "f":
        a, b = a.astype(xp.float64), b.astype(xp.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        close = a == b
        if equal_nan:
            close = close | (xp.isnan(a) & xp.isnan(b))
        diff = xp.abs(a - b)
        close = close | (xp.isfinite(diff) & (diff <= atol + rtol * xp.abs(b)))
    return Tensor._wrap(xp.asarray(close), input._backend)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:  # noqa: A002
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    check_tensor(input, "equal")
    check_tensor(other, "equal", "other", 2)
    if input._data.shape != other._data.shape:
        return False
    return bool((input._data == other._data).all())


# ----- addcmul / addcdiv -----------------------------------------------------------------------


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:  # noqa: A002
    prod = tensor1 * tensor2
    if isinstance(value, float) and prod._data.dtype.kind in "iub" and input._data.dtype.kind in "iub":
        value = int(value)  # torch casts value to the (integral) result dtype
    return input + (prod if value == 1 else prod * value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:  # noqa: A002
    if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release addcdiv will perform "
            "a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as "
            "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
            "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes."
        )
    quot = tensor1 / tensor2
    return input + (quot if value == 1 else quot * value)


def _addcmul_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    return assign_inplace(self, addcmul(self, tensor1, tensor2, value=value), "addcmul_")


def _addcdiv_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    return assign_inplace(self, addcdiv(self, tensor1, tensor2, value=value), "addcdiv_")


# ----- trace / diff / kron / cdist -------------------------------------------------------------


def trace(input: Tensor) -> Tensor:  # noqa: A002
    check_tensor(input, "trace")
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    return input.diagonal().sum()


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Tensor:  # noqa: A002
    check_tensor(input, "diff")
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = wrap_dim(dim, ndim, "diff")
    from .shape_join import cat

    parts = []
    for name, extra in (("prepend", prepend), (None, input), ("append", append)):
        if extra is None:
            continue
        if name is not None and extra._data.ndim != ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        parts.append(extra)
    x = cat(parts, dim) if len(parts) > 1 else input
    is_bool = x._data.dtype.kind == "b"
    for _ in range(n):
        length = x._data.shape[dim]
        if length == 0:
            break
        hi, lo = x.narrow(dim, 1, length - 1), x.narrow(dim, 0, length - 1)
        x = (hi != lo) if is_bool else hi - lo
    return x


def kron(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    check_tensor(input, "kron")
    check_tensor(other, "kron", "other", 2)
    nd = max(input._data.ndim, other._data.ndim)
    sa = (1,) * (nd - input._data.ndim) + tuple(input._data.shape)
    sb = (1,) * (nd - other._data.ndim) + tuple(other._data.shape)
    a = input.reshape(tuple(v for s in sa for v in (s, 1)))
    b = other.reshape(tuple(v for s in sb for v in (1, s)))
    return (a * b).reshape(tuple(x * y for x, y in zip(sa, sb)))


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    check_tensor(x1, "cdist", "x1")
    check_tensor(x2, "cdist", "x2", 2)
    if x1._data.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1._data.ndim}D")
    if x2._data.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {x2._data.ndim}D")
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_aten_name(t._data.dtype)}")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1._data.shape[-1]} X2: {x2._data.shape[-1]}"
        )
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    delta = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p == 2:  # sqrt with a zero-safe gradient (torch's cdist backward gives 0 at zero distance)
        sq = (delta * delta).sum(-1)
        zero = sq == 0
        return (sq.masked_fill(zero, 1.0).sqrt()).masked_fill(zero, 0.0)
    return delta.norm(p=p, dim=-1)


# ----- grids -----------------------------------------------------------------------------------


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        check_tensor(t, "meshgrid", "tensors", 1)
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    sizes = tuple(int(t._data.size) for t in ts)
    out = []
    for i, t in enumerate(ts):
        shape = [1] * len(ts)
        shape[i] = sizes[i]
        out.append(t.reshape(tuple(shape)).expand(sizes))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    for t in tensors:
        check_tensor(t, "cartesian_prod", "tensors", 1)
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    from .shape_join import stack

    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def _index_pairs(op: str, row: int, col: int, offset: int, dtype: Any, device: Any, lower: bool) -> Tensor:
    dt = _dtype.int64 if dtype is None else _dtype.to_dtype(dtype)
    if dt not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"\"{op}\" not implemented for '{dt}'")
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    backend = get_backend(device)
    xp = backend.xp
    if row == 0 or col == 0:
        return Tensor._wrap(xp.zeros((2, 0), dtype=dt.np), backend)
    r = xp.arange(row)[:, None]
    c = xp.arange(col)[None, :]
    mask = (c - r <= offset) if lower else (c - r >= offset)
    rows, cols = xp.nonzero(mask)
    return Tensor._wrap(xp.stack([rows, cols]).astype(dt.np), backend)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:  # fmt: skip
    return _index_pairs("tril_indices", row, col, offset, dtype, device, True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:  # fmt: skip
    return _index_pairs("triu_indices", row, col, offset, dtype, device, False)


# ----- unique / counting / searching -----------------------------------------------------------


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           dim: int | None = None) -> Any:  # fmt: skip
    check_tensor(input, "unique")
    backend = input._backend
    xp = backend.xp
    data = input._data
    if dim is not None:
        return _unique_dim(input, wrap_dim(dim, data.ndim, "unique"), return_inverse, return_counts)
    res = xp.unique(data.reshape(-1), return_inverse=return_inverse, return_counts=return_counts)
    if not (return_inverse or return_counts):
        return Tensor._wrap(res, backend)
    out = [Tensor._wrap(res[0], backend)]
    k = 1
    if return_inverse:
        out.append(Tensor._wrap(res[k].reshape(data.shape).astype(xp.int64), backend))
        k += 1
    if return_counts:
        out.append(Tensor._wrap(res[k].astype(xp.int64), backend))
    return tuple(out)


def _unique_dim(input: Tensor, dim: int, return_inverse: bool, return_counts: bool) -> Any:  # noqa: A002
    """Unique slices along ``dim`` (sorted lexicographically), by lexsort of the flattened slices."""
    backend = input._backend
    xp = backend.xp
    data = input._data
    n = data.shape[dim]
    if sum(1 for size in data.shape if size == 0) > 1:
        raise RuntimeError("Number of zero sized dimensions is more than one, so unique cannot be applied")
    if data.size == 0 and n != 0:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
    moved = xp.moveaxis(data, dim, 0)
    rows = moved.reshape(n, math.prod(moved.shape[1:]))
    if n == 0:
        order = xp.zeros((0,), dtype=xp.int64)
        flags = xp.zeros((0,), dtype=bool)
    else:
        if rows.shape[1] == 0:
            order = xp.arange(n)
            flags = xp.zeros((n,), dtype=bool)
        else:
            order = xp.lexsort(rows.T[::-1])
            ordered = rows[order]
            flags = xp.empty((n,), dtype=bool)
            flags[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
        flags[0] = True
    keep = order[flags]
    values = xp.moveaxis(moved[keep], 0, dim)
    out = [Tensor._wrap(xp.ascontiguousarray(values), backend)]
    if not (return_inverse or return_counts):
        return out[0]
    group = xp.cumsum(flags) - 1
    if return_inverse:
        inverse = xp.empty((n,), dtype=xp.int64)
        inverse[order] = group
        out.append(Tensor._wrap(inverse, backend))
    if return_counts:
        counts = xp.bincount(group, minlength=int(keep.shape[0])) if n else xp.zeros((0,), dtype=xp.int64)
        out.append(Tensor._wrap(counts.astype(xp.int64), backend))
    return tuple(out)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:  # noqa: A002
    check_tensor(input, "bincount")
    data = input._data
    backend = input._backend
    xp = backend.xp
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if data.dtype.kind == "b":
        raise RuntimeError("\"bincount_cpu\" not implemented for 'Bool'")
    if data.ndim != 1 or data.dtype.kind not in "iu" or (data.size and int(data.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None:
        w = weights._data
        if w.ndim != 1 or w.shape[0] != data.shape[0]:
            raise RuntimeError("weights should be 1-d and have the same length as input")
        out_dt = w.dtype if w.dtype.kind == "f" else xp.float64
        if data.size == 0:
            return Tensor._wrap(xp.zeros((minlength,), dtype=out_dt), backend)
        return Tensor._wrap(xp.bincount(data, weights=w, minlength=minlength).astype(out_dt), backend)
    if data.size == 0:
        return Tensor._wrap(xp.zeros((minlength,), dtype=xp.int64), backend)
    return Tensor._wrap(xp.bincount(data, minlength=minlength).astype(xp.int64), backend)


def searchsorted(sorted_sequence: Tensor, values: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None) -> Tensor:  # fmt: skip
    check_tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    backend = sorted_sequence._backend
    xp = backend.xp
    seq = sorted_sequence._data
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of left while right was True"
            )
        right = side == "right"
    scalar = not isinstance(values, Tensor)
    if scalar:  # a Python number compares in the sequence's float dtype, or in its own type against integers
        vals = xp.asarray(values, dtype=seq.dtype if seq.dtype.kind == "f" else None)
    else:
        vals = values._data
    if scalar and seq.ndim != 1:
        raise RuntimeError(
            "torch.searchsorted(): input value can be a scalar only when boundaries tensor dimension is 1, but we "
            f"got boundaries tensor dim({seq.ndim}) and input value's dim(0) numel(1)"
        )
    if seq.ndim == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension"
        )
    if seq.ndim != 1 and (vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
            f"tensor and input value tensor must match, but we got boundaries tensor {list(seq.shape)} and input "
            f"value tensor {list(vals.shape)}"
        )
    if sorter is not None:
        srt = sorter._data
        if srt.shape != seq.shape:
            raise RuntimeError(
                "torch.searchsorted(): boundary and sorter must have the same size, but got boundary tensor "
                f"{list(seq.shape)}and got sorter tensor {list(srt.shape)}"
            )
        seq = xp.take_along_axis(seq, srt.astype(xp.int64), -1)
    out_dt = xp.int32 if out_int32 else xp.int64
    how = "right" if right else "left"
    if seq.ndim == 1:
        res = xp.searchsorted(seq, vals, side=how)
    else:
        flat_seq = seq.reshape(-1, seq.shape[-1])
        flat_vals = vals.reshape(flat_seq.shape[0], -1)
        res = xp.empty(flat_vals.shape, dtype=out_dt)
        for i in range(flat_seq.shape[0]):
            res[i] = xp.searchsorted(flat_seq[i], flat_vals[i], side=how)
        res = res.reshape(vals.shape)
    return Tensor._wrap(xp.asarray(res, dtype=out_dt), backend)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:  # noqa: A002
    check_tensor(boundaries, "bucketize", "boundaries", 2)
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    check_tensor(input, "histc")
    data = input._data
    backend = input._backend
    xp = backend.xp
    if data.dtype.kind != "f":
        raise RuntimeError(f"\"histogram_cpu\" not implemented for '{_aten_name(data.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for bins")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    flat = data.reshape(-1)
    inside = (flat >= lo) & (flat <= hi)
    x = flat[inside]
    idx = ((x - lo) * bins / (hi - lo)).astype(xp.int64)
    idx = xp.minimum(idx, bins - 1)
    counts = xp.bincount(idx, minlength=bins) if idx.size else xp.zeros((bins,), dtype=xp.int64)
    return Tensor._wrap(counts[:bins].astype(data.dtype), backend)


def _unique_method(self: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
                   return_counts: bool = False, dim: int | None = None) -> Any:  # fmt: skip
    return unique(self, sorted, return_inverse, return_counts, dim)


__all__ = [
    "isclose", "allclose", "equal", "addcmul", "addcdiv", "trace", "diff", "kron", "cdist", "cartesian_prod",
    "meshgrid", "tril_indices", "triu_indices", "unique", "bincount", "searchsorted", "bucketize", "histc",
]  # fmt: skip
FUNCTIONAL: list[str] = []
TENSOR_METHODS: dict = {
    "isclose": isclose, "allclose": allclose, "equal": equal, "addcmul": addcmul, "addcdiv": addcdiv,
    "addcmul_": _addcmul_, "addcdiv_": _addcdiv_, "trace": trace, "diff": diff, "kron": kron,
    "unique": _unique_method, "bincount": bincount, "histc": histc,
}  # fmt: skip
