"""Reductions, scans, extremes, norms and sorting: sum/mean/prod/var/logsumexp/any/all, cumsum/cumprod,
max/min/argmax/argmin, vector norms, ``sum_to_size``, topk/sort/argsort.

Torch semantics kept where ONNX differs: integer and bool sums give int64, float16 accumulates in float32,
NaN propagates through max/min and wins argmax/argmin (ONNX Runtime's ReduceMax/ArgMax skip NaN).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..graph import GraphBuilder
from ..graph import onnx_dtype as _onnx
from ..registry import converter
from ..tracer import TracedOp, Value
from ._util import out_dtype

# the opset where each reduce op's ``axes`` moved from an attribute to an input
_AXES_INPUT = {"ReduceSum": 13}


def reduce(g: GraphBuilder, op_type: str, data: str, axis: Any, keepdim: bool) -> str:
    """``op_type`` over ``axis`` (None: every dim) with ``keepdims``; axes as attribute or input by opset."""
    return g.axes(op_type, data, None if axis is None else list(axis), _AXES_INPUT.get(op_type, 18),
                  keepdims=int(bool(keepdim)))  # fmt: skip


def scalar(g: GraphBuilder, value: Any, dtype: Any) -> str:
    """A true 0-d constant, as a ``Constant`` node: ``g.scalar``'s initializers come out 1-D (``GraphBuilder.const``
    goes through ``np.ascontiguousarray``, which makes 0-d arrays 1-D), which changes the rank of 0-d results."""
    from onnx import numpy_helper

    return g.op("Constant", value=numpy_helper.from_array(np.asarray(value, dtype=dtype), ""))


def _is_float(dtype: Any) -> bool:
    return np.dtype(dtype).kind == "f"


def _work_dtype(dtype: Any) -> Any:
    """float16 accumulates in float32 (as torch and the eager ops do); others keep their dtype."""
    return np.float32 if np.dtype(dtype) == np.float16 else np.dtype(dtype)


def _as(g: GraphBuilder, x: Value, dtype: Any) -> str:
    return g.cast(g.name(x), x.dtype, dtype)


def _axes_of(x: Value, axis: Any) -> list:
    return list(range(len(x.shape))) if axis is None else [int(a) for a in axis]


def _count(g: GraphBuilder, x: Value, axis: Any, dtype: Any) -> str:
    """The number of reduced elements as a scalar of ``dtype``; computed in the graph when a reduced dim is dynamic."""
    axes = _axes_of(x, axis)
    if not any(a in x.dynamic for a in axes):
        return scalar(g, math.prod(x.shape[a] for a in axes), dtype)
    dims = g.op("Gather", g.shape_of(x), g.const(np.asarray(axes, np.int64)), axis=0)
    return g.op("Cast", g.op("ReduceProd", dims, keepdims=0), to=_onnx(dtype))


# ----- sum / mean / prod ---------------------------------------------------------------------------------
def _sum_like(onnx_op: str) -> Any:
    def convert(g: GraphBuilder, op: TracedOp) -> str:
        x, axis, keepdim = op.args[:3]
        dt = out_dtype(op)
        work = _work_dtype(dt)
        data = _as(g, x, work)
        if op.kind == "_NanSum" and _is_float(x.dtype):
            data = g.op("Where", g.op("IsNaN", data), scalar(g, 0, work), data)
        if len(x.shape) == 0:
            return g.cast(g.op("Identity", data), work, dt)
        return g.cast(reduce(g, onnx_op, data, axis, keepdim), work, dt)

    return convert


converter("Sum", "_NanSum")(_sum_like("ReduceSum"))
converter("Mean")(_sum_like("ReduceMean"))
converter("Prod")(_sum_like("ReduceProd"))


@converter("SumTo")
def _sum_to(g: GraphBuilder, op: TracedOp) -> str:
    """Sum down to ``shape``: the leading extra dims and the dims that are 1 in ``shape`` but not in x."""
    x, shape = op.args[:2]
    dt = out_dtype(op)
    lead = len(x.shape) - len(shape)
    axes = list(range(lead)) + [
        i + lead for i, s in enumerate(shape) if int(s) == 1 and (x.shape[i + lead] != 1 or i + lead in x.dynamic)
    ]
    data = _as(g, x, _work_dtype(dt))
    if axes:
        data = reduce(g, "ReduceSum", data, axes, True)
    if lead:
        data = g.squeeze(data, list(range(lead)))
    return g.cast(data, _work_dtype(dt), dt) if axes or lead else g.op("Identity", data)


@converter("_Var")
def _var(g: GraphBuilder, op: TracedOp) -> str:
    """sum((x - mean)^2) / max(n - correction, 0): n - correction <= 0 gives inf (or nan for 0/0) as torch."""
    x, axis, keepdim, correction, take_sqrt = op.args[:5]
    dt = out_dtype(op)
    work = _work_dtype(dt)
    data = _as(g, x, work)
    n = _count(g, x, axis, work)
    mean = g.op("Div", reduce(g, "ReduceSum", data, axis, True), n)
    diff = g.op("Sub", data, mean)
    ss = reduce(g, "ReduceSum", g.op("Mul", diff, diff), axis, keepdim)
    dof = g.op("Max", g.op("Sub", n, scalar(g, correction, work)), scalar(g, 0, work))
    out = g.op("Div", ss, dof)
    if take_sqrt:
        out = g.op("Sqrt", out)
    return g.cast(out, work, dt)


def _finite_or_zero(g: GraphBuilder, m: str, dtype: Any) -> str:
    """``m`` where finite, else 0 (``m - m`` is 0 only for finite values)."""
    finite = g.op("Equal", g.op("Sub", m, m), scalar(g, 0, dtype))
    return g.op("Where", finite, m, scalar(g, 0, dtype))


@converter("Logsumexp")
def _logsumexp(g: GraphBuilder, op: TracedOp) -> str:
    x, axis, keepdim = op.args[:3]
    dt = out_dtype(op)
    work = _work_dtype(dt)
    data = _as(g, x, work)
    m = _finite_or_zero(g, _nan_max(g, data, axis, True, True, work), work)
    s = reduce(g, "ReduceSum", g.op("Exp", g.op("Sub", data, m)), axis, keepdim)
    if not keepdim:
        m = g.op("Reshape", m, g.const(np.zeros(0, np.int64))) if axis is None else g.squeeze(m, _axes_of(x, axis))
    return g.cast(g.op("Add", g.op("Log", s), m), work, dt)


@converter("_Logical")
def _logical(g: GraphBuilder, op: TracedOp) -> str:
    """any/all/count_nonzero: counts of nonzero elements (NaN counts as nonzero)."""
    x, axis, keepdim, name = op.args[:4]
    dt = out_dtype(op)
    data = g.name(x)
    nonzero = data if np.dtype(x.dtype) == np.bool_ else g.op("Not", g.op("Equal", data, scalar(g, 0, x.dtype)))
    if name == "all":
        nonzero = g.op("Not", nonzero)
    count = g.op("Cast", nonzero, to=_onnx(np.int64))
    count = g.op("Identity", count) if len(x.shape) == 0 else reduce(g, "ReduceSum", count, axis, keepdim)
    if name == "count_nonzero":
        return count
    zero = scalar(g, 0, np.int64)
    result = g.op("Greater", count, zero) if name == "any" else g.op("Equal", count, zero)
    return g.cast(result, np.bool_, dt)


# ----- scans ---------------------------------------------------------------------------------------------------
@converter("Cumsum", "_RevCumsum")
def _cumsum(g: GraphBuilder, op: TracedOp) -> str:
    x, axis = op.args[:2]
    dt = out_dtype(op)
    work = _work_dtype(dt)
    data = _as(g, x, work)
    if len(x.shape) == 0:
        return g.cast(g.op("Identity", data), work, dt)
    axis_name = scalar(g, int(axis), np.int64)
    out = g.op("CumSum", data, axis_name, reverse=1 if op.kind == "_RevCumsum" else None)
    return g.cast(out, work, dt)


@converter("Cumprod")
def _cumprod(g: GraphBuilder, op: TracedOp) -> str:
    """ONNX has no CumProd: out[i] = prod_j where(j <= i, x[j], 1), an n x n product along ``axis`` (exact
    for zeros and negatives, unlike exp(cumsum(log)))."""
    x, axis = op.args[:2]
    dt = out_dtype(op)
    work = _work_dtype(dt)
    data = _as(g, x, work)
    nd = len(x.shape)
    if nd == 0:
        return g.cast(g.op("Identity", data), work, dt)
    axis = int(axis)
    trailing = list(range(2, 2 + nd - axis - 1))
    if axis in x.dynamic:
        r = g.op("Range", scalar(g, 0, np.int64), g.squeeze(g.dim(x, axis), [0]), scalar(g, 1, np.int64))
        mask = g.op("LessOrEqual", g.unsqueeze(r, [0]), g.unsqueeze(r, [1]))  # [i, j] = j <= i
        if trailing:
            mask = g.unsqueeze(mask, trailing)
    else:
        n = x.shape[axis]
        lower = np.tril(np.ones((n, n), dtype=bool)).reshape((n, n) + (1,) * len(trailing))
        mask = g.const(lower)
    spread = g.unsqueeze(data, [axis])  # [..., 1 (i), n (j), ...]
    masked = g.op("Where", mask, spread, scalar(g, 1, work))
    return g.cast(reduce(g, "ReduceProd", masked, [axis + 1], False), work, dt)


# ----- extremes ------------------------------------------------------------------------------------------------
def _nan_max(g: GraphBuilder, data: str, axis: Any, keepdim: bool, is_max: bool, dtype: Any) -> str:
    """ReduceMax/Min that returns NaN where the reduced slice has a NaN (torch), for float ``dtype``."""
    out = reduce(g, "ReduceMax" if is_max else "ReduceMin", data, axis, keepdim)
    if not _is_float(dtype):
        return out
    nan_sum = reduce(g, "ReduceSum", g.op("Where", g.op("IsNaN", data), data, scalar(g, 0, dtype)), axis, keepdim)
    return g.op("Add", out, nan_sum)  # + 0, or NaN when a NaN was there


@converter("_Extreme")
def _extreme(g: GraphBuilder, op: TracedOp) -> str:
    x, axis, keepdim, is_max = op.args[:4]
    dt = out_dtype(op)
    work = np.dtype(np.int32) if np.dtype(dt) == np.bool_ else np.dtype(dt)
    data = _as(g, x, work)
    if len(x.shape) == 0:
        return g.cast(g.op("Identity", data), work, dt)
    return g.cast(_nan_max(g, data, axis, keepdim, is_max, work), work, dt)


def _arg(g: GraphBuilder, x: Value, data: str, axis: int, keepdim: bool, is_max: bool) -> str:
    """ArgMax/ArgMin (first index on ties); a NaN wins, at its first position (torch, NumPy)."""
    kind = "ArgMax" if is_max else "ArgMin"
    if np.dtype(x.dtype) == np.bool_:
        data = g.op("Cast", data, to=_onnx(np.int32))
    idx = g.op(kind, data, axis=axis, keepdims=int(keepdim))
    if not _is_float(x.dtype):
        return idx
    isnan = g.op("Cast", g.op("IsNaN", data), to=_onnx(np.float32))
    first_nan = g.op("ArgMax", isnan, axis=axis, keepdims=int(keepdim))
    has_nan = g.op("Greater", reduce(g, "ReduceMax", isnan, [axis], keepdim), scalar(g, 0, np.float32))
    return g.op("Where", has_nan, first_nan, idx)


@converter("_ExtremeDim")
def _extreme_dim(g: GraphBuilder, op: TracedOp) -> list:
    x, axis, keepdim, is_max = op.args[:4]
    data = g.name(x)
    if len(x.shape) == 0:
        return [g.op("Identity", data), scalar(g, 0, np.int64)]
    idx = _arg(g, x, data, int(axis), True, is_max)
    values = g.op("GatherElements", data, idx, axis=int(axis))
    if not keepdim:
        values, idx = g.squeeze(values, [int(axis)]), g.squeeze(idx, [int(axis)])
    return [values, idx]


@converter("_ArgExtreme")
def _arg_extreme(g: GraphBuilder, op: TracedOp) -> str:
    x, axis, keepdim, is_max = op.args[:4]
    data = g.name(x)
    if axis is None:
        flat = g.op("Reshape", data, g.const(np.asarray([-1], np.int64)))
        idx = _arg(g, x, flat, 0, False, is_max)
        if keepdim and len(x.shape):
            idx = g.op("Reshape", idx, g.const(np.ones(len(x.shape), np.int64)))
        return idx
    return _arg(g, x, data, int(axis), bool(keepdim), is_max)


# ----- norms ---------------------------------------------------------------------------------------------------
@converter("_VectorNorm")
def _vector_norm(g: GraphBuilder, op: TracedOp) -> str:
    x, p, axis, keepdim = op.args[:4]
    dt = out_dtype(op)
    work = _work_dtype(dt)
    data = _as(g, x, work)
    p = float(p)
    if p == 2:
        out = g.op("Sqrt", reduce(g, "ReduceSum", g.op("Mul", data, data), axis, keepdim))
    elif p == 1:
        out = reduce(g, "ReduceSum", g.op("Abs", data), axis, keepdim)
    elif p in (math.inf, -math.inf):
        out = _nan_max(g, g.op("Abs", data), axis, keepdim, p > 0, work)
    elif p == 0:
        nonzero = g.op("Cast", g.op("Not", g.op("Equal", data, scalar(g, 0, work))), to=_onnx(work))
        out = reduce(g, "ReduceSum", nonzero, axis, keepdim)
    else:
        powered = g.op("Pow", g.op("Abs", data), scalar(g, p, work))
        out = g.op("Pow", reduce(g, "ReduceSum", powered, axis, keepdim), scalar(g, 1.0 / p, work))
    if len(x.shape) == 0:
        out = g.op("Identity", out)
    return g.cast(out, work, dt)


# ----- sorting ---------------------------------------------------------------------------------------------------
def _topk(g: GraphBuilder, x: Value, axis: int, k: Any, largest: bool) -> list:
    """TopK along ``axis``: sorted values and int64 indices (ties: the lower index first)."""
    k_name = g.const(np.asarray([int(k)], np.int64)) if not isinstance(k, str) else k
    return g.op("TopK", g.name(x), k_name, axis=axis, largest=int(largest), sorted=1, outputs=2)


@converter("_Select")
def _select(g: GraphBuilder, op: TracedOp) -> list:
    """sort -> TopK with k = the dim's size; topk -> TopK; kthvalue -> TopK smallest k, then the last one."""
    x, axis, mode, arg, flag, keepdim = op.args[:6]
    if len(x.shape) == 0:
        return [g.op("Identity", g.name(x)), scalar(g, 0, np.int64)]
    axis = int(axis)
    if mode == "sort":
        values, idx = _topk(g, x, axis, g.dim(x, axis) if axis in x.dynamic else x.shape[axis], bool(arg))
        return [values, idx]
    if mode == "topk":
        return _topk(g, x, axis, arg, bool(flag))
    values, idx = _topk(g, x, axis, arg, False)
    start = g.const(np.asarray([int(arg) - 1], np.int64))
    end = g.const(np.asarray([int(arg)], np.int64))
    axes = g.const(np.asarray([axis], np.int64))
    values, idx = (g.op("Slice", v, start, end, axes) for v in (values, idx))
    if not keepdim:
        values, idx = g.squeeze(values, [axis]), g.squeeze(idx, [axis])
    return [values, idx]


@converter("_Argsort")
def _argsort(g: GraphBuilder, op: TracedOp) -> str:
    x, axis, descending = op.args[:3]
    if len(x.shape) == 0:
        return scalar(g, 0, np.int64)
    axis = int(axis)
    n = g.dim(x, axis) if axis in x.dynamic else x.shape[axis]
    return _topk(g, x, axis, n, bool(descending))[1]
