"""Graph clean-up after conversion: drop what no output needs, merge duplicate nodes."""

from __future__ import annotations

from typing import Any


def prune(nodes: list, initializers: dict, outputs: list) -> tuple:
    """Keep only the nodes and initializers that the graph outputs depend on (order preserved)."""
    needed = set(outputs)
    kept = []
    for node in reversed(nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
            for attr in node.attribute:  # subgraphs (If/Loop) read outer names too
                for sub in list(attr.g.node) if attr.HasField("g") else []:
                    needed.update(i for i in sub.input if i)
    kept.reverse()
    return kept, {name: array for name, array in initializers.items() if name in needed}


def _key(node: Any) -> tuple:
    attrs = tuple(sorted((a.name, a.SerializeToString()) for a in node.attribute))
    return (node.domain, node.op_type, tuple(node.input), len(node.output), attrs)


def eliminate_common_subexpressions(nodes: list, outputs: list) -> list:
    """Merge nodes with the same op, inputs and attributes (e.g. repeated ``Shape`` of one value).

    Nodes are in topological order, so a duplicate's uses can be renamed to the first node's outputs. A node
    that writes a graph output is never dropped.
    """
    protected = set(outputs)
    seen: dict[tuple, Any] = {}
    rename: dict[str, str] = {}
    kept = []
    for node in nodes:
        node.input[:] = [rename.get(i, i) for i in node.input]
        if node.op_type in ("RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli"):
            kept.append(node)
            continue
        key = _key(node)
        first = seen.get(key)
        if first is None or protected.intersection(node.output):
            seen[key] = node
            kept.append(node)
        else:
            rename.update(zip(node.output, first.output))
    return kept
