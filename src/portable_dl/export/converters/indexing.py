"""Indexing and the remaining shape ops: ``x[...]`` (read and write), gather/scatter, index_select, masked_fill,
split/chunk/unbind, repeat, flip, roll, constant pad, triu/tril and einsum.

Open slices end at INT64_MAX and negative ints/starts stay negative, so ``x[:, -1]`` or ``x[:, 1:]`` follow the
runtime size of a dynamic axis instead of freezing the traced one; ``SymInt`` bounds (``x[:, :T]`` with
``T = x.shape[1]``) are computed in the graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import GraphBuilder, to_numpy
from ..registry import converter
from ..symbolic import SymInt
from ..tracer import TracedOp, TracingError, Value
from ._util import out_dtype
from .reduction import scalar

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def _ints(items: list) -> np.ndarray:
    return np.asarray([int(i) for i in items], dtype=np.int64)


def _slice(g: GraphBuilder, data: str, starts: list, ends: list, axes: list, steps: list | None = None) -> str:
    """A Slice node; starts/ends may hold dynamic SymInts (``g.ints``) or ONNX names (1-element int64)."""
    parts = [_vector(g, starts), _vector(g, ends), g.const(_ints(axes))]
    if steps is not None and any(int(s) != 1 for s in steps):
        parts.append(g.const(_ints(steps)))
    return g.op("Slice", data, *parts)


def _vector(g: GraphBuilder, items: list) -> str:
    if any(isinstance(i, str) for i in items):
        return g.op("Concat", *(i if isinstance(i, str) else g.ints([i]) for i in items), axis=0)
    return g.ints(items)


# ----- x[basic index] -------------------------------------------------------------------------------------------
def _expand_ellipsis(items: tuple, ndim: int, width: Any = None) -> list:
    """``items`` with ``...`` replaced by full slices (and full slices appended for the dims left)."""
    width = width or (lambda it: 0 if it is None or it is Ellipsis else 1)
    used = sum(width(it) for it in items)
    out: list = []
    seen = False
    for it in items:
        if it is Ellipsis and not seen:
            out.extend([slice(None)] * (ndim - used))
            seen = True
        elif it is not Ellipsis:
            out.append(it)
    if not seen:
        out.extend([slice(None)] * (ndim - used))
    return out


def _is_full(sl: slice) -> bool:
    start, stop, step = sl.start, sl.stop, sl.step
    return (start is None or (type(start) is int and start == 0)) and stop is None and (step is None or step == 1)


def basic_index(g: GraphBuilder, data: str, ndim: int, items: Any) -> str:
    """NumPy basic indexing (ints, slices with positive steps, None, ...) as Slice + Squeeze + Unsqueeze."""
    if not isinstance(items, tuple):
        items = (items,)
    items = _expand_ellipsis(items, ndim)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    d = out = 0
    for it in items:
        if it is None:
            unsqueeze.append(out)
            out += 1
            continue
        if isinstance(it, slice):
            if not _is_full(it):
                step = 1 if it.step is None else int(it.step)
                starts.append(0 if it.start is None else it.start)
                ends.append(INT64_MAX if it.stop is None else it.stop)
                axes.append(d)
                steps.append(step)
            out += 1
        else:  # an int: keep [i, i + 1) then squeeze the dim
            i = int(it) if not isinstance(it, SymInt) else it
            starts.append(i)
            ends.append(INT64_MAX if int(i) == -1 else i + 1)
            axes.append(d)
            steps.append(1)
            squeeze.append(d)
        d += 1
    if d > ndim:
        raise TracingError(f"too many indices for a tensor of dimension {ndim}")
    result = data
    if axes:
        result = _slice(g, result, starts, ends, axes, steps)
    if squeeze:
        result = g.squeeze(result, squeeze)
    if unsqueeze:
        result = g.unsqueeze(result, unsqueeze)
    return g.op("Identity", result) if result == data else result


@converter("IndexView", symints=True)
def _index_view(g: GraphBuilder, op: TracedOp) -> str:
    x, idx = op.args[:2]
    _check_static_slices(g, x, op.outputs[0], idx, op.where)
    return basic_index(g, g.name(x), len(x.shape), idx)


def _check_static_slices(g: GraphBuilder, x: Value, out: Value, idx: Any, where: str) -> None:
    """Refuse a slice whose plain-int bounds changed between the two traces (``x[:, :int(n)]``): the bounds
    would be frozen in the graph. Detected from the output sizes the second trace saw."""
    if out is None or not hasattr(x, "shape2") or not hasattr(out, "shape2"):
        return
    items = _expand_ellipsis(idx if isinstance(idx, tuple) else (idx,), len(x.shape))
    d = o = 0
    for it in items:
        if it is None:
            o += 1
            continue
        if isinstance(it, slice):
            bounds = (it.start, it.stop, it.step)
            if not any(g.is_dynamic(b) for b in bounds):
                expected = len(range(*slice(*(None if b is None else int(b) for b in bounds)).indices(x.shape2[d])))
                if o < len(out.shape2) and expected != out.shape2[o]:
                    raise TracingError(
                        f"the slice {it} at {where} gives {out.shape2[o]} elements when a dynamic axis changes size, "
                        f"but its bounds as traced would give {expected}: a bound was computed in Python from a size "
                        "(int(...), math on x.shape). Use x.shape[i] / x.size(i) directly, or an open or negative "
                        "bound (x[:, 1:], x[:, -1])"
                    )
            o += 1
        d += 1


# ----- x[advanced index] ----------------------------------------------------------------------------------------
def _index_value(g: GraphBuilder, item: Any) -> tuple:
    """(ONNX name, traced array) of an index array: the traced value when an op made it, else a constant."""
    if isinstance(item, Value):
        return g.name(item), item.array
    value = g.tracer.values.get(id(item)) if g.tracer is not None else None
    if value is not None:
        return g.name(value), value.array
    return g.const(to_numpy(item)), item


def _is_array(item: Any) -> bool:
    return isinstance(item, Value) or hasattr(item, "dtype") and hasattr(item, "ndim")


def _width(item: Any) -> int:
    if item is None or item is Ellipsis:
        return 0
    if _is_array(item) and np.dtype(item.dtype) == np.bool_:
        return len(item.shape)
    return 1


def advanced_index(g: GraphBuilder, data: str, x_shape: tuple, items: Any) -> str:
    """NumPy advanced indexing with integer and bool arrays (Gather for one integer array, else GatherND)."""
    if not isinstance(items, tuple):
        items = (items,)
    if any(it is None or type(it) is bool for it in items):
        raise TracingError("indexing with None or a Python bool next to index tensors can't be exported")
    ndim = len(x_shape)
    items = _expand_ellipsis(items, ndim, _width)
    # slices on the other dims first (they commute with the advanced part)
    plain = []
    for it in items:
        plain.extend([slice(None)] * _width(it) if _is_array(it) else [it])
    if any(not _is_full(s) for s in plain):
        data = basic_index(g, data, ndim, tuple(plain))
    adv_dims, indices, rank, masks = [], [], 0, False
    d = 0
    for it in items:
        if not _is_array(it):
            d += 1
            continue
        name, array = _index_value(g, it)
        if np.dtype(array.dtype) == np.bool_:
            k = len(array.shape)
            nonzero = g.op("NonZero", name)  # (k, N)
            for j in range(k):
                row = g.op("Gather", nonzero, scalar(g, j, np.int64), axis=0)
                adv_dims.append(d + j)
                indices.append(row)
            rank, masks = max(rank, 1), True
            d += k
        else:
            adv_dims.append(d)
            indices.append(g.cast(name, array.dtype, np.int64))
            rank = max(rank, len(array.shape))
            d += 1
    if len(indices) == 1 and not masks:  # one integer array: Gather puts its dims in place, negatives allowed
        return g.op("Gather", data, indices[0], axis=adv_dims[0])
    others = [i for i in range(ndim) if i not in adv_dims]
    perm = adv_dims + others
    if perm != list(range(ndim)):
        data = g.op("Transpose", data, perm=perm)
    if len(indices) > 1:
        total = indices[0]
        for i in indices[1:]:
            total = g.op("Add", total, i)  # broadcasts like the index arrays (Sum has no int64 before opset 13)
        common = g.op("Shape", total)
        indices = [g.op("Expand", i, common) for i in indices]
    stacked = g.op("Concat", *(g.unsqueeze(i, [-1]) for i in indices), axis=-1)
    result = g.op("GatherND", data, stacked)
    contiguous = adv_dims == list(range(adv_dims[0], adv_dims[-1] + 1))
    if contiguous and adv_dims[0] > 0:  # NumPy keeps adjacent advanced dims in place
        a = adv_dims[0]
        rest = len(others)
        order = list(range(rank, rank + a)) + list(range(rank)) + list(range(rank + a, rank + rest))
        result = g.op("Transpose", result, perm=order)
    return result


def _split_parts(idx: Any) -> tuple:
    """(basic, advanced) parts of an Index op's index (the ops' ``_Split`` when ints come with arrays)."""
    if hasattr(idx, "basic") and hasattr(idx, "adv"):
        return idx.basic, idx.adv
    return None, idx


@converter("Index", symints=True)
def _index(g: GraphBuilder, op: TracedOp) -> str:
    x, idx = op.args[:2]
    basic, adv = _split_parts(idx)
    data, shape = g.name(x), x.shape
    if basic is not None:
        data = basic_index(g, data, len(shape), basic)
        shape = _basic_shape(x.array, basic)
    return advanced_index(g, data, shape, adv)


def _basic_shape(array: Any, basic: tuple) -> tuple:
    return tuple(array[basic].shape)


# ----- x[idx] = value -------------------------------------------------------------------------------------------
@converter("IndexPut")
def _index_put(g: GraphBuilder, op: TracedOp) -> str:
    """Masks of x's shape with a scalar value: Where. Otherwise: the flat positions of x, indexed like x, are
    where ScatterElements writes the (broadcast) value into the flattened x."""
    x, value, idx, kind = op.args[:4]
    accumulate = bool(op.args[4]) if len(op.args) > 4 else False
    dt = out_dtype(op)
    data = g.name(x)
    val = g.cast(g.name(value), value.dtype, dt) if isinstance(value, Value) else g.name(np.asarray(value, dt))
    if accumulate and g.opset < 16:
        raise TracingError("index_put with accumulate=True needs opset >= 16 (ScatterElements reduction='add')")
    basic, adv = _split_parts(idx)
    mask = adv[0] if isinstance(adv, tuple) and len(adv) == 1 else adv
    if basic is None and _is_array(mask) and np.dtype(mask.dtype) == np.bool_ and tuple(mask.shape) == x.shape:
        if not accumulate and (not isinstance(value, Value) or len(value.shape) == 0):
            return g.op("Where", _index_value(g, mask)[0], val, data)
    shape = g.shape_of(x)
    numel = g.op("ReduceProd", shape, keepdims=0) if x.dynamic else scalar(g, int(np.prod(x.shape)), np.int64)
    positions = g.op("Reshape", g.op("Range", scalar(g, 0, np.int64), numel, scalar(g, 1, np.int64)), shape)
    if kind == 0:
        selected = basic_index(g, positions, len(x.shape), idx)
    else:
        selected, sel_shape = positions, x.shape
        if basic is not None:
            selected = basic_index(g, selected, len(x.shape), basic)
            sel_shape = _basic_shape(x.array, basic)
        selected = advanced_index(g, selected, sel_shape, adv)
    flat = g.const(np.asarray([-1], np.int64))
    updates = g.op("Expand", val, g.op("Shape", selected))
    out = g.op("ScatterElements", g.op("Reshape", data, flat), g.op("Reshape", selected, flat),
               g.op("Reshape", updates, flat), axis=0, reduction="add" if accumulate else None)  # fmt: skip
    return g.op("Reshape", out, shape)


# ----- gather / scatter / index_select / masked_fill -------------------------------------------------------------
def _crop_to(g: GraphBuilder, v: Value, index: Value, skip: int | None) -> str:
    """``v`` cut to index's size on every dim but ``skip`` (torch's gather/scatter use only that leading block)."""
    dims = [
        d for d in range(len(v.shape))
        if d != skip and (v.shape[d] != index.shape[d] or (d in index.dynamic) != (d in v.dynamic))
    ]  # fmt: skip
    if not dims:
        return g.name(v)
    ends = [g.dim(index, d) if d in index.dynamic else index.shape[d] for d in dims]
    return _slice(g, g.name(v), [0] * len(dims), ends, dims)


@converter("Gather")
def _gather(g: GraphBuilder, op: TracedOp) -> str:
    x, index, dim = op.args[:3]
    if len(x.shape) == 0:
        flat = g.op("Reshape", g.name(x), g.const(np.asarray([1], np.int64)))
        picked = g.op("Gather", flat, g.op("Reshape", g.name(index), g.const(np.asarray([1], np.int64))), axis=0)
        return g.op("Reshape", picked, g.const(np.asarray(index.shape, np.int64)))
    return g.op("GatherElements", _crop_to(g, x, index, int(dim)), g.name(index), axis=int(dim))


@converter("Scatter")
def _scatter(g: GraphBuilder, op: TracedOp) -> str:
    x, index, src, dim, reduce = op.args[:5]
    dt = out_dtype(op)
    dim = int(dim)
    if reduce is not None and g.opset < 16:
        raise TracingError(f"scatter with reduce={reduce!r} needs opset >= 16 (ScatterElements' reduction)")
    if len(x.shape) == 0:
        raise TracingError("scatter on a 0-d tensor can't be exported")
    if isinstance(src, Value):
        updates = g.cast(_crop_to(g, src, index, None), src.dtype, dt)
    else:
        updates = g.op("Expand", g.name(np.asarray(src, dt)), g.shape_of(index))
    reduction = {None: None, "add": "add", "multiply": "mul"}[reduce]
    return g.op("ScatterElements", g.name(x), g.name(index), updates, axis=dim, reduction=reduction)


@converter("IndexAdd")
def _index_add(g: GraphBuilder, op: TracedOp) -> str:
    """``x.index_add(dim, index, src, alpha=a)``: ScatterElements(reduction='add') with the index spread over
    src's shape (repeated indices accumulate, as in torch)."""
    x, index, src, dim, alpha = op.args[:5]
    dt = out_dtype(op)
    if x is None or len(op.outputs[0].shape) == 0:
        raise TracingError("index_add into zeros or a 0-d tensor (a gradient op) can't be exported")
    if g.opset < 16:
        raise TracingError("index_add needs opset >= 16 (ScatterElements reduction='add')")
    dim = int(dim)
    nd = len(x.shape)
    updates = g.cast(g.name(src), src.dtype, dt)
    if alpha != 1:
        updates = g.op("Mul", updates, scalar(g, alpha, dt))
    shape = [-1 if d == dim else 1 for d in range(nd)]
    spread = g.op("Reshape", g.cast(g.name(index), index.dtype, np.int64), g.const(_ints(shape)))
    spread = g.op("Expand", spread, g.op("Shape", updates))
    return g.op("ScatterElements", g.name(x), spread, updates, axis=dim, reduction="add")


@converter("IndexSelect")
def _index_select(g: GraphBuilder, op: TracedOp) -> str:
    x, index, dim = op.args[:3]
    if len(x.shape) == 0:
        flat = g.op("Reshape", g.name(x), g.const(np.asarray([1], np.int64)))
        return g.op("Reshape", g.op("Gather", flat, g.name(index), axis=0), g.const(np.zeros(0, np.int64)))
    return g.op("Gather", g.name(x), g.name(index), axis=int(dim))


@converter("MaskedFill")
def _masked_fill(g: GraphBuilder, op: TracedOp) -> str:
    x, mask, value = op.args[:3]
    dt = out_dtype(op)
    if isinstance(value, Value):
        fill = g.cast(g.name(value), value.dtype, dt)
    else:
        fill = scalar(g, np.asarray(value).astype(dt), dt)
    return g.op("Where", g.name(mask), fill, g.name(x))


# ----- split / unbind -------------------------------------------------------------------------------------------
@converter("Split")
def _split(g: GraphBuilder, op: TracedOp) -> list:
    x, dim, sizes = op.args[:3]
    if len(sizes) == 1:
        return [g.op("Identity", g.name(x))]
    return g.op("Split", g.name(x), g.const(_ints(sizes)), axis=int(dim), outputs=len(sizes))


@converter("Unbind")
def _unbind(g: GraphBuilder, op: TracedOp) -> list:
    x, dim = op.args[:2]
    dim = int(dim)
    n = x.shape[dim]
    if n == 1:
        return [g.squeeze(g.name(x), [dim])]
    parts = g.op("Split", g.name(x), g.const(np.ones(n, np.int64)), axis=dim, outputs=n)
    return [g.squeeze(p, [dim]) for p in parts]


# ----- repeat / flip / roll / pad ---------------------------------------------------------------------------------
@converter("Repeat")
def _repeat(g: GraphBuilder, op: TracedOp) -> str:
    x, reps = op.args[:2]
    data = g.name(x)
    extra = len(reps) - len(x.shape)
    if extra:
        data = g.unsqueeze(data, list(range(extra)))
    return g.op("Tile", data, g.const(_ints(reps)))


@converter("Flip")
def _flip(g: GraphBuilder, op: TracedOp) -> str:
    x, dims = op.args[:2]
    if not dims:
        return g.op("Identity", g.name(x))
    n = len(dims)
    return _slice(g, g.name(x), [-1] * n, [INT64_MIN] * n, [int(d) for d in dims], [-1] * n)


def _roll_dim(g: GraphBuilder, data: str, x: Value, shift: int, dim: int, size: Any) -> str:
    """Roll along one dim: the last ``shift % n`` entries move to the front (n static or a graph value)."""
    if isinstance(size, int):
        s = shift % size if size else 0
        if s == 0:
            return data
        cut: Any = size - s
    else:
        s_name = g.op("Mod", g.const(np.asarray([shift], np.int64)), size)
        cut = g.op("Sub", size, s_name)
    tail = _slice(g, data, [cut], [INT64_MAX], [dim])
    head = _slice(g, data, [0], [cut], [dim])
    return g.op("Concat", tail, head, axis=dim)


@converter("Roll")
def _roll(g: GraphBuilder, op: TracedOp) -> str:
    x, shifts, dims = op.args[:3]
    data = g.name(x)
    if dims is None:
        flat = g.op("Reshape", data, g.const(np.asarray([-1], np.int64)))
        numel = int(np.prod(x.shape))
        size = g.op("ReduceProd", g.shape_of(x), keepdims=1) if x.dynamic else numel
        return g.op("Reshape", _roll_dim(g, flat, x, int(shifts[0]), 0, size), g.shape_of(x))
    for shift, dim in zip(shifts, dims):
        dim = int(dim)
        size = g.dim(x, dim) if dim in x.dynamic else x.shape[dim]
        data = _roll_dim(g, data, x, int(shift), dim, size)
    return data if data != g.name(x) else g.op("Identity", data)


@converter("ConstantPad")
def _constant_pad(g: GraphBuilder, op: TracedOp) -> str:
    """Negative widths crop (Slice), positive ones pad (Pad, pads as an input since opset 11)."""
    x, widths, value = op.args[:3]
    dt = out_dtype(op)
    data = g.name(x)
    crop = [d for d, (lo, hi) in enumerate(widths) if lo < 0 or hi < 0]
    if crop:
        starts = [max(-int(widths[d][0]), 0) for d in crop]
        ends = [int(widths[d][1]) if widths[d][1] < 0 else INT64_MAX for d in crop]
        data = _slice(g, data, starts, ends, crop)
    before = [max(int(lo), 0) for lo, _ in widths]
    after = [max(int(hi), 0) for _, hi in widths]
    if any(before) or any(after):
        fill = scalar(g, np.asarray(value).astype(dt), dt)
        data = g.op("Pad", data, g.const(_ints(before + after)), fill, mode="constant")
    return data if data != g.name(x) else g.op("Identity", data)


# ----- triu / tril / einsum ---------------------------------------------------------------------------------------
@converter("Tri", since=14)
def _trilu(g: GraphBuilder, op: TracedOp) -> str:
    x, k, upper = op.args[:3]
    return g.op("Trilu", g.name(x), scalar(g, int(k), np.int64), upper=int(bool(upper)))


@converter("Tri")
def _tri_mask(g: GraphBuilder, op: TracedOp) -> str:
    """Before Trilu (opset 14): keep where col - row >= k (triu) or <= k (tril), zero elsewhere."""
    x, k, upper = op.args[:3]
    nd = len(x.shape)
    rows, cols = (_arange(g, x, d) for d in (nd - 2, nd - 1))
    diff = g.op("Sub", g.unsqueeze(cols, [0]), g.unsqueeze(rows, [1]))  # [i, j] = j - i
    bound = scalar(g, int(k), np.int64)
    keep = g.op("Not", g.op("Less" if upper else "Greater", diff, bound))
    return g.op("Where", keep, g.name(x), scalar(g, 0, x.dtype))


def _arange(g: GraphBuilder, x: Value, d: int) -> str:
    if d in x.dynamic:
        n = g.squeeze(g.dim(x, d), [0])
        return g.op("Range", scalar(g, 0, np.int64), n, scalar(g, 1, np.int64))
    return g.const(np.arange(x.shape[d], dtype=np.int64))


@converter("Einsum")
def _einsum(g: GraphBuilder, op: TracedOp) -> str:
    (terms, out), *operands = op.args
    dt = out_dtype(op)
    names = [g.cast(g.name(v), v.dtype, dt) for v in operands]
    return g.op("Einsum", *names, equation=",".join(terms) + "->" + out)
