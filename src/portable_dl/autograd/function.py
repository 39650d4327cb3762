"""``Function``: the single door every differentiable op passes through.

``apply`` runs ``forward`` and, only when grad mode is on and an input requires
grad, turns the call into a graph node (the Function instance itself is the node,
``tensor.grad_fn``). Built-in ops set ``_raw = True``: their ``forward`` works on
backend arrays (fast), their ``backward`` on Tensors (so it is differentiable).
User subclasses work on Tensors in both, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .grad_mode import state

_new = object.__new__

# What a saved-value entry ``(kind, value, version_box, version)`` holds:
SAVED_LEAF = 0  # a leaf tensor itself (leaves can't be rebased, so keeping the object is safe)
SAVED_OUTPUT = 1  # (array, index) of one of this node's outputs
SAVED_CONSTANT = 2  # an intermediate array or Python value
SAVED_NON_LEAF = 3  # (array, grad_fn, output_nr) of an input with history, rebuilt on unpacking

# The export tracer sets this to an object with ``record(fn_class, args, kwargs, outputs, ctx)``.
_tracer: Any = None

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


def set_tracer(tracer: Any) -> Any:
    """Install (or remove, with None) the op tracer; returns the previous one."""
    global _tracer
    previous, _tracer = _tracer, tracer
    return previous


class Function:
    """Base class of ops and of user-defined autograd functions."""

    _raw = False  # True for built-in ops whose forward takes and returns backend arrays
    # Optional fast path: ``backward_arrays(ctx, *grad_arrays) -> arrays``, used by the engine
    # when no graph of the backward is wanted (create_graph=False). It must agree with ``backward``.
    backward_arrays: Any = None
    _is_view = False  # True when the output shares memory with input 0 (shares its version counter)
    _released = False
    _saved: tuple | None = None
    _to_save: tuple = ()
    _hooks: dict | None = None
    _materialize_grads = True
    _non_differentiable: tuple = ()
    _dirty: tuple = ()
    _n_outputs = 1

    # ----- ctx API used inside forward ---------------------------------------------------------
    def save_for_backward(self, *values: Any) -> None:
        """Keep inputs, outputs or intermediate arrays for backward (released after it)."""
        self._to_save = values

    def mark_non_differentiable(self, *values: Any) -> None:
        self._non_differentiable = values

    def mark_dirty(self, *tensors: Any) -> None:
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize_grads = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is None:
            if self._released:
                raise RuntimeError(_FREED)
            return tuple(_as_tensor(v, self) for v in self._to_save)
        out = []
        for kind, value, box, version in saved:
            if box is not None and box[0] != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: {_describe(value, kind, self)} is at version {box[0]}; "
                    f"expected version {version} instead."
                )
            if kind == SAVED_LEAF:
                out.append(value)
            elif kind == SAVED_OUTPUT:  # rebuilt with this node as grad_fn
                array, index = value
                t = Tensor._wrap(array, self.backend)
                if array.dtype.kind == "f":  # integer outputs (indices) carry no graph
                    t.requires_grad = True
                    t.grad_fn = self
                    t._output_nr = index
                out.append(t)
            elif kind == SAVED_NON_LEAF:  # rebuilt at its place in the graph
                array, node, index = value
                t = Tensor._wrap(array, self.backend)
                if node is not None:
                    t.requires_grad = True
                    t.grad_fn = node
                    t._output_nr = index
                t._vbox = box
                out.append(t)
            else:
                out.append(_as_tensor(value, self))
        return tuple(out)

    @property
    def saved_arrays(self) -> tuple:
        """The raw arrays behind ``saved_tensors``, for ``backward_arrays`` (no Tensor wrapping)."""
        saved = self._saved
        if saved is None:
            if self._released:
                raise RuntimeError(_FREED)
            return self._to_save
        out = []
        for kind, value, box, version in saved:
            if box is not None and box[0] != version:
                return tuple(t if t is None or not hasattr(t, "_data") else t._data for t in self.saved_tensors)
            out.append(
                value._data if kind == SAVED_LEAF else value[0] if kind in (SAVED_OUTPUT, SAVED_NON_LEAF) else value
            )
        return tuple(out)

    @property
    def next_functions(self) -> tuple:
        out = []
        for edge in getattr(self, "_edges", ()):
            if edge is None:
                out.append((None, 0))
            elif edge[1] < 0:
                out.append((_AccumulateGrad(edge[0]), 0))
            else:
                out.append(edge)
        return tuple(out)

    def name(self) -> str:
        # torch: built-in nodes are "<Op>Backward0", user Functions "<Class>Backward"
        return type(self).__name__ + ("Backward0" if self._raw else "Backward")

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    def _output_hooks(self, index: int) -> list:
        if self._hooks is None:
            self._hooks = {}
        return self._hooks.setdefault(index, [])

    def register_hook(self, hook: Any) -> Any:
        raise NotImplementedError("Function.register_hook is not supported; use Tensor.register_hook")

    def _release(self) -> None:
        self._saved = None
        self._to_save = ()
        self._released = True

    # ----- to be written by subclasses -----------------------------------------------------------
    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(f"{type(ctx).__name__} has no backward: it is not differentiable")

    # ----- the door ------------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        backend = None
        requires = False
        raw = list(args)
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                b = a._backend
                if backend is None:
                    backend = b
                elif b is not backend:
                    raise RuntimeError(
                        f"{cls.__name__}: expected all tensors to be on the same device, but found at "
                        f"least two devices, {backend.device} and {b.device}"
                    )
                if a.requires_grad:
                    requires = True
                raw[i] = a._data
        if backend is None:
            from ..backends import CPU

            backend = CPU
        ctx = _new(cls)
        ctx.backend = backend
        ctx.xp = backend.xp
        record = requires and state.enabled
        if not cls._raw:
            return _apply_user(cls, ctx, args, kwargs, record)

        try:
            out = cls.forward(ctx, *raw, **kwargs) if kwargs else cls.forward(ctx, *raw)
        except ValueError as err:  # NumPy/CuPy broadcasting errors get torch's message and type
            mismatch = _broadcast_mismatch(raw) if "broadcast" in str(err) else None
            if mismatch is None:
                raise
            raise RuntimeError(mismatch) from None
        backend = ctx.backend  # a device transfer changes it
        array_type = backend.array_type
        if type(out) is tuple:
            outputs = tuple([Tensor._wrap(o if type(o) is array_type else _as_array(backend, o), backend) for o in out])
        else:
            outputs = _new(Tensor)
            # NumPy turns 0-d results into scalars; a tensor always holds an array
            outputs._data = out if type(out) is array_type else _as_array(backend, out)
            outputs._backend = backend
        if record:
            _connect(ctx, args, outputs, out, raw)
        if cls._is_view:
            base = args[0]
            if base._vbox is None:
                base._vbox = [0]
            for o in outputs if type(outputs) is tuple else (outputs,):
                o._vbox = base._vbox
        if _tracer is not None:
            _tracer.record(cls, args, kwargs, outputs, ctx)
        return outputs


def _as_array(backend: Any, value: Any) -> Any:
    return backend.xp.asarray(value)


def _broadcast_mismatch(raw: list) -> str | None:
    """torch's message for the first two array operands that can't be broadcast together (None if they can)."""
    shapes = [a.shape for a in raw if hasattr(a, "shape") and hasattr(a, "dtype")][:2]
    if len(shapes) < 2:
        return None
    a, b = shapes
    ndim = max(len(a), len(b))
    for i in range(ndim - 1, -1, -1):  # torch checks from the last dim
        sa = a[i - ndim + len(a)] if i - ndim + len(a) >= 0 else 1
        sb = b[i - ndim + len(b)] if i - ndim + len(b) >= 0 else 1
        if sa != sb and sa != 1 and sb != 1:
            return f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at non-singleton dimension {i}"
    return None


def _edge(t: Tensor) -> Any:
    """Where a gradient for ``t`` goes: (its node, output index), or (t, -1) for a leaf."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    if t.requires_grad:
        return (t, -1)
    return None


def _connect(ctx: Function, args: tuple, outputs: Any, out_arrays: Any, raw: list) -> None:
    """Make ``ctx`` a graph node: edges to the inputs, saved values resolved, outputs linked."""
    edges = []
    needs = []
    for a in args:
        edge = None
        if isinstance(a, Tensor):
            if a.grad_fn is not None:
                edge = (a.grad_fn, a._output_nr)
            elif a.requires_grad:
                edge = (a, -1)
        edges.append(edge)
        needs.append(edge is not None)
    ctx._edges = tuple(edges)
    ctx.needs_input_grad = tuple(needs)
    if type(outputs) is tuple:
        ctx._n_outputs = len(outputs)
        for i, o in enumerate(outputs):
            if o._data.dtype.kind == "f":
                o.requires_grad = True
                o.grad_fn = ctx
                o._output_nr = i
        out_list = out_arrays
    else:
        if outputs._data.dtype.kind == "f":
            outputs.requires_grad = True
            outputs.grad_fn = ctx
        out_list = (out_arrays,)
    to_save = ctx._to_save
    if not to_save:
        ctx._saved = ()
        return
    saved = []
    for value in to_save:
        saved.append(_resolve_saved(value, args, raw, outputs, out_list))
    ctx._saved = tuple(saved)
    ctx._to_save = ()


def _resolve_saved(value: Any, args: tuple, raw: list, outputs: Any, out_list: Any) -> tuple:
    if value is None:
        return (SAVED_CONSTANT, None, None, 0)
    for a, r in zip(args, raw):
        if value is r and isinstance(a, Tensor):
            box = a._vbox
            if box is None:
                box = a._vbox = [0]
            if a.grad_fn is not None or not a.requires_grad:
                # a non-leaf or a constant can be rebased by a later in-place op: keep its value and graph
                # position, not the object (only leaves that require grad, which can't be rebased, are kept)
                return (SAVED_NON_LEAF, (value, a.grad_fn, a._output_nr), box, box[0])
            return (SAVED_LEAF, a, box, box[0])
    for i, o in enumerate(out_list):
        if value is o:
            t = outputs[i] if type(outputs) is tuple else outputs
            box = t._vbox
            if box is None:
                box = t._vbox = [0]
            return (SAVED_OUTPUT, (value, i), box, box[0])
    return (SAVED_CONSTANT, value, None, 0)


def _as_tensor(value: Any, ctx: Function) -> Any:
    if value is None or isinstance(value, Tensor) or not hasattr(value, "shape"):
        return value  # tensors, and Python scalars saved as they are
    return Tensor._wrap(value, ctx.backend)


def _describe(value: Any, kind: int, ctx: Function) -> str:
    if kind == SAVED_LEAF:
        return f"[Tensor of shape {list(value.shape)}, dtype {value.dtype}] (an input of {ctx.name()})"
    if kind == SAVED_NON_LEAF:
        return f"[array of shape {list(value[0].shape)}] (output {value[2]} of {value[1].name()})"
    return f"[array of shape {list(value[0].shape)}] (output {value[1]} of {ctx.name()})"


def _apply_user(cls: type, ctx: Function, args: tuple, kwargs: dict, record: bool) -> Any:
    """PyTorch semantics for user Functions: forward sees Tensors, runs without recording a graph."""
    ctx.needs_input_grad = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])  # also in forward
    previous = state.enabled
    state.enabled = False
    try:
        result = cls.forward(ctx, *args, **kwargs)
    finally:
        state.enabled = previous
    is_tuple = isinstance(result, tuple)
    results = result if is_tuple else (result,)
    non_diff = {id(t) for t in ctx._non_differentiable}
    dirty = {id(t) for t in ctx._dirty}
    outputs = []
    for r in results:
        if not isinstance(r, Tensor):
            outputs.append(r)
            continue
        if id(r) in dirty:
            t = r
            if t._vbox is None:
                t._vbox = [0]
            t._vbox[0] += 1
        elif any(r is a for a in args):
            t = Tensor._wrap(r._data, r._backend)  # an input returned as is: a new alias
        else:
            t = r
        outputs.append(t)
    tensor_outputs = [o for o in outputs if isinstance(o, Tensor)]
    if record:
        ctx._edges = tuple([_edge(a) if isinstance(a, Tensor) else None for a in args])
        ctx._n_outputs = len(outputs)
        ctx._out_meta = [(o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outputs]
        for i, (o, r) in enumerate(zip(outputs, results)):
            if isinstance(o, Tensor) and id(r) not in non_diff and o.is_floating_point():
                o.requires_grad = True
                o.grad_fn = ctx
                o._output_nr = i
        saved = []
        for value in ctx._to_save:
            entry = None
            for i, r in enumerate(results):
                if value is r and isinstance(outputs[i], Tensor):
                    o = outputs[i]
                    box = o._vbox = o._vbox or [0]
                    entry = (SAVED_OUTPUT, (o._data, i), box, box[0])
                    break
            if entry is None and isinstance(value, Tensor):
                box = value._vbox = value._vbox or [0]
                if value.grad_fn is not None or not value.requires_grad:  # may be rebased later: keep the value
                    entry = (SAVED_NON_LEAF, (value._data, value.grad_fn, value._output_nr), box, box[0])
                else:
                    entry = (SAVED_LEAF, value, box, box[0])
            saved.append(entry or (SAVED_CONSTANT, value, None, 0))
        ctx._saved = tuple(saved)
        ctx._to_save = ()
    if _tracer is not None:
        _tracer.record(cls, args, kwargs, tuple(tensor_outputs), ctx)
    return tuple(outputs) if is_tuple else outputs[0]


class _AccumulateGrad:
    """Stand-in node shown by ``next_functions`` for a leaf tensor."""

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable
        self.next_functions = ()

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


class FunctionCtx(Function):
    """Alias kept for code that type-annotates ``ctx`` the way PyTorch does."""


def once_differentiable(fn: Any) -> Any:
    """Accepted for compatibility: backward is run as written."""
    return fn
