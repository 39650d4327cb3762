"""The backward engine: walks graph nodes in dependency order and sums gradients.

Backward formulas are written with Tensor ops, so with ``create_graph=True`` the
engine runs them in grad mode and the gradients carry a graph of their own
(double backward); otherwise it runs them under no-grad and records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..tensor import Tensor, _RetainGradHook
from .function import Function
from .grad_mode import state


def _as_tuple(value: Any) -> tuple:
    if value is None:
        return ()
    if isinstance(value, Tensor):
        return (value,)
    return tuple(value)


def _root_grads(outputs: tuple, grad_outputs: Any, op: str) -> list:
    grads = list(_as_tuple(grad_outputs)) if grad_outputs is not None else [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"{op}: got {len(grads)} gradients for {len(outputs)} outputs")
    roots = []
    for i, (t, g) in enumerate(zip(outputs, grads)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: outputs must be Tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = Tensor._wrap(t._backend.xp.ones(t._data.shape, dtype=t._data.dtype), t._backend)
        elif not isinstance(g, Tensor):
            g = Tensor._wrap(t._backend.asarray(g, dtype=t._data.dtype), t._backend)
        if tuple(g.shape) != tuple(t.shape):
            raise RuntimeError(
                f"{op}: mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and "
                f"output[{i}] has a shape of {tuple(t.shape)}"
            )
        roots.append((t, g))
    return roots


def _collect_nodes(roots: list, wanted: dict | None) -> tuple[dict, set | None]:
    """Dependency counts of every node reachable from the roots (only those that lead to ``wanted``)."""
    start = [t.grad_fn for t, _ in roots if t.grad_fn is not None]
    needed = None
    if wanted is not None:
        needed = _nodes_leading_to(start, wanted)
        start = [n for n in start if n in needed]
    deps: dict = {}
    seen = set(start)
    stack = list(start)
    while stack:
        node = stack.pop()
        for edge in getattr(node, "_edges", ()):
            if edge is None or edge[1] < 0:
                continue
            child = edge[0]
            if needed is not None and child not in needed:
                continue
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return deps, needed


def _nodes_leading_to(start: list, wanted: dict) -> set:
    """Nodes from which a wanted tensor (leaf or node output) can be reached."""
    wanted_nodes = {key[0] for key in wanted if isinstance(key, tuple)}
    wanted_leaves = {key for key in wanted if not isinstance(key, tuple)}
    result: dict = {}
    for root in start:
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node in result and not expanded:
                continue
            edges = getattr(node, "_edges", ())
            if not expanded:
                result[node] = None  # in progress
                stack.append((node, True))
                for edge in edges:
                    if edge is not None and edge[1] >= 0 and edge[0] not in result:
                        stack.append((edge[0], False))
                continue
            hit = node in wanted_nodes
            for edge in edges:
                if edge is None:
                    continue
                if edge[1] < 0:
                    hit = hit or id(edge[0]) in wanted_leaves
                else:
                    hit = hit or bool(result.get(edge[0]))
            result[node] = hit
    return {node for node, hit in result.items() if hit}


def _run_hooks(hooks: list, grad: Tensor) -> Tensor:
    retain = []
    for hook in hooks:
        if isinstance(hook, _RetainGradHook):
            retain.append(hook)
            continue
        result = hook(grad)
        if result is not None:
            grad = result
    for hook in retain:
        hook(grad)
    return grad


def _materialize(node: Function, grads: list) -> list:
    """Zeros for outputs of a user Function that got no gradient (PyTorch's default)."""
    meta = getattr(node, "_out_meta", None)
    if meta is None or not node._materialize_grads:
        return grads
    out = []
    for g, m in zip(grads, meta):
        if g is None and m is not None:
            shape, dtype = m
            g = Tensor._wrap(node.backend.xp.zeros(tuple(shape), dtype=dtype.np), node.backend)
        out.append(g)
    return out


def _execute(roots: list, retain_graph: bool, create_graph: bool, wanted: dict | None, accumulate: bool) -> dict:
    """Run backward from ``roots``. Returns gradients of ``wanted`` keys; accumulates into leaves if asked.

    Without ``create_graph`` gradients travel as raw arrays and nodes that define
    ``backward_arrays`` skip Tensor wrapping altogether (the common, fast case); with it,
    gradients are Tensors and every formula records its own graph.
    """
    deps, needed = _collect_nodes(roots, wanted)
    raw_mode = not create_graph
    buffers: dict = {}
    leaves: dict = {}  # id(leaf) -> [leaf, gradient]
    captured: dict = {}
    ready: list = []

    for t, g in roots:
        grad = g._data if raw_mode else g
        node = t.grad_fn
        if node is None:
            _buffer_leaf(leaves, t, grad)
            continue
        if needed is not None and node not in needed:
            continue
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._n_outputs
        nr = t._output_nr
        buf[nr] = grad if buf[nr] is None else buf[nr] + grad
        if deps.get(node, 0) == 0 and node not in ready:
            ready.append(node)

    previous = state.enabled
    state.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            backend = node.backend
            if node._hooks:
                grads = _node_hooks(node, grads, raw_mode)
            if wanted is not None:
                for nr, g in enumerate(grads):
                    key = (node, nr)
                    if key in wanted and g is not None:
                        captured[key] = g
            fast = node.backward_arrays if raw_mode else None
            if fast is not None:
                result = fast(node, *grads)
            else:
                if raw_mode:
                    grads = [None if g is None else Tensor._wrap(g, backend) for g in grads]
                if not node._raw:
                    grads = _materialize(node, grads)
                result = type(node).backward(node, *grads)
            if type(result) is not tuple:
                result = (result,)
            edges = node._edges
            if len(result) < len(edges):
                raise RuntimeError(
                    f"function {node.name()} returned an incorrect number of gradients "
                    f"(expected {len(edges)}, got {len(result)})"
                )
            for edge, g in zip(edges, result):
                if edge is None:
                    continue
                if g is None:  # no gradient along this edge: it still counts as delivered
                    if edge[1] >= 0 and (needed is None or edge[0] in needed):
                        _skip_edge(edge[0], deps, buffers, ready, needed)
                    continue
                if raw_mode and fast is None:
                    g = g._data
                target, nr = edge
                if nr < 0:
                    _buffer_leaf(leaves, target, g)
                    continue
                if needed is not None and target not in needed:
                    continue
                buf = buffers.get(target)
                if buf is None:
                    buf = buffers[target] = [None] * target._n_outputs
                    buf[nr] = g
                elif buf[nr] is None:
                    buf[nr] = g
                else:
                    buf[nr] = buf[nr] + g
                left = deps[target] - 1
                deps[target] = left
                if left == 0:
                    ready.append(target)
            if not retain_graph:
                node._release()
    finally:
        state.enabled = previous

    handed_out: set = set(id(g._data) for _, g in roots)
    for leaf, grad in leaves.values():
        if raw_mode:
            grad = Tensor._wrap(grad, leaf._backend)
        if leaf._hooks:
            grad = _run_hooks(leaf._hooks, grad)
        key = id(leaf)
        if wanted is not None:
            if key not in wanted:
                continue
            captured[key] = grad
            if not accumulate:
                continue
        _accumulate(leaf, grad, create_graph, handed_out)
    if raw_mode and wanted is not None:
        for key, g in captured.items():
            if not isinstance(g, Tensor):
                captured[key] = Tensor._wrap(g, key[0].backend)
    return captured


def _skip_edge(node: Any, deps: dict, buffers: dict, ready: list, needed: set | None) -> None:
    """Count an edge that carried no gradient; a node left with no gradient at all passes that on."""
    stack = [node]
    while stack:
        node = stack.pop()
        left = deps[node] - 1
        deps[node] = left
        if left:
            continue
        if node in buffers:
            ready.append(node)
            continue
        for edge in getattr(node, "_edges", ()):
            if edge is not None and edge[1] >= 0 and (needed is None or edge[0] in needed):
                stack.append(edge[0])


def _buffer_leaf(leaves: dict, leaf: Tensor, grad: Any) -> None:
    slot = leaves.get(id(leaf))
    if slot is None:
        leaves[id(leaf)] = [leaf, grad]
    else:
        slot[1] = slot[1] + grad


def _node_hooks(node: Function, grads: list, raw_mode: bool) -> list:
    grads = list(grads)
    for nr, hooks in node._hooks.items():
        g = grads[nr]
        if g is None or not hooks:
            continue
        if raw_mode:
            grads[nr] = _run_hooks(hooks, Tensor._wrap(g, node.backend))._data
        else:
            grads[nr] = _run_hooks(hooks, g)
    return grads


def _accumulate(leaf: Tensor, grad: Tensor, create_graph: bool, handed_out: set) -> None:
    """Add a finished gradient into ``leaf.grad`` (never aliasing another leaf's or the caller's array)."""
    if not create_graph:
        data = grad._data
        if id(data) in handed_out or getattr(data, "base", None) is not None:
            data = data.copy()
        handed_out.add(id(data))
        if leaf.grad is None:
            leaf.grad = Tensor._wrap(data, leaf._backend)
        else:
            leaf.grad = Tensor._wrap(leaf.grad._data + data, leaf._backend)
    elif leaf.grad is None:
        leaf.grad = grad
    else:
        leaf.grad = leaf.grad + grad


def backward(
    tensors: Sequence[Tensor] | Tensor,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of graph leaves (or only ``inputs``)."""
    outputs = _as_tuple(tensors)
    roots = _root_grads(outputs, grad_tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    wanted = None
    if inputs is not None:
        wanted = {}
        for t in _as_tuple(inputs):
            if t.grad_fn is not None:
                raise RuntimeError("backward(inputs=...): only leaf tensors are supported here")
            wanted[id(t)] = t
    _execute(roots, retain_graph, create_graph, wanted, accumulate=True)


def grad(
    outputs: Sequence[Tensor] | Tensor,
    inputs: Sequence[Tensor] | Tensor,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``."""
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if is_grads_batched:
        raise NotImplementedError("autograd.grad: is_grads_batched=True is not supported")
    if allow_unused is None:
        allow_unused = materialize_grads
    roots = _root_grads(outs, grad_outputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    keys = []
    wanted: dict = {}
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
        key = (t.grad_fn, t._output_nr) if t.grad_fn is not None else id(t)
        keys.append(key)
        wanted[key] = t
    # A root that is itself a wanted input contributes its own gradient.
    captured = _execute(roots, retain_graph, create_graph, wanted, accumulate=False)
    result = []
    for i, (key, t) in enumerate(zip(keys, ins)):
        g = captured.get(key)
        if g is None:
            if materialize_grads:
                g = Tensor._wrap(t._backend.xp.zeros(t._data.shape, dtype=t._data.dtype), t._backend)
            elif not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}) appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
        result.append(g)
    return tuple(result)
