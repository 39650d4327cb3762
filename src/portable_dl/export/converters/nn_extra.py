"""Converters: transposed convolution, unfold/fold, adaptive max pooling, embedding bags, pooling and norm fixes.

AvgPool and ``_Norm`` are registered here (``_Norm`` around layers.py's helpers). AvgPool: with ``ceil_mode`` a
last window may run past the padding, and torch divides it by the part inside input + padding, which ONNX's
``count_include_pad=1`` does not (it counts the extra positions); integer inputs (torch allows int64) are
pooled in float32 (ONNX Runtime has no int or float64 AveragePool; exact while window sums stay below 2**24)
and truncated back, as torch does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import GraphBuilder
from ..registry import converter
from ..tracer import TracedOp, TracingError
from . import layers
from ._util import attr_ints, out_dtype, target_shape


# ----- transposed convolution ----------------------------------------------------------------------------
@converter("ConvTransposeNd", sizes=True)
def _conv_transpose(g: GraphBuilder, op: TracedOp) -> str:
    """torch's weight layout (C_in, C_out / groups, *k) is ONNX's; ``output_padding`` is what the requested
    output size adds past ``(n - 1) * s - 2 p + d (k - 1) + 1`` (it does not change with the input size)."""
    x, w, b, geom, out_sp = op.args[:5]
    k, s, d, p, _, groups = geom
    in_sp = x.shape[2:]
    base = [(n - 1) * st - 2 * pp + di * (kk - 1) + 1 for n, st, pp, di, kk in zip(in_sp, s, p, d, k)]
    extra = [int(o) - b0 for o, b0 in zip(out_sp, base)]
    attrs: dict[str, Any] = {
        "kernel_shape": attr_ints(k), "strides": attr_ints(s), "dilations": attr_ints(d),
        "pads": attr_ints(p) + attr_ints(p), "group": int(groups),
    }  # fmt: skip
    if any(extra):
        attrs["output_padding"] = extra
    return g.op("ConvTranspose", g.name(x), g.name(w), None if b is None else g.name(b), **attrs)


# ----- unfold (im2col) ----------------------------------------------------------------------------------------
@converter("Unfold", sizes=True)
def _unfold(g: GraphBuilder, op: TracedOp) -> str:
    """One strided ``Slice`` of the zero-padded input per kernel offset, stacked: a copy, like torch (no
    multiplication by a one-hot kernel, which would turn inf into NaN)."""
    x, geom, out_sp = op.args[:3]
    k, s, d, lo, hi, _ = geom
    nd = len(x.shape)
    xn = g.name(x)
    pads = [0, 0] + attr_ints(lo) + [0, 0] + [max(int(h), 0) for h in hi]
    if any(pads):
        xn = g.op("Pad", xn, g.const(np.asarray(pads, np.int64)), g.scalar(0, x.dtype))
    axes = g.const(np.arange(2, nd, dtype=np.int64))
    steps = g.const(np.asarray(attr_ints(s), np.int64))
    parts = []
    for idx in np.ndindex(*attr_ints(k)):
        starts = [i * di for i, di in zip(idx, d)]
        ends = [st + (o - 1) * sd + 1 for st, o, sd in zip(starts, out_sp, s)]
        piece = g.op("Slice", xn, g.const(np.asarray(starts, np.int64)), g.const(np.asarray(ends, np.int64)), axes,
                     steps)  # fmt: skip
        parts.append(g.unsqueeze(piece, [2]))
    stacked = parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=2)  # (N, C, K, *out)
    return g.op("Reshape", stacked, target_shape(g, op.outputs[0], None, (x,)))


@converter("Fold")
def _fold(g: GraphBuilder, op: TracedOp) -> str:
    """col2im: each kernel offset's block grid is spread out by the stride (zeros between), padded into place
    and summed (adds of zeros only, so inf and NaN behave as in torch); the padding is then cropped."""
    cols, geom, in_sp, out_sp = op.args[:4]
    k, s, d, lo, _, _ = geom
    k, s, d, lo, in_sp, out_sp = (attr_ints(v) for v in (k, s, d, lo, in_sp, out_sp))
    c = cols.shape[1] // int(np.prod(k))
    grid = g.op("Reshape", g.name(cols), g.const(np.asarray([0, c, int(np.prod(k))] + out_sp, np.int64)))
    spread = [o * st for o, st in zip(out_sp, s)]
    full = [max(n + 2 * p, (kk - 1) * di + e) for n, p, kk, di, e in zip(in_sp, lo, k, d, spread)]
    total = None
    for flat, idx in enumerate(np.ndindex(*k)):
        piece = g.op("Gather", grid, g.const(np.asarray([flat], np.int64)), axis=2)
        piece = g.squeeze(piece, [2])  # (N, C, *out)
        if any(st > 1 for st in s):  # (N, C, o1, 1, o2, 1) -> zeros after each -> (N, C, o1 * s1, o2 * s2)
            piece = g.unsqueeze(piece, [3 + 2 * j for j in range(len(k))])
            gaps = [0] * (2 + 2 * len(k)) + [0, 0] + [v for st in s for v in (0, st - 1)]
            piece = g.op("Pad", piece, g.const(np.asarray(gaps, np.int64)), g.scalar(0, cols.dtype))
            piece = g.op("Reshape", piece, g.const(np.asarray([0, c] + spread, np.int64)))
        begin = [i * di for i, di in zip(idx, d)]
        end = [f - b - e for f, b, e in zip(full, begin, spread)]
        pads = [0, 0] + begin + [0, 0] + end
        placed = g.op("Pad", piece, g.const(np.asarray(pads, np.int64)), g.scalar(0, cols.dtype))
        total = placed if total is None else g.op("Add", total, placed)
    if not any(lo) and full == in_sp:
        return total
    starts, ends = lo, [p + n for p, n in zip(lo, in_sp)]
    axes = list(range(2, 2 + len(k)))
    return g.op("Slice", total, *(g.const(np.asarray(v, np.int64)) for v in (starts, ends, axes)))


# ----- pooling -----------------------------------------------------------------------------------------------
@converter("AdaptiveMaxPool")
def _adaptive_max_pool(g: GraphBuilder, op: TracedOp) -> list:
    """GlobalMaxPool for output 1, MaxPool when every window has the same size, else per-dim slices of
    torch's windows (max is separable over the spatial dims). Only the values are exported. (A window holding
    NaN: torch gives NaN, ONNX Runtime's max pools may skip it; a NaN-exact pool would cost a second pooling
    per layer in every deployed model, so it is not done.)"""
    x, out_sp = op.args[:2]
    out_sp = attr_ints(out_sp)
    nd, n_sp = len(x.shape), len(out_sp)
    in_sp = x.shape[nd - n_sp :]
    floating = np.dtype(x.dtype).kind == "f"

    def pool(name: str) -> str:
        if nd == n_sp + 2 and floating and all(o == 1 for o in out_sp):
            return g.op("GlobalMaxPool", name)
        if nd == n_sp + 2 and floating and all(n % o == 0 for n, o in zip(in_sp, out_sp)):
            kernel = [n // o for n, o in zip(in_sp, out_sp)]
            return g.op("MaxPool", name, kernel_shape=kernel, strides=kernel)
        return _adaptive_slices(g, name, nd, in_sp, out_sp)

    return [pool(g.name(x)), None]


def _adaptive_slices(g: GraphBuilder, y: str, nd: int, in_sp: tuple, out_sp: list) -> str:
    """torch's adaptive windows (start floor(i n / o), end ceil((i + 1) n / o)) one spatial dim at a time."""
    n_sp = len(out_sp)
    for j, (n, o) in enumerate(zip(in_sp, out_sp)):
        axis = nd - n_sp + j
        pieces = []
        for i in range(o):
            start, end = (i * n) // o, -((-(i + 1) * n) // o)
            window = g.op("Slice", y, g.const(np.asarray([start], np.int64)), g.const(np.asarray([end], np.int64)),
                          g.const(np.asarray([axis], np.int64)))  # fmt: skip
            pieces.append(g.axes("ReduceMax", window, [axis], 18, keepdims=1))
        y = pieces[0] if len(pieces) == 1 else g.op("Concat", *pieces, axis=axis)
    return y


@converter("AvgPool")
def _avg_pool(g: GraphBuilder, op: TracedOp) -> str:
    x, geom, count_include_pad, divisor_override = op.args[:4]
    k, s, d, p, hi, _ = geom
    dt = out_dtype(op)
    work = dt if np.dtype(dt).kind == "f" else np.dtype(np.float32)  # ORT has no float64 AveragePool
    xn = g.cast(g.name(x), x.dtype, work)
    unbatched = len(x.shape) == len(k) + 1  # ONNX pools need (N, C, *spatial)
    if unbatched:
        xn = g.unsqueeze(xn, [0])
    attrs = {"kernel_shape": attr_ints(k), "strides": attr_ints(s)}
    if divisor_override:  # the window sums (zeros outside) over the given divisor
        summed = g.op("AveragePool", xn, pads=layers._pads(p, hi), count_include_pad=1, **attrs)
        y = g.op("Mul", summed, g.scalar(float(np.prod(attr_ints(k))) / float(divisor_override), work))
    elif count_include_pad and any(int(h) > int(pp) for h, pp in zip(hi, p)):
        # torch counts the padding but not what ceil_mode adds past it: pad explicitly, then count only
        # the positions inside the padded input
        lead = 2
        pads = [0] * lead + attr_ints(p) + [0] * lead + attr_ints(p)
        padded = g.op("Pad", xn, g.const(np.asarray(pads, np.int64)), g.scalar(0, work))
        extra = [0] * len(k) + [max(int(h) - int(pp), 0) for h, pp in zip(hi, p)]
        y = g.op("AveragePool", padded, pads=extra, count_include_pad=0, **attrs)
    else:
        y = g.op("AveragePool", xn, pads=layers._pads(p, hi), count_include_pad=int(bool(count_include_pad)),
                 **attrs)  # fmt: skip
    if unbatched:
        y = g.squeeze(y, [0])
    return g.cast(y, work, dt)  # float -> int Cast truncates toward zero, like torch's integer average


# ----- normalisation -----------------------------------------------------------------------------------------
@converter("_Norm", sizes=True)
def _norm(g: GraphBuilder, op: TracedOp) -> str:
    """layers.py's ``_norm``, except for two cases it gets wrong: group norm (its statistics view holds the
    batch size, now reshaped as ``(0, G, -1)`` so batch and spatial dims may be dynamic) and instance norm
    with affine parameters at opset 17+ (per-channel weights are not LayerNormalization's scale), and
    LayerNormalization without weights over dynamic dims (its ones scale would freeze their size)."""
    x, weight, bias, stat_shape, axes, wshape = op.args[:6]
    fixed = op.args[8] if len(op.args) > 8 else None
    if fixed is not None:
        return layers._norm(g, op)
    dt = out_dtype(op)
    if stat_shape is not None:
        return _group_norm(g, op, dt)
    n = len(axes)
    fits = (weight is None and bias is None) or (
        tuple(int(v) for v in wshape[-n:]) == tuple(x.shape[-n:]) and all(int(v) == 1 for v in wshape[:-n])
    )
    nd = len(x.shape)
    ones_scale_frozen = weight is None and any(a in x.dynamic for a in range(nd - n, nd))  # layers.py's ones(...)
    if fits and not ones_scale_frozen:
        return layers._norm(g, op)
    return layers._norm_decomposed(g, op, g.cast(g.name(x), x.dtype, dt), dt)


def _group_norm(g: GraphBuilder, op: TracedOp, dt: Any) -> str:
    x, weight, bias, stat_shape, axes, wshape, eps = op.args[:7]
    center = op.args[7] if len(op.args) > 7 else True
    xs = g.op("Reshape", g.cast(g.name(x), x.dtype, dt), g.const(np.asarray([0, int(stat_shape[1]), -1], np.int64)))
    axes = [int(a) for a in axes]
    xc = g.op("Sub", xs, g.axes("ReduceMean", xs, axes, 18, keepdims=1)) if center else xs
    var = g.axes("ReduceMean", g.op("Mul", xc, xc), axes, 18, keepdims=1)
    y = g.op("Div", xc, g.op("Sqrt", g.op("Add", var, g.scalar(float(eps), dt))))
    y = g.op("Reshape", y, g.shape_of(x))
    if weight is not None:
        y = g.op("Mul", y, layers._param_as(g, weight, wshape))
    if bias is not None:
        y = g.op("Add", y, layers._param_as(g, bias, wshape))
    return y


# ----- embedding bags ----------------------------------------------------------------------------------------
@converter("module:EmbeddingBag")
def _embedding_bag(g: GraphBuilder, op: TracedOp) -> str:
    """The whole layer (its functional form works out the bags in Python): a membership mask (bag, position)
    from the 2-D input's rows or from ``offsets``, then a masked sum / mean / max of the gathered rows
    (``Where`` rather than a 0/1 matmul, so inf and NaN stay where torch has them). Empty bags give 0."""
    m = op.fn
    call = dict(zip(("input", "offsets", "per_sample_weights"), op.args))
    call.update(op.kwargs)
    x, offsets, psw = call.get("input"), call.get("offsets"), call.get("per_sample_weights")
    if m.max_norm is not None:
        raise TracingError(
            f"EmbeddingBag with max_norm ({op.scope or 'the model'}) renormalises its weight rows in place on "
            "every call; export with max_norm=None (renormalise the weight once before exporting)"
        )
    dt = out_dtype(op)
    rows = g.op("Gather", g.name(g.value_of(m.weight)), g.name(x), axis=0)
    keep = None if m.padding_idx is None else g.op("Not", g.op("Equal", g.name(x), g.scalar(m.padding_idx, x.dtype)))
    if len(x.shape) == 2:  # (B, L): one bag per row
        member, values = keep, rows
        if psw is not None:
            values = g.op("Mul", values, g.unsqueeze(g.name(psw), [2]))
    else:  # (T,) with offsets: bag j holds positions [offsets[j], offsets[j + 1]) (the last one up to T)
        member = _bag_members(g, x, offsets, m.include_last_offset)
        if keep is not None:
            member = g.op("And", member, g.unsqueeze(keep, [0]))
        values = rows
        if psw is not None:
            values = g.op("Mul", values, g.unsqueeze(g.name(psw), [1]))
        values = g.unsqueeze(values, [0])  # (1, T, D) against the (nbags, T) membership
    return _bag_reduce(g, m.mode, member, values, dt)


def _bag_members(g: GraphBuilder, x: Any, offsets: Any, include_last: bool) -> str:
    """(nbags, T) bool: position t lies in bag j."""
    total = g.dim(x, 0)
    off = g.cast(g.name(offsets), offsets.dtype, np.int64)
    count = g.dim(offsets, 0)
    zero, one = g.const(np.asarray([0], np.int64)), g.const(np.asarray([1], np.int64))
    if include_last:
        last = g.op("Sub", count, one)
        starts = g.op("Slice", off, zero, last)
        ends = g.op("Slice", off, one, count)
    else:
        starts = off
        ends = g.op("Concat", g.op("Slice", off, one, count), total, axis=0)
    positions = g.op("Range", g.scalar(0, np.int64), g.squeeze(total, [0]), g.scalar(1, np.int64))
    pos = g.unsqueeze(positions, [0])
    after = g.op("Not", g.op("Less", pos, g.unsqueeze(starts, [1])))
    return g.op("And", after, g.op("Less", pos, g.unsqueeze(ends, [1])))


def _bag_reduce(g: GraphBuilder, mode: str, member: Any, values: str, dt: Any) -> str:
    """Reduce ``values`` (bag, position, D) over positions where ``member`` (bag, position) is True."""
    mask = None if member is None else g.unsqueeze(member, [2])
    if member is None:  # fixed-length bags, nothing left out
        kind, since = {"sum": ("ReduceSum", 13), "mean": ("ReduceMean", 18), "max": ("ReduceMax", 18)}[mode]
        return g.axes(kind, values, [1], since, keepdims=0)
    if mode == "max":
        out = g.axes("ReduceMax", g.op("Where", mask, values, g.scalar(-np.inf, dt)), [1], 18, keepdims=0)
    else:
        out = g.axes("ReduceSum", g.op("Where", mask, values, g.scalar(0, dt)), [1], 13, keepdims=0)
    count = g.axes("ReduceSum", g.cast(member, np.bool_, dt), [1], 13, keepdims=1)  # (bag, 1)
    if mode == "mean":
        return g.op("Div", out, g.op("Max", count, g.scalar(1, dt)))
    if mode == "max":  # empty bags: 0, not -inf
        return g.op("Where", g.op("Greater", count, g.scalar(0, dt)), out, g.scalar(0, dt))
    return out
