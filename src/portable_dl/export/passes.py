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


def fold_batchnorm_into_conv(nodes: list, initializers: dict, outputs: list) -> list:
    """``Conv``/``ConvTranspose`` followed by an inference ``BatchNormalization`` whose input only it reads
    becomes one convolution with scaled weights and a shifted bias (what ONNX Runtime would do at load time,
    done once in the file; PyTorch's exporter does the same)."""
    import numpy as np

    consumers: dict[str, int] = {}
    for node in nodes:
        for name in node.input:
            consumers[name] = consumers.get(name, 0) + 1
    producer = {o: node for node in nodes for o in node.output}
    dropped = set()
    for node in nodes:
        if node.op_type != "BatchNormalization" or len(node.output) != 1:
            continue
        conv = producer.get(node.input[0])
        if conv is None or conv.op_type not in ("Conv", "ConvTranspose") or consumers.get(node.input[0]) != 1:
            continue
        if conv.output[0] in outputs or not all(i in initializers for i in node.input[1:5]):
            continue
        weight_name = conv.input[1]
        if weight_name not in initializers or (len(conv.input) > 2 and conv.input[2] not in initializers):
            continue
        group = next((a.i for a in conv.attribute if a.name == "group"), 1)
        if conv.op_type == "ConvTranspose" and group != 1:
            continue
        eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
        scale, shift, mean, var = (initializers[i].astype(np.float64) for i in node.input[1:5])
        factor = scale / np.sqrt(var + eps)
        w = initializers[weight_name]
        axis = 0 if conv.op_type == "Conv" else 1
        shape = [1] * w.ndim
        shape[axis] = -1
        new_w = (w.astype(np.float64) * factor.reshape(shape)).astype(w.dtype)
        bias = initializers[conv.input[2]].astype(np.float64) if len(conv.input) > 2 and conv.input[2] else 0.0
        new_b = ((bias - mean) * factor + shift).astype(w.dtype)
        w_name = _fresh(initializers, f"{weight_name}_bn")
        b_name = _fresh(
            initializers, f"{conv.input[2] if len(conv.input) > 2 and conv.input[2] else weight_name}_bn_bias"
        )
        initializers[w_name], initializers[b_name] = new_w, new_b
        conv.input[:] = [conv.input[0], w_name, b_name]
        conv.output[0] = node.output[0]
        dropped.add(id(node))
    return [n for n in nodes if id(n) not in dropped]


def _fresh(initializers: dict, hint: str) -> str:
    name, k = hint, 0
    while name in initializers:
        k += 1
        name = f"{hint}_{k}"
    return name
