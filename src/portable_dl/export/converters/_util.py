"""Small helpers shared by converters: operand names with dtype handling, output shapes with dynamic dims."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import GraphBuilder
from ..symbolic import SymInt
from ..tracer import TracedOp, TracingError, Value


def out_dtype(op: TracedOp, k: int = 0) -> Any:
    return op.outputs[k].dtype


def operand(g: GraphBuilder, value: Any, dtype: Any) -> str:
    """The ONNX name of a Value or Python number as ``dtype`` (cast when the traced dtype differs)."""
    if isinstance(value, Value):
        return g.cast(g.name(value), value.dtype, dtype)
    if isinstance(value, SymInt) and g.is_dynamic(value):  # x / x.shape[1]: the size computed in the graph
        return g.cast(g.squeeze(g.sym(value), [0]), np.int64, dtype)
    return g.scalar(value, dtype)


def attr_ints(items: Any) -> list:
    return [int(i) for i in items]


def target_shape(g: GraphBuilder, out: Value, requested: Any = None, sources: tuple = (), reshape: bool = False) -> str:
    """An int64 shape tensor for ``out``: static dims as constants, each dynamic dim from (in order) a dynamic
    SymInt in ``requested``, a dim of a source value that changed the same way in both traces, or ``-1`` for
    the one dim left. ``reshape``: for ONNX Reshape of ``sources[0]``, where ``0`` copies the input's dim.
    """
    shape = out.shape
    shape2 = getattr(out, "shape2", shape)
    requested = list(requested) if requested is not None and len(requested) == len(shape) else [None] * len(shape)
    parts: list = []
    unresolved = []
    for d, n in enumerate(shape):
        if d not in out.dynamic:
            parts.append(int(n))
            continue
        req = requested[d]
        if isinstance(req, SymInt) and g.is_dynamic(req):
            parts.append(req)
            continue
        found = _matching_dim(out, d, shape2, sources)
        if reshape and found is not None and found[0] is sources[0] and found[1] == d:
            parts.append(0)
        elif found is not None:
            parts.append(found)
        else:
            parts.append(-1)
            unresolved.append(d)
    if len(unresolved) > 1:
        raise TracingError(
            f"can't tell how dims {unresolved} of {out.name} {out.shape} follow the dynamic axes; "
            "build the shape from x.shape[i] / x.size(i) of the input"
        )
    if all(type(p) is int for p in parts):
        return g.const(np.asarray(parts, dtype=np.int64))
    return _concat(g, parts)


def _matching_dim(out: Value, d: int, shape2: tuple, sources: tuple) -> Any:
    pair = (out.shape[d], shape2[d])
    for src in sources:
        if not isinstance(src, Value) or not hasattr(src, "shape2"):
            continue
        if d < len(src.shape) and (src.shape[d], src.shape2[d]) == pair:
            return (src, d)
        for e in range(len(src.shape)):
            if e in src.dynamic and (src.shape[e], src.shape2[e]) == pair:
                return (src, e)
    return None


def _concat(g: GraphBuilder, parts: list) -> str:
    names, run = [], []
    for p in parts:
        if isinstance(p, (tuple, SymInt)):
            if run:
                names.append(g.const(np.asarray(run, dtype=np.int64)))
                run = []
            names.append(g.dim(*p) if isinstance(p, tuple) else g.sym(p))
        else:
            run.append(int(p))
    if run:
        names.append(g.const(np.asarray(run, dtype=np.int64)))
    return names[0] if len(names) == 1 else g.op("Concat", *names, axis=0)
