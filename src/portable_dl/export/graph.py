"""``GraphBuilder``: what converters write ONNX nodes with.

Converters see traced ``Value``s and emit nodes through ``g.op``; ``g.name(value)`` gives the ONNX name of a
value (materialising parameters and constants as initializers once, deduplicated by content); ``g.ints``
turns a list of ints and ``SymInt``s into an int64 tensor, with ``Shape``/``Gather`` arithmetic only for the
entries that really change with the dynamic axes.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from .symbolic import SymInt
from .tracer import Value


def onnx_dtype(dtype: Any) -> int:
    """The ONNX ``TensorProto`` element type of a NumPy dtype."""
    from onnx import helper

    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return 9
    return helper.np_dtype_to_tensor_dtype(dtype)


class GraphBuilder:
    """Accumulates nodes and initializers; one per export."""

    def __init__(self, opset: int, fold: bool) -> None:
        self.opset = opset
        self.fold = fold
        self.nodes: list = []
        self.initializers: dict[str, Any] = {}  # name -> numpy array
        self._names: dict[int, str] = {}  # id(Value) -> ONNX name
        self._by_content: dict[tuple, str] = {}
        self._taken: set[str] = set()
        self._counter = 0
        self.scope = ""
        self.tracer: Any = None  # set by the exporter: converters may look up a tensor's traced value

    def value_of(self, tensor: Any) -> Value:
        """The traced Value of a Tensor (a module converter's parameters: ``g.name(g.value_of(m.weight))``)."""
        return self.tracer.value_of(tensor)

    # ----- names ----------------------------------------------------------------------------------
    def unique(self, hint: str) -> str:
        name = hint
        while name in self._taken:
            self._counter += 1
            name = f"{hint}_{self._counter}"
        self._taken.add(name)
        return name

    def bind(self, value: Value, name: str) -> None:
        self._names[id(value)] = name

    def has(self, value: Value) -> bool:
        return id(value) in self._names

    def name(self, value: Any, dtype: Any = None) -> str:
        """The ONNX name of a traced value (or a Python number/array, made a constant of ``dtype``)."""
        if not isinstance(value, Value):
            return self.const(np.asarray(value, dtype=dtype))
        found = self._names.get(id(value))
        if found is not None:
            return found
        if value.kind in ("param", "const") or (self.fold and not value.from_input):
            name = self.const(to_numpy(value.array), value.name)
            self._names[id(value)] = name
            return name
        raise KeyError(f"value {value.name} used before it was produced")

    def const(self, array: Any, hint: str = "const") -> str:
        """An initializer holding ``array`` (deduplicated: equal arrays share one initializer)."""
        array = np.asarray(array)
        if not array.flags.c_contiguous:  # (np.ascontiguousarray would turn a 0-d array into shape (1,))
            array = array.copy()
        digest = hashlib.sha1(array.tobytes()).hexdigest()
        key = (array.dtype.str, array.shape, digest)
        found = self._by_content.get(key)
        if found is not None:
            return found
        name = self.unique(hint)
        self.initializers[name] = array
        self._by_content[key] = name
        return name

    # ----- nodes ----------------------------------------------------------------------------------
    def op(self, op_type: str, *inputs: Any, outputs: int = 1, domain: str = "", **attrs: Any) -> Any:
        """Add a node; inputs are ONNX names or None (an omitted optional input). Returns the output name(s)."""
        from onnx import helper

        base = f"{self.scope}/{op_type}" if self.scope else op_type
        names = [self.unique(f"{base}_output_{k}" if outputs > 1 else f"{base}_output") for k in range(outputs)]
        ins = ["" if i is None else i for i in inputs]
        while ins and ins[-1] == "":
            ins.pop()
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, ins, names, name=self.unique(base), domain=domain or None, **attrs))
        return names[0] if outputs == 1 else names

    # ----- helpers for common patterns -------------------------------------------------------------------
    def ints(self, items: Any) -> str:
        """A 1-D int64 tensor of ``items`` (ints and SymInts); dynamic entries are computed in the graph."""
        items = list(items)
        if all(not self.is_dynamic(i) for i in items):
            return self.const(np.asarray([int(i) for i in items], dtype=np.int64))
        parts, run = [], []
        for item in items:
            if self.is_dynamic(item):
                if run:
                    parts.append(self.const(np.asarray(run, dtype=np.int64)))
                    run = []
                parts.append(self.sym(item))
            else:
                run.append(int(item))
        if run:
            parts.append(self.const(np.asarray(run, dtype=np.int64)))
        return parts[0] if len(parts) == 1 else self.op("Concat", *parts, axis=0)

    def is_dynamic(self, item: Any) -> bool:
        """Whether a SymInt's value changes with the dynamic axes (a plain int never does)."""
        if not isinstance(item, SymInt):
            return False
        expr = item.expr
        if expr[0] == "dim":
            return expr[2] in expr[1].dynamic
        return any(self.is_dynamic(part) for part in expr[1:])

    def sym(self, item: Any) -> str:
        """A 1-element int64 tensor computing ``item`` in the graph."""
        if not self.is_dynamic(item):
            return self.const(np.asarray([int(item)], dtype=np.int64))
        expr = item.expr
        if expr[0] == "dim":
            return self.dim(expr[1], expr[2])
        if expr[0] == "neg":
            return self.op("Neg", self.sym(expr[1]))
        op_type = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "mod": "Mod"}[expr[0]]
        a, b = (self.sym(p) if isinstance(p, SymInt) else self.const(np.asarray([p], np.int64)) for p in expr[1:])
        if op_type == "Div":  # floor division: ONNX Div truncates; sizes are non-negative here
            return self.op("Div", a, b)
        return self.op(op_type, a, b)

    def dim(self, value: Value, d: int) -> str:
        """``shape(value)[d]`` as a 1-element int64 tensor (cached per value and dim)."""
        key = ("dim", id(value), d)
        found = self._by_content.get(key)
        if found is None:
            shape = self.shape_of(value)
            found = self.op("Gather", shape, self.const(np.asarray([d], np.int64)), axis=0)
            self._by_content[key] = found
        return found

    def shape_of(self, value: Value) -> str:
        key = ("shape", id(value))
        found = self._by_content.get(key)
        if found is None:
            found = self.op("Shape", self.name(value))
            self._by_content[key] = found
        return found

    def cast(self, name: str, from_dtype: Any, to_dtype: Any) -> str:
        if np.dtype(from_dtype) == np.dtype(to_dtype):
            return name
        return self.op("Cast", name, to=onnx_dtype(to_dtype))

    def scalar(self, value: Any, dtype: Any) -> str:
        """A 0-d constant of ``dtype`` (for binary ops with a Python number)."""
        return self.const(np.asarray(value, dtype=dtype))

    def axes(self, op_type: str, data: str, axes: Any, since: int, **attrs: Any) -> str:
        """A reduce-like node whose ``axes`` is an attribute before opset ``since`` and an input from it."""
        if axes is None:
            return self.op(op_type, data, **attrs)
        axes = [int(a) for a in axes]
        if self.opset >= since:
            return self.op(op_type, data, self.const(np.asarray(axes, np.int64)), **attrs)
        return self.op(op_type, data, axes=axes, **attrs)

    def unsqueeze(self, data: str, axes: list) -> str:
        return self.axes("Unsqueeze", data, axes, 13)

    def squeeze(self, data: str, axes: list) -> str:
        return self.axes("Squeeze", data, axes, 13)


def to_numpy(array: Any) -> Any:
    """A host copy of a backend array (CuPy arrays have ``get``)."""
    return array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else np.asarray(array)
