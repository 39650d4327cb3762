"""Linear algebra, convolution, pooling, normalisation, softmax and embedding lookups."""

from __future__ import annotations

import numpy as np

from ..graph import GraphBuilder
from ..registry import converter
from ..tracer import TracedOp, Value
from ._util import attr_ints, operand, out_dtype


@converter("Linear")
def _linear(g: GraphBuilder, op: TracedOp) -> str:
    x, w, b = op.args[:3]
    dt = out_dtype(op)
    xn, wn = operand(g, x, dt), g.name(w)
    if len(x.shape) == 2:
        return g.op("Gemm", xn, wn, None if b is None else g.name(b), transB=1)
    wt = g.const(np.ascontiguousarray(np.asarray(g.initializers[wn]).T), f"{w.name}.T") if wn in g.initializers else (
        g.op("Transpose", wn, perm=[1, 0]))  # fmt: skip
    out = g.op("MatMul", xn, wt)
    return out if b is None else g.op("Add", out, g.name(b))


@converter("MatMul")
def _matmul(g: GraphBuilder, op: TracedOp) -> str:
    a, b = op.args[:2]
    ta, tb = (list(op.args[2:4]) + [False, False])[:2]
    dt = out_dtype(op)
    an, bn = operand(g, a, dt), operand(g, b, dt)
    if ta:
        an = _swap_last(g, an, len(a.shape))
    if tb:
        bn = _swap_last(g, bn, len(b.shape))
    return g.op("MatMul", an, bn)


def _swap_last(g: GraphBuilder, name: str, ndim: int) -> str:
    perm = list(range(ndim))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    return g.op("Transpose", name, perm=perm)


# ----- convolution -----------------------------------------------------------------------------------------
@converter("ConvNd")
def _conv(g: GraphBuilder, op: TracedOp) -> str:
    x, w, b, geom = op.args[:4]
    k, s, d, lo, hi, groups = geom
    return g.op(
        "Conv", g.name(x), g.name(w), None if b is None else g.name(b),
        kernel_shape=attr_ints(k), strides=attr_ints(s), dilations=attr_ints(d),
        pads=attr_ints(lo) + attr_ints(hi), group=int(groups),
    )  # fmt: skip


# ----- pooling -----------------------------------------------------------------------------------------------
def _pads(p: tuple, hi: tuple) -> list:
    return attr_ints(p) + [max(int(h), 0) for h in hi]


@converter("MaxPool")
def _max_pool(g: GraphBuilder, op: TracedOp) -> list:
    x, geom = op.args[:2]
    k, s, d, p, hi, _ = geom
    attrs = {"kernel_shape": attr_ints(k), "strides": attr_ints(s), "pads": _pads(p, hi)}
    if any(int(v) != 1 for v in d):
        attrs["dilations"] = attr_ints(d)
    if op.outputs[1] is None or op.outputs[1].shape == (0,):
        return [g.op("MaxPool", g.name(x), **attrs), None]
    values, index = g.op("MaxPool", g.name(x), outputs=2, **attrs)
    # ONNX indices run over the whole (N, C, *sp) tensor; torch's over each plane: subtract the plane offsets
    plane = int(np.prod(x.shape[2:]))
    n_c = g.op("Slice", g.shape_of(x), g.const(np.asarray([0], np.int64)), g.const(np.asarray([2], np.int64)))
    count = g.op("ReduceProd", n_c, keepdims=0) if g.opset < 18 else g.op(
        "ReduceProd", n_c, keepdims=0)  # fmt: skip
    offsets = g.op("Mul", g.op("Range", g.scalar(0, np.int64), count, g.scalar(1, np.int64)), g.scalar(plane, np.int64))
    offsets = g.op("Reshape", offsets, g.op("Concat", n_c, g.const(np.ones(len(k), np.int64)), axis=0))
    return [values, g.op("Sub", index, offsets)]


# ----- normalisation -----------------------------------------------------------------------------------------
def _norm(g: GraphBuilder, op: TracedOp) -> str:
    x, weight, bias, stat_shape, axes, wshape, eps = op.args[:7]
    center = op.args[7] if len(op.args) > 7 else True
    fixed = op.args[8] if len(op.args) > 8 else None
    dt = out_dtype(op)
    xn = operand(g, x, dt)
    nd = len(x.shape)
    if fixed is not None:  # eval-mode batch norm: y = x * scale + shift, one BatchNormalization node
        mean, rstd = (None if a is None else np.asarray(_host(a), dtype=np.float64) for a in fixed)
        w = np.ones(rstd.shape) if weight is None else np.asarray(_host(weight.array), np.float64).reshape(rstd.shape)
        b = np.zeros(rstd.shape) if bias is None else np.asarray(_host(bias.array), np.float64).reshape(rstd.shape)
        scale = (rstd * w).reshape(-1)
        shift = (b - (0 if mean is None else mean) * rstd * w).reshape(-1)
        if nd >= 2 and scale.shape[0] == x.shape[1]:
            c = scale.shape[0]
            eps = 1e-5  # var + eps == 1 (an epsilon of 0 is read as "unset" by some runtimes)
            return g.op(
                "BatchNormalization", xn, g.const(scale.astype(dt)), g.const(shift.astype(dt)),
                g.const(np.zeros(c, dt)), g.const(np.full(c, 1 - eps, dt)), epsilon=eps,
            )  # fmt: skip
        return g.op("Add", g.op("Mul", xn, g.const(scale.reshape(wshape).astype(dt))),
                    g.const(shift.reshape(wshape).astype(dt)))  # fmt: skip
    axes = [int(a) for a in axes]
    last = list(range(nd - len(axes), nd))
    if stat_shape is None and axes == last and center and g.opset >= 17:
        w = g.name(weight) if weight is not None else g.const(np.ones(x.shape[-len(axes) :], dt))
        bn = None if bias is None else g.name(bias)
        return g.op("LayerNormalization", xn, w, bn, axis=-len(axes), epsilon=float(eps))
    return _norm_decomposed(g, op, xn, dt)


def _host(a: object) -> np.ndarray:
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


def _norm_decomposed(g: GraphBuilder, op: TracedOp, xn: str, dt: object) -> str:
    """(x - mean) / sqrt(var + eps) over ``axes`` (of x viewed as ``stat_shape``), then the affine part."""
    x, weight, bias, stat_shape, axes, wshape, eps = op.args[:7]
    center = op.args[7] if len(op.args) > 7 else True
    xs = xn
    if stat_shape is not None:
        shape = [0] + [int(n) for n in stat_shape[1:]]  # the batch dim is copied from x
        xs = g.op("Reshape", xn, g.const(np.asarray(shape, np.int64)))
    axes = [int(a) for a in axes]
    if center:
        mean = g.axes("ReduceMean", xs, axes, 18, keepdims=1)
        xc = g.op("Sub", xs, mean)
    else:
        xc = xs
    var = g.axes("ReduceMean", g.op("Mul", xc, xc), axes, 18, keepdims=1)
    y = g.op("Div", xc, g.op("Sqrt", g.op("Add", var, g.scalar(float(eps), dt))))
    if stat_shape is not None:
        y = g.op("Reshape", y, g.shape_of(x))
    if weight is not None:
        y = g.op("Mul", y, _param_as(g, weight, wshape))
    if bias is not None:
        y = g.op("Add", y, _param_as(g, bias, wshape))
    return y


def _param_as(g: GraphBuilder, value: Value, shape: tuple) -> str:
    if isinstance(value, Value) and value.kind == "param" and g.fold:
        return g.const(_host(value.array).reshape(tuple(int(n) for n in shape)), value.name)
    return g.op("Reshape", g.name(value), g.const(np.asarray([int(n) for n in shape], np.int64)))


# ----- softmax -------------------------------------------------------------------------------------------------
@converter("Softmax")
def _softmax(g: GraphBuilder, op: TracedOp) -> str:
    x, dim = op.args[:2]
    safe = op.args[2] if len(op.args) > 2 else False
    out = g.op("Softmax", g.name(x), axis=int(dim))
    if safe:  # rows that are all -inf give 0, not NaN
        out = g.op("Where", g.op("IsNaN", out), g.scalar(0, out_dtype(op)), out)
    return out


@converter("LogSoftmax")
def _log_softmax(g: GraphBuilder, op: TracedOp) -> str:
    x, dim = op.args[:2]
    return g.op("LogSoftmax", g.name(x), axis=int(dim))


# ----- embedding ---------------------------------------------------------------------------------------------
@converter("_Gather")
def _gather_rows(g: GraphBuilder, op: TracedOp) -> str:
    table, index = op.args[:2]
    fcoef = op.args[2] if len(op.args) > 2 else None
    along = op.args[4] if len(op.args) > 4 else False
    if along:
        out = g.op("GatherElements", g.name(table), g.name(index), axis=0)
    else:
        out = g.op("Gather", g.name(table), g.name(index), axis=0)
    if fcoef is not None:
        out = g.op("Mul", out, g.name(fcoef, out_dtype(op)))
    return out
