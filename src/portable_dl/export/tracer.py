"""Run a model once and record every op that passes through ``Function.apply``.

The tracer is installed at the three doors the core offers (``Function.apply``'s tracer hook, the
``Tensor`` observer for sizes and value reads, ``Module.__call__``'s interceptor), never by patching.
What it records: values (graph inputs, parameters/buffers by their ``named_parameters`` names, constants,
op outputs, each with the concrete array of this run) and ops (Function class, arguments with tensors
replaced by values, outputs, the Function's ctx, the module scope and the user's source line).

Layers with a dedicated converter (LSTM, GRU, RNN ...) are recorded as one ``module:`` op: their inner
ops run untraced.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

from ..autograd import function as function_module
from ..autograd.grad_mode import no_grad
from ..nn import module as module_module
from ..tensor import Tensor, set_trace_observer
from .symbolic import SymInt, leaves

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TracingError(RuntimeError):
    """The model can't be traced into a graph that is valid for other inputs."""


@dataclass(eq=False)
class Value:
    """A tensor of the traced program."""

    name: str
    kind: str  # "input" | "param" | "const" | "op"
    array: Any  # the concrete backend array of this run
    from_input: bool  # computed from a graph input (so not foldable)
    dynamic: set = field(default_factory=set)  # dims that change with the dynamic axes (set after trace 2)
    producer: Any = None  # the TracedOp, for op outputs

    @property
    def shape(self) -> tuple:
        return tuple(self.array.shape)

    @property
    def dtype(self) -> Any:
        return self.array.dtype

    def __repr__(self) -> str:
        return f"Value({self.name!r}, {self.kind}, shape={self.shape}, dtype={self.dtype})"


@dataclass(eq=False)
class TracedOp:
    """One recorded op: ``kind`` is the Function class name, or ``module:<Class>`` for a whole layer."""

    kind: str
    fn: Any  # the Function class, or the Module
    args: tuple
    kwargs: dict
    outputs: list
    ctx: Any
    scope: str
    where: str

    def tensor_inputs(self) -> list:
        return [v for v in _flatten((self.args, tuple(self.kwargs.values()))) if isinstance(v, Value)]


def _flatten(obj: Any) -> list:
    """The leaves of nested lists/tuples/dicts, slice bounds and index objects with ``trace_fields``."""
    if isinstance(obj, (list, tuple)):
        return [leaf for item in obj for leaf in _flatten(item)]
    if isinstance(obj, dict):
        return [leaf for item in obj.values() for leaf in _flatten(item)]
    if isinstance(obj, slice):
        return [obj.start, obj.stop, obj.step]
    fields = getattr(type(obj), "trace_fields", None)
    if fields is not None:
        return [leaf for name in fields for leaf in _flatten(getattr(obj, name))]
    return [obj]


def user_frame() -> str:
    """``file:line`` of the innermost caller outside portable_dl (where the user's model did this)."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_PACKAGE_DIR):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<portable_dl>"


class Tracer:
    """Records one run of ``model``; see the module docstring."""

    def __init__(self, model: Any, module_kinds: set) -> None:
        self.values: dict[int, Value] = {}
        self._keep: list = []  # arrays referenced by id in ``values`` stay alive
        self.ops: list[TracedOp] = []
        self.constants: list[Value] = []
        self.scope: list[str] = []
        self._suspended = 0
        self._module_kinds = module_kinds
        self._counts: dict[str, int] = {}
        self.module_names = {id(m): name for name, m in model.named_modules()} if model is not None else {}
        if model is not None:
            for name, t in list(model.named_parameters()) + list(model.named_buffers()):
                self._add(t._data, Value(name, "param", t._data, False))

    # ----- values ---------------------------------------------------------------------------------
    def _add(self, array: Any, value: Value) -> Value:
        self.values[id(array)] = value
        self._keep.append(array)
        return value

    def add_input(self, t: Tensor, name: str) -> Value:
        return self._add(t._data, Value(name, "input", t._data, True))

    def value_of(self, t: Tensor) -> Value:
        v = self.values.get(id(t._data))
        if v is None:  # a tensor made outside the traced ops (torch.tensor(...), a factory): a constant
            v = self._add(t._data, Value(self._fresh_name("Constant"), "const", t._data.copy(), False))
            self.constants.append(v)
        return v

    def _fresh_name(self, kind: str) -> str:
        scope = self.scope[-1] if self.scope else ""
        key = f"{scope}/{kind}"
        n = self._counts.get(key, 0)
        self._counts[key] = n + 1
        return f"{key}_{n}" if scope else f"{kind}_{n}"

    def _map(self, obj: Any) -> Any:
        """Tensors (and backend arrays of traced tensors, which some ops pass raw) -> their Values."""
        if isinstance(obj, Tensor):
            return self.value_of(obj)
        if type(obj) in (list, tuple):
            return type(obj)(self._map(o) for o in obj)
        fields = getattr(type(obj), "trace_fields", None)
        if fields is not None:  # an op's index object (e.g. indexing's _Split): map what it holds
            return type(obj)(*(self._map(getattr(obj, name)) for name in fields))
        if hasattr(obj, "__array_interface__") or hasattr(obj, "__cuda_array_interface__"):
            return self.values.get(id(obj), obj)
        return obj

    # ----- the hooks the core calls ------------------------------------------------------------
    def sizes(self, t: Tensor) -> tuple:
        shape = t._data.shape
        if self._suspended:
            return tuple(shape)
        v = self.value_of(t)
        return tuple(SymInt(n, ("dim", v, d)) for d, n in enumerate(shape))

    def read_values(self, t: Tensor, how: str) -> None:
        if self._suspended:
            return
        v = self.values.get(id(t._data))
        if v is not None and v.from_input:
            raise TracingError(
                f"the model reads the values of a tensor computed from its input ({how} at {user_frame()}); "
                "an exported graph can't depend on Python values taken from tensors. Keep the computation "
                "in tensor ops (torch.where instead of if, masks instead of indexing with .item())."
            )

    def wrote_in_place(self, t: Tensor, result: Tensor) -> None:
        if not self._suspended:
            self._add(t._data, self.value_of(result))

    def record(self, cls: type, args: tuple, kwargs: dict, outputs: Any, ctx: Any) -> None:
        if self._suspended or not cls._raw:  # a user Function's inner ops were recorded already
            return
        mapped_args, mapped_kwargs = self._map(tuple(args)), {k: self._map(v) for k, v in kwargs.items()}
        self._record(cls.__name__, cls, mapped_args, mapped_kwargs, outputs, ctx)

    def _record(self, kind: str, fn: Any, args: tuple, kwargs: dict, outputs: Any, ctx: Any) -> TracedOp:
        flat_in = _flatten((args, tuple(kwargs.values())))
        from_input = any(isinstance(v, Value) and v.from_input for v in flat_in) or any(
            leaf[1].from_input for v in flat_in for leaf in leaves(v)
        )
        op = TracedOp(kind, fn, args, kwargs, [], ctx, self.scope[-1] if self.scope else "", user_frame())
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        for o in outs:
            if isinstance(o, Tensor):
                v = Value(self._fresh_name(kind.replace("module:", "")), "op", o._data, from_input, producer=op)
                op.outputs.append(self._add(o._data, v))
            else:
                op.outputs.append(None)
        self.ops.append(op)
        return op

    def intercept(self, module: Any, args: tuple, kwargs: dict) -> Any:
        name = self.module_names.get(id(module))
        if name:
            self.scope.append(name)
        try:
            if self._suspended or type(module).__name__ not in self._module_kinds:
                return module._call_impl(*args, **kwargs)
            mapped_args, mapped_kwargs = self._map(tuple(args)), {k: self._map(v) for k, v in kwargs.items()}
            self._suspended += 1
            try:
                out = module._call_impl(*args, **kwargs)
            finally:
                self._suspended -= 1
            flat = tuple(o for o in _flatten(out) if isinstance(o, Tensor))
            self._record(f"module:{type(module).__name__}", module, mapped_args, mapped_kwargs, flat, None)
            return out
        finally:
            if name:
                self.scope.pop()


def run_traced(model: Any, args: tuple, kwargs: dict, input_names: list, module_kinds: set) -> tuple:
    """Run ``model(*args, **kwargs)`` under a fresh Tracer; returns (tracer, output tensors, input values)."""
    tracer = Tracer(model, module_kinds)
    tensors = [a for a in _flatten((args, tuple(kwargs.values()))) if isinstance(a, Tensor)]
    inputs = [tracer.add_input(t, name) for t, name in zip(tensors, input_names)]
    previous = (function_module.set_tracer(tracer), set_trace_observer(tracer), module_module._call_interceptor)
    module_module._call_interceptor = tracer.intercept
    try:
        with no_grad():
            out = model(*args, **kwargs)
    finally:
        function_module.set_tracer(previous[0])
        set_trace_observer(previous[1])
        module_module._call_interceptor = previous[2]
    outputs = _flatten(out)
    bad = [type(o).__name__ for o in outputs if not isinstance(o, Tensor)]
    if bad:
        raise TracingError(f"the model's outputs must be tensors (or tuples/lists/dicts of tensors); got {bad}")
    return tracer, outputs, inputs
