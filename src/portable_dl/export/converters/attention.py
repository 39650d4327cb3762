"""Converters: fused scaled dot-product attention and the head repeat of grouped-query attention.

``_SDPA`` becomes ``softmax(q @ k^T * scale + bias) @ v`` with torch's semantics: a bool mask adds ``-inf``
where it is False, a float mask is added, ``is_causal`` masks above the diagonal (built with ``Range`` so the
sequence axes may be dynamic), and rows where every position is masked give zeros (torch's safe softmax),
while NaN scores stay NaN. ``nn.MultiheadAttention`` and the transformer layers trace through ordinary ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import GraphBuilder
from ..registry import converter
from ..tracer import TracedOp, TracingError, Value
from ._util import out_dtype, target_shape


@converter("_SDPA")
def _sdpa(g: GraphBuilder, op: TracedOp) -> str:
    q, k, v, fmask, bmask, causal, scale, dropout_p = op.args[:8]
    if float(dropout_p) > 0:
        raise TracingError(
            f"scaled_dot_product_attention with dropout_p={dropout_p} (at {op.where}) draws random masks; "
            "export with dropout_p=0.0 (pass dropout_p=self.dropout if self.training else 0.0)"
        )
    dt = out_dtype(op)
    nd = len(k.shape)
    perm = list(range(nd))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    s = g.op("MatMul", g.name(q), g.op("Transpose", g.name(k), perm=perm))
    s = g.op("Mul", s, g.scalar(float(scale), dt))
    if causal:
        s = g.op("Add", s, _causal_bias(g, q, k, dt))
    if bmask is not None:
        allowed = _mask_name(g, bmask)
        s = g.op("Add", s, g.op("Where", allowed, g.scalar(0, dt), g.scalar(-np.inf, dt)))
    if fmask is not None:
        s = g.op("Add", s, g.name(fmask))
    p = _safe_softmax(g, s, dt)
    return g.op("MatMul", p, g.name(v))


def _mask_name(g: GraphBuilder, mask: Any) -> str:
    """The ONNX name of a bool mask passed to the op as a raw array: its traced value when the tracer saw it
    (a mask computed from the inputs), else a constant."""
    if isinstance(mask, Value):
        return g.name(mask)
    traced = g.tracer.values.get(id(mask)) if g.tracer is not None else None
    if traced is not None and traced.array is mask:
        return g.name(traced)
    return g.const(np.asarray(mask.get() if hasattr(mask, "get") and not isinstance(mask, np.ndarray) else mask))


def _causal_bias(g: GraphBuilder, q: Value, k: Value, dt: Any) -> str:
    """(L, S): 0 where column <= row, -inf above the diagonal (torch's ``tri(L, S)``)."""
    length, source = q.shape[-2], k.shape[-2]
    if len(q.shape) - 2 not in q.dynamic and len(k.shape) - 2 not in k.dynamic:
        tri = np.tri(length, source, dtype=bool)
        return g.const(np.where(tri, 0, -np.inf).astype(dt))
    zero, one = g.scalar(0, np.int64), g.scalar(1, np.int64)
    rows = g.op("Range", zero, g.squeeze(g.dim(q, len(q.shape) - 2), [0]), one)
    cols = g.op("Range", zero, g.squeeze(g.dim(k, len(k.shape) - 2), [0]), one)
    above = g.op("Greater", g.unsqueeze(cols, [0]), g.unsqueeze(rows, [1]))
    return g.op("Where", above, g.scalar(-np.inf, dt), g.scalar(0, dt))


def _safe_softmax(g: GraphBuilder, s: str, dt: Any) -> str:
    """Softmax over the last axis; rows that are all ``-inf`` give 0 (other NaNs are kept)."""
    p = g.op("Softmax", s, axis=-1)
    neg_inf = g.cast(g.op("IsInf", s, detect_positive=0), np.bool_, dt)
    all_masked = g.cast(g.axes("ReduceMin", neg_inf, [-1], 18, keepdims=1), dt, np.bool_)
    return g.op("Where", all_masked, g.scalar(0, dt), p)


@converter("_RepeatHeads", sizes=True)
def _repeat_heads(g: GraphBuilder, op: TracedOp) -> str:
    """``repeat_interleave(rep, dim=-3)``: unsqueeze after the head dim, expand it to ``rep``, merge."""
    x, rep = op.args[:2]
    nd = len(x.shape)
    expanded = g.unsqueeze(g.name(x), [nd - 2])
    ones = np.ones(nd + 1, np.int64)
    ones[nd - 2] = int(rep)
    expanded = g.op("Expand", expanded, g.const(ones))
    return g.op("Reshape", expanded, target_shape(g, op.outputs[0], None, (x,)))
