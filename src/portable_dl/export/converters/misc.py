"""Converters for the remaining forward ops: training-mode dropout, ``index_fill`` (``_FillWhere``), diagonals
(``diagonal``, ``diag``, ``diag_embed``) and device moves (an Identity in the graph).

``_Flip``, ``_Shift``, ``_Unreduce``, ``_TakeAlong`` and ``_PutAlong`` only run in backward passes, and
``_MaxMin`` is the base of ``Maximum``/``Minimum`` (converted in elementwise.py): they need no converter.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..graph import GraphBuilder, onnx_dtype, to_numpy
from ..registry import converter
from ..tracer import TracedOp, TracingError, Value
from ._util import out_dtype
from .reduction import scalar

_I64 = np.int64
_ALPHA = 1.7580993408473766  # -SELU scale * alpha, as in ops/dropout.py


# ----- dropout -------------------------------------------------------------------------------------------------
def _noise_shape(g: GraphBuilder, x: Value, noise_shape: tuple) -> str:
    """The int64 shape of the noise: x's dims (from the graph when dynamic) where the noise follows x, else 1."""
    shape = x.shape
    if len(noise_shape) != len(shape) or any(int(n) not in (1, s) for n, s in zip(noise_shape, shape)):
        raise TracingError(f"dropout noise shape {tuple(noise_shape)} does not broadcast to the input {shape}")
    lead = next((d for d, (n, s) in enumerate(zip(noise_shape, shape)) if int(n) != s), len(shape))
    if not any(d in x.dynamic for d in range(lead)):
        return g.const(np.asarray([int(n) for n in noise_shape], _I64))
    parts = [g.dim(x, d) if d < lead else g.const(np.asarray([1], _I64)) for d in range(len(shape))]
    return g.op("Concat", *parts, axis=0)


def _ratio_dtype(dt: Any) -> Any:
    """Dropout's ``ratio`` input dtype: the data's float type (float32 for bfloat16 and others)."""
    return np.dtype(dt) if np.dtype(dt) in (np.dtype(np.float16), np.dtype(np.float64)) else np.dtype(np.float32)


@converter("_Dropout", sizes=True)
def _dropout(g: GraphBuilder, op: TracedOp) -> str:
    """ONNX Dropout in training mode (random in the graph, as in eager training-mode tracing).

    Elementwise dropout is one Dropout node; channel-wise dropout draws its mask on a ones tensor of the noise
    shape and broadcasts it. Alpha dropout maps kept values to ``a x + alpha a p`` and dropped ones to
    ``-alpha a + alpha a p`` as eager does.
    """
    x, p, noise_shape, alpha = op.args[:4]
    dt = out_dtype(op)
    data = g.name(x)
    if p == 1:  # everything dropped: x * 0 (NaN stays NaN), as eager (alpha dropout included)
        zeros = g.op("ConstantOfShape", _noise_shape(g, x, noise_shape), value=_tensor(0, dt))
        return g.op("Mul", data, zeros)
    ratio = scalar(g, p, _ratio_dtype(dt))
    training = g.const(np.asarray(True))
    full = tuple(int(n) for n in noise_shape) == tuple(x.shape) and not alpha
    if full:
        return g.op("Dropout", data, ratio, training, outputs=2)[0]
    # The mask is drawn on ones of the noise shape and only its ``mask`` output is used: ONNX Runtime's
    # optimizer drops a Dropout of a constant-filled tensor whose data output is used (then nothing is dropped)
    ones = g.op("ConstantOfShape", _noise_shape(g, x, noise_shape), value=_tensor(1, dt))
    keep = g.op("Dropout", ones, ratio, training, outputs=2)[1]
    kept = g.op("Cast", keep, to=onnx_dtype(dt))
    if not alpha:
        return g.op("Mul", data, g.op("Div", kept, scalar(g, 1 - p, dt)))
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    b = g.op("Add", g.op("Mul", g.op("Sub", kept, scalar(g, 1, dt)), scalar(g, _ALPHA * a, dt)),
             scalar(g, _ALPHA * a * p, dt))  # fmt: skip
    return g.op("Add", g.op("Mul", data, g.op("Mul", kept, scalar(g, a, dt))), b)


def _tensor(value: Any, dt: Any) -> Any:
    from onnx import numpy_helper

    return numpy_helper.from_array(np.asarray([value], dtype=dt), "value")


# ----- index_fill ------------------------------------------------------------------------------------------------
@converter("_FillWhere", sizes=True)
def _fill_where(g: GraphBuilder, op: TracedOp) -> str:
    """``Where(mask, value, x)`` with the fixed boolean mask reduced to size 1 along every dim it does not vary on.

    The mask is an array made in Python (index_fill's positions): it can follow a dynamic axis only by
    broadcasting, so a mask that varies along a dynamic dim (or fills everything, which can't tell) is refused.
    """
    x, mask, value = op.args[:3]
    dt = out_dtype(op)
    m = np.asarray(to_numpy(mask)).astype(bool)
    if m.shape != x.shape:
        m = np.broadcast_to(m, x.shape)
    for d in range(m.ndim):
        first = m.take([0], axis=d) if m.shape[d] else m
        if m.shape[d] > 1 and (m == first).all():
            m = first
    varying = [d for d in sorted(x.dynamic) if m.shape[d] != 1]
    if varying or (x.dynamic and m.size and m.all()):
        raise TracingError(
            f"index_fill positions along dims {varying or sorted(x.dynamic)} of an input whose size changes "
            f"({op.where}): the positions are fixed numbers, so those axes can't be dynamic. Use masked_fill with a "
            "mask built from tensor ops (arange comparisons) instead"
        )
    fill = scalar(g, np.asarray(value).astype(dt), dt)
    return g.op("Where", g.const(np.ascontiguousarray(m)), fill, g.name(x))


# ----- diagonals -------------------------------------------------------------------------------------------------
def _diag_positions(g: GraphBuilder, n1: Any, n2: Any, offset: int) -> str:
    """Flat positions (in a row-major n1 x n2 matrix) of the ``offset`` diagonal, as an int64 vector.

    ``n1``/``n2`` are ints (constants) or 1-element int64 names (computed in the graph)."""
    if isinstance(n1, int) and isinstance(n2, int):
        length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
        start = offset if offset >= 0 else -offset * n2
        return g.const(np.arange(length, dtype=_I64) * (n2 + 1) + start)
    a, b = (g.const(np.asarray([v], _I64)) if isinstance(v, int) else v for v in (n1, n2))
    k = g.const(np.asarray([abs(offset)], _I64))
    zero = g.const(np.asarray([0], _I64))
    if offset >= 0:
        length, first = g.op("Min", a, g.op("Sub", b, k)), k
    else:
        length, first = g.op("Min", g.op("Sub", a, k), b), g.op("Mul", k, b)
    length = g.squeeze(g.op("Max", length, zero), [0])
    steps = g.op("Range", scalar(g, 0, _I64), length, scalar(g, 1, _I64))
    return g.op("Add", g.op("Mul", steps, g.op("Add", b, g.const(np.asarray([1], _I64)))), first)


def _size(g: GraphBuilder, x: Value, d: int) -> Any:
    return g.dim(x, d) if d in x.dynamic else int(x.shape[d])


@converter("Diagonal", "DiagonalCopy")
def _diagonal(g: GraphBuilder, op: TracedOp) -> str:
    """Move dim1, dim2 last, flatten them and gather the diagonal's positions (numpy.diagonal's layout)."""
    x, offset, dim1, dim2 = op.args[:4]
    rank = len(x.shape)
    d1, d2 = int(dim1) % rank, int(dim2) % rank
    others = [d for d in range(rank) if d not in (d1, d2)]
    data = g.op("Transpose", g.name(x), perm=others + [d1, d2])
    flat = g.op("Reshape", data, g.const(np.asarray([0] * len(others) + [-1], _I64)))
    positions = _diag_positions(g, _size(g, x, d1), _size(g, x, d2), int(offset))
    return g.op("Gather", flat, positions, axis=len(others))


@converter("DiagonalScatter", sizes=True)
def _diagonal_scatter(g: GraphBuilder, op: TracedOp) -> str:
    """Zeros with ``src`` on a diagonal: scatter into the flattened (others..., n1 * n2) layout, then restore."""
    src, shape, offset, dim1, dim2 = op.args[:5]
    out = op.outputs[0]
    dt = out_dtype(op)
    rank = len(shape)
    d1, d2 = int(dim1) % rank, int(dim2) % rank
    others = [d for d in range(rank) if d not in (d1, d2)]
    last = len(src.shape) - 1
    n1, n2 = (_scatter_size(g, out, src, last, d, int(offset)) for d in (d1, d2))
    positions = _diag_positions(g, n1, n2, int(offset))
    if isinstance(n1, int) and isinstance(n2, int):
        plane = g.const(np.asarray([n1 * n2], _I64))
        rows_cols = g.const(np.asarray([n1, n2], _I64))
    else:
        a, b = (g.const(np.asarray([v], _I64)) if isinstance(v, int) else v for v in (n1, n2))
        plane, rows_cols = g.op("Mul", a, b), g.op("Concat", a, b, axis=0)
    src_name = g.name(src)
    lead = [g.dim(src, d) for d in range(last)]
    zeros_shape = g.op("Concat", *lead, plane, axis=0) if lead else plane
    zeros = g.op("ConstantOfShape", zeros_shape, value=_tensor(0, dt))
    index = g.op("Expand", positions, g.shape_of(src))
    flat = g.op("ScatterElements", zeros, index, src_name, axis=last)
    data = g.op(
        "Reshape", flat, g.op("Concat", g.const(np.zeros(last, _I64)), rows_cols, axis=0) if last else rows_cols
    )
    perm = others + [d1, d2]
    inverse = [perm.index(d) for d in range(rank)]
    return g.op("Transpose", data, perm=inverse)


def _scatter_size(g: GraphBuilder, out: Value, src: Value, last: int, d: int, offset: int) -> Any:
    """Output dim ``d`` (one of the two diagonal dims): a constant, or diag_embed's ``src.shape[-1] + |offset|``."""
    if d not in out.dynamic:
        return int(out.shape[d])
    if last in src.dynamic and out.shape[d] == src.shape[last] + abs(offset):
        return g.op("Add", g.dim(src, last), g.const(np.asarray([abs(offset)], _I64)))
    raise TracingError(f"can't tell how the diagonal dim {d} of {out.name} {out.shape} follows the dynamic axes")


# ----- devices ---------------------------------------------------------------------------------------------------
@converter("ToDevice")
def _to_device(g: GraphBuilder, op: TracedOp) -> str:
    """A device move is nothing in an ONNX graph (the runtime places tensors)."""
    return g.op("Identity", g.name(op.args[0]))
