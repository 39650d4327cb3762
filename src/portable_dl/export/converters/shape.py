"""Shape ops: reshape/view, permute/transpose, concatenation, broadcasting, copies and casts."""

from __future__ import annotations

import numpy as np

from ..graph import GraphBuilder, onnx_dtype
from ..registry import converter
from ..tracer import TracedOp
from ._util import target_shape


@converter("View", "Reshape", sizes=True)
def _reshape(g: GraphBuilder, op: TracedOp) -> str:
    x, shape = op.args[:2]
    out = op.outputs[0]
    if len(x.shape) >= 1 and len(out.shape) == 2 and _is_flatten(x, out):
        return g.op("Flatten", g.name(x), axis=1)
    return g.op("Reshape", g.name(x), target_shape(g, out, shape, (x,), reshape=True))


def _is_flatten(x: object, out: object) -> bool:
    """(N, ...) -> (N, prod(...)) with only N dynamic: ONNX's Flatten(axis=1), one node and no shape tensor."""
    return (
        out.shape[0] == x.shape[0]
        and out.dynamic <= {0}
        and x.dynamic <= {0}
        and getattr(out, "shape2", out.shape)[0] == getattr(x, "shape2", x.shape)[0]
        and len(x.shape) > 2
    )


@converter("Permute")
def _permute(g: GraphBuilder, op: TracedOp) -> str:
    """``x.permute(0, -1, 1)``: torch takes negative dims; ONNX's ``perm`` needs them normalised."""
    x, perm = op.args[:2]
    nd = len(x.shape)
    return g.op("Transpose", g.name(x), perm=[int(p) % nd for p in perm]) if nd else g.op("Identity", g.name(x))


@converter("Transpose")
def _transpose(g: GraphBuilder, op: TracedOp) -> str:
    x, d0, d1 = op.args[:3]
    perm = list(range(len(x.shape)))
    perm[int(d0)], perm[int(d1)] = perm[int(d1)], perm[int(d0)]
    return g.op("Transpose", g.name(x), perm=perm)


@converter("_Transpose")
def _t(g: GraphBuilder, op: TracedOp) -> str:
    x = op.args[0]
    return g.op("Transpose", g.name(x), perm=list(range(len(x.shape)))[::-1])


@converter("Cat")
def _cat(g: GraphBuilder, op: TracedOp) -> str:
    dim, *parts = op.args
    parts = [p for p in parts if len(p.shape) == len(op.outputs[0].shape)]  # torch skips legacy empty (0,) inputs
    return g.op("Concat", *(g.name(p) for p in parts), axis=int(dim))


@converter("Stack")
def _stack(g: GraphBuilder, op: TracedOp) -> str:
    dim, *parts = op.args
    return g.op("Concat", *(g.unsqueeze(g.name(p), [int(dim)]) for p in parts), axis=int(dim))


@converter("BroadcastTo", sizes=True)
def _expand(g: GraphBuilder, op: TracedOp) -> str:
    x, shape = op.args[:2]
    return g.op("Expand", g.name(x), target_shape(g, op.outputs[0], shape, (x,)))


@converter("Contiguous", "Clone")
def _identity(g: GraphBuilder, op: TracedOp) -> str:
    return g.op("Identity", g.name(op.args[0]))


@converter("Cast")
def _cast(g: GraphBuilder, op: TracedOp) -> str:
    x = op.args[0]
    return g.op("Cast", g.name(x), to=onnx_dtype(np.dtype(op.outputs[0].dtype)))


def _constant_of_shape(g: GraphBuilder, shape: str, value: object, dtype: object) -> str:
    from onnx import helper

    fill = helper.make_tensor("value", onnx_dtype(dtype), [1], [np.asarray(value, dtype=dtype).item()])
    return g.op("ConstantOfShape", shape, value=fill)


@converter("FilledOfSize", symints=True)
def _filled_of_size(g: GraphBuilder, op: TracedOp) -> str:
    size, value, dtype = op.args[:3]
    if not any(g.is_dynamic(n) for n in size):
        return g.const(np.full(tuple(int(n) for n in size), value, dtype=dtype))
    return _constant_of_shape(g, g.ints(size), value, dtype)


@converter("FilledLike")
def _filled_like(g: GraphBuilder, op: TracedOp) -> str:
    x, value, dtype = op.args[:3]
    if not x.dynamic:
        return g.const(np.full(x.shape, value, dtype=dtype))
    return _constant_of_shape(g, g.shape_of(x), value, dtype)
