"""Loss converters: cross_entropy (class indices and probabilities), nll_loss, binary_cross_entropy[_with_logits],
kl_div, mse/l1/smooth_l1/huber (``DiffLoss``) and soft_margin_loss.

Each is decomposed into plain ONNX ops that follow the eager forward step by step rather than ONNX's
``SoftmaxCrossEntropyLoss``/``NegativeLogLikelihoodLoss``: those differ from torch where it matters (label
smoothing, all targets ignored, 0-d results), and the decomposition keeps ``ignore_index``, weights and the
``mean`` denominator (sum of the kept targets' weights) exactly as torch. The eager range checks
(probabilities in [0, 1], targets in range) raise in Python and have no graph counterpart: out-of-range
values give NaN (or an ONNX Runtime index error) instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import GraphBuilder, onnx_dtype
from ..registry import converter
from ..tracer import TracedOp, Value
from ._util import operand, out_dtype
from .reduction import scalar

_I64 = np.dtype(np.int64)


def _reduce(g: GraphBuilder, el: str, rank: int, reduction: str, dt: Any) -> str:
    """torch's reduction of the elementwise loss ``el``: as is, its sum, or its mean (NaN when empty)."""
    if reduction == "none":
        return el
    total = g.op("Identity", el) if rank == 0 else g.op("ReduceSum", el, keepdims=0)
    if reduction == "sum":
        return total
    return g.op("Div", total, g.op("Cast", g.op("Size", el), to=onnx_dtype(dt)))


def _log1p(g: GraphBuilder, x: str, dt: Any) -> str:
    return g.op("Log", g.op("Add", x, scalar(g, 1, dt)))


def _rank(*values: Any) -> int:
    """The rank of the broadcast elementwise loss of these operands."""
    return max(len(v.shape) for v in values if isinstance(v, Value))


def _opt(g: GraphBuilder, value: Any, dt: Any) -> Any:
    """An optional tensor argument as an ONNX name of ``dt`` (None stays None)."""
    return None if value is None else operand(g, value, dt)


# ----- class-index targets -------------------------------------------------------------------------------------
def _class_view(g: GraphBuilder, logp: Value, rank: int, cdim: int) -> Any:
    """A function turning a per-class (C,) vector into a shape that broadcasts along ``cdim``."""

    def view(name: str) -> str:
        if rank <= 2:
            return name
        shape = [1] * rank
        shape[cdim] = -1
        return g.op("Reshape", name, g.const(np.asarray(shape, np.int64)))

    return view


def _index_loss(g: GraphBuilder, logp: str, x: Value, target: Value, weight: Any, reduction: str,
                ignore_index: int, smoothing: float, dt: Any) -> str:  # fmt: skip
    """nll_loss on the log-probabilities ``logp`` (shaped like ``x``), with cross-entropy's label smoothing.

    Works with the targets unsqueezed at the class dim (size 1 there) so that ``GatherElements`` picks one
    log-probability per target; ignored targets pick class 0 and are then zeroed, and their weight is 0.
    """
    rank = len(x.shape)
    cdim = 0 if rank == 1 else 1
    n_classes = x.shape[cdim]
    t = g.cast(g.name(target), target.dtype, _I64)
    if rank == 1:
        tu = g.op("Reshape", t, g.const(np.asarray([1], np.int64)))
    else:
        tu = g.unsqueeze(t, [cdim])
    keep = g.op("Not", g.op("Equal", tu, g.const(np.asarray(ignore_index, np.int64))))
    safe = g.op("Where", keep, tu, g.const(np.asarray(0, np.int64)))
    zero = scalar(g, 0, dt)
    el = g.op("Neg", g.op("GatherElements", logp, safe, axis=cdim))
    keep_f = g.op("Cast", keep, to=onnx_dtype(dt))
    w = _opt(g, weight, dt)
    if w is not None:
        wt = g.op("Mul", g.op("Gather", w, safe, axis=0), keep_f)
        el = g.op("Mul", el, wt)
    else:
        wt = keep_f
    el = g.op("Where", keep, el, zero)
    if smoothing > 0:
        view = _class_view(g, x, rank, cdim)
        terms = logp if w is None else g.op("Mul", logp, view(w))
        smooth = g.op("Neg", g.axes("ReduceSum", terms, [cdim], 13, keepdims=1))
        smooth = g.op("Where", keep, smooth, zero)
        el = g.op("Add", g.op("Mul", scalar(g, 1 - smoothing, dt), el),
                  g.op("Mul", scalar(g, smoothing / n_classes, dt), smooth))  # fmt: skip
    if reduction == "none":
        return g.squeeze(el, [cdim])
    total = g.op("ReduceSum", el, keepdims=0)
    if reduction == "sum":
        return total
    return g.op("Div", total, g.op("ReduceSum", wt, keepdims=0))


@converter("CrossEntropy")
def _cross_entropy(g: GraphBuilder, op: TracedOp) -> list:
    x, target, weight, reduction, ignore_index, smoothing = op.args[:6]
    dt = out_dtype(op)
    cdim = 0 if len(x.shape) == 1 else 1
    logp = g.op("LogSoftmax", g.name(x), axis=cdim)
    loss = _index_loss(g, logp, x, target, weight, reduction, int(ignore_index), float(smoothing), dt)
    return [loss, logp]


@converter("NLLLoss")
def _nll_loss(g: GraphBuilder, op: TracedOp) -> str:
    x, target, weight, reduction, ignore_index = op.args[:5]
    return _index_loss(g, g.name(x), x, target, weight, reduction, int(ignore_index), 0.0, out_dtype(op))


@converter("SoftTargetCrossEntropy")
def _soft_cross_entropy(g: GraphBuilder, op: TracedOp) -> list:
    """``-sum(logp * a, class dim)`` with ``a = q (1 - eps) + eps / C`` (times the class weights)."""
    x, q, weight, reduction, smoothing = op.args[:5]
    dt = out_dtype(op)
    rank = len(x.shape)
    cdim = 0 if rank == 1 else 1
    logp = g.op("LogSoftmax", g.name(x), axis=cdim)
    a = operand(g, q, dt)
    if smoothing > 0:
        a = g.op("Add", g.op("Mul", a, scalar(g, 1 - smoothing, dt)), scalar(g, smoothing / x.shape[cdim], dt))
    if weight is not None:
        a = g.op("Mul", a, _class_view(g, x, rank, cdim)(operand(g, weight, dt)))
    el = g.op("Neg", g.axes("ReduceSum", g.op("Mul", logp, a), [cdim], 13, keepdims=0))
    return [_reduce(g, el, rank - 1, reduction, dt), logp]


# ----- pointwise losses ----------------------------------------------------------------------------------------
@converter("KLDiv")
def _kl_div(g: GraphBuilder, op: TracedOp) -> str:
    """``exp(t) (t - x)`` for log targets, else ``t log t - t x`` with ``0 log 0 = 0``."""
    x, t, log_target, reduction = op.args[:4]
    dt = out_dtype(op)
    xs, ts = operand(g, x, dt), operand(g, t, dt)
    if log_target:
        el = g.op("Mul", g.op("Exp", ts), g.op("Sub", ts, xs))
    else:
        tlogt = g.op("Where", g.op("Equal", ts, scalar(g, 0, dt)), scalar(g, 0, dt), g.op("Mul", ts, g.op("Log", ts)))
        el = g.op("Sub", tlogt, g.op("Mul", ts, xs))
    return _reduce(g, el, _rank(x, t), reduction, dt)


@converter("DiffLoss")
def _diff_loss(g: GraphBuilder, op: TracedOp) -> str:
    """mse / l1 / smooth_l1 (``beta`` = param) / huber (``delta`` = param) of ``d = x - y``."""
    x, y, kind, param, reduction = op.args[:5]
    dt = out_dtype(op)
    d = g.op("Sub", operand(g, x, dt), operand(g, y, dt))
    if kind == "mse":
        el = g.op("Mul", d, d)
    elif kind == "l1":
        el = g.op("Abs", d)
    else:
        z = g.op("Abs", d)
        sq = g.op("Mul", g.op("Mul", scalar(g, 0.5, dt), z), z)
        if kind == "smooth_l1":
            small, big = g.op("Div", sq, scalar(g, param, dt)), g.op("Sub", z, scalar(g, 0.5 * param, dt))
        else:
            small, big = sq, g.op("Mul", scalar(g, param, dt), g.op("Sub", z, scalar(g, 0.5 * param, dt)))
        el = g.op("Where", g.op("Less", z, scalar(g, param, dt)), small, big)
    return _reduce(g, el, _rank(x, y), reduction, dt)


@converter("SoftMarginLoss")
def _soft_margin(g: GraphBuilder, op: TracedOp) -> str:
    """``log1p(exp(-y x))``, overflowing to inf like eager (not ONNX's stable Softplus)."""
    x, y, reduction = op.args[:3]
    dt = out_dtype(op)
    v = g.op("Neg", g.op("Mul", operand(g, y, dt), operand(g, x, dt)))
    return _reduce(g, _log1p(g, g.op("Exp", v), dt), _rank(x, y), reduction, dt)


@converter("BinaryCrossEntropy")
def _bce(g: GraphBuilder, op: TracedOp) -> str:
    """``(y - 1) max(log1p(-x), -100) - y max(log(x), -100)`` (times weight)."""
    x, y, weight, reduction = op.args[:4]
    dt = out_dtype(op)
    xs, ys = operand(g, x, dt), operand(g, y, dt)
    floor = scalar(g, -100, dt)
    log_1mx = g.op("Max", _log1p(g, g.op("Neg", xs), dt), floor)
    log_x = g.op("Max", g.op("Log", xs), floor)
    el = g.op("Sub", g.op("Mul", g.op("Sub", ys, scalar(g, 1, dt)), log_1mx), g.op("Mul", ys, log_x))
    w = _opt(g, weight, dt)
    if w is not None:
        el = g.op("Mul", el, w)
    return _reduce(g, el, _rank(x, y), reduction, dt)


@converter("BinaryCrossEntropyWithLogits")
def _bce_logits(g: GraphBuilder, op: TracedOp) -> str:
    """``(1 - y) x - ((pw - 1) y + 1) log_sigmoid(x)`` with ``log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|))``."""
    x, y, weight, pos_weight, reduction = op.args[:5]
    dt = out_dtype(op)
    xs, ys = operand(g, x, dt), operand(g, y, dt)
    one = scalar(g, 1, dt)
    log_sig = g.op("Sub", g.op("Min", xs, scalar(g, 0, dt)), _log1p(g, g.op("Exp", g.op("Neg", g.op("Abs", xs))), dt))
    coef = None
    pw = _opt(g, pos_weight, dt)
    if pw is not None:
        coef = g.op("Add", g.op("Mul", g.op("Sub", pw, one), ys), one)
    el = g.op("Sub", g.op("Mul", g.op("Sub", one, ys), xs), log_sig if coef is None else g.op("Mul", coef, log_sig))
    w = _opt(g, weight, dt)
    if w is not None:
        el = g.op("Mul", el, w)
    return _reduce(g, el, _rank(x, y), reduction, dt)
