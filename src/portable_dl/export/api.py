"""``export``: trace a model (twice when axes are dynamic), convert each op, check and write the ONNX file.

Dynamic axes are found by tracing a second time with every dynamic axis grown (by 1 for the first label, 2
for the second, ...): dimensions that differ between the two runs are the dynamic ones, a graph that differs
is refused (control flow on sizes), and a Python number that differs is a size that froze (``int(x.shape[0])``,
``torch.zeros(x.shape[0], ...)``) and is refused with its source line instead of writing a graph that is
wrong at other sizes.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_path, write_bytes
from ..tensor import Tensor
from . import registry
from .graph import GraphBuilder, onnx_dtype, to_numpy
from .passes import eliminate_common_subexpressions, fold_batchnorm_into_conv, prune
from .symbolic import SymInt
from .tracer import TracingError, Value, _flatten, run_traced

MIN_OPSET, MAX_OPSET = 13, 21
_EXTERNAL_DATA_LIMIT = 2**31 - 2**26  # protobuf's 2 GB, with headroom for the graph itself


class UnsupportedOpError(TracingError):
    """The model uses ops that have no ONNX converter (all of them are listed)."""


def export(
    model: Any,
    args: Any,
    f: Any,
    input_names: list | None = None,
    output_names: list | None = None,
    dynamic_axes: dict | None = None,
    opset_version: int | None = 17,
    do_constant_folding: bool = True,
    kwargs: dict | None = None,
    **options: Any,
) -> Any:
    """Export ``model`` called with ``args`` to ONNX at path or file object ``f``; returns the ``onnx.ModelProto``.

    PyTorch's signature: ``args`` is a tensor or tuple of tensors (a trailing dict is keyword arguments),
    ``dynamic_axes`` maps an input/output name to a list of axes or a ``{axis: label}`` dict.
    Extra options: ``check=True`` (onnx.checker full check, with strict shape inference).
    """
    opset = MAX_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"opset_version {opset} is not supported; use {MIN_OPSET} to {MAX_OPSET} (default 17)")
    args, kwargs = _split_args(args, kwargs)
    registry.load_all()
    _warn_training(model)
    n_inputs = sum(isinstance(a, Tensor) for a in _flatten((args, tuple(kwargs.values()))))
    input_names = _names(input_names, n_inputs, "input")
    labels = _axis_labels(dynamic_axes or {}, input_names)
    kinds = registry.module_kinds()
    with _buffers_restored(model):  # tracing a training-mode model must not move its running statistics
        return _export_traced(model, args, kwargs, f, input_names, output_names, labels, kinds, opset,
                              do_constant_folding, options)  # fmt: skip


@contextlib.contextmanager
def _buffers_restored(model: Any) -> Any:
    saved = [(b, b._data.copy()) for b in model.buffers()] if hasattr(model, "buffers") else []
    try:
        yield
    finally:
        for b, data in saved:
            b._data[...] = data


def _export_traced(model: Any, args: tuple, kwargs: dict, f: Any, input_names: list, output_names: Any,
                   labels: dict, kinds: set, opset: int, do_constant_folding: bool, options: dict) -> Any:  # fmt: skip
    import onnx

    tracer, outputs, inputs = run_traced(model, args, kwargs, input_names, kinds)
    output_names = _names(output_names, len(outputs), "output")
    unknown = set(labels) - set(input_names) - set(output_names)
    if unknown:
        raise ValueError(
            f"dynamic_axes names {sorted(unknown)} are neither inputs {input_names} nor outputs {output_names}"
        )
    input_labels = {n: labels[n] for n in input_names if n in labels}
    if input_labels:
        grown_args, grown_kwargs = _grow(args, kwargs, input_names, input_labels)
        try:
            second, outputs2, inputs2 = run_traced(model, grown_args, grown_kwargs, input_names, kinds)
        except TracingError:
            raise
        except Exception as err:  # the model itself failed at the other size
            raise TracingError(
                f"the model fails when the dynamic axes {input_labels} change size ({type(err).__name__}: {err}); "
                "those axes can't be dynamic for this model"
            ) from err
        _mark_dynamic(tracer, second, inputs, inputs2, outputs, outputs2)
    values = [tracer.value_of(o) for o in outputs]
    model_proto = _build(tracer, inputs, values, input_names, output_names, labels, opset, do_constant_folding)
    if options.get("check", True):
        onnx.checker.check_model(model_proto, full_check=True)
    _save(model_proto, f)
    return model_proto


# ----- arguments ------------------------------------------------------------------------------------
def _split_args(args: Any, kwargs: dict | None) -> tuple:
    if isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    elif not isinstance(args, tuple):
        raise TypeError(f"args must be a Tensor or a tuple of Tensors, got {type(args).__name__}")
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        kwargs.update(args[-1])
        args = args[:-1]
    return args, kwargs


def _names(names: Any, n: int, prefix: str) -> list:
    if names is None:
        return [f"{prefix}_{i}" if n > 1 else prefix for i in range(n)]
    names = list(names)
    if len(names) > n:
        raise ValueError(f"{len(names)} {prefix} names given ({names}) but the model has {n} {prefix}s")
    if len(set(names)) != len(names):
        raise ValueError(f"{prefix} names must be unique, got {names}")
    return names + [f"{prefix}_{i}" for i in range(len(names), n)]


def _axis_labels(dynamic_axes: dict, input_names: list) -> dict:
    """``{name: {axis: label}}``; list-form axes get ``<name>_dim_<axis>`` labels."""
    labels = {}
    for name, axes in dynamic_axes.items():
        if isinstance(axes, dict):
            labels[name] = {int(a): str(lab) for a, lab in axes.items()}
        elif isinstance(axes, (list, tuple)):
            labels[name] = {int(a): f"{name}_dim_{int(a)}" for a in axes}
        else:
            raise TypeError(f"dynamic_axes[{name!r}] must be a list of axes or a dict axis -> label, got {axes!r}")
    return labels


def _warn_training(model: Any) -> None:
    if not getattr(model, "training", False):
        return
    kinds = {type(m).__name__ for m in model.modules()} if hasattr(model, "modules") else set()
    if any(k.startswith(("Dropout", "BatchNorm", "AlphaDropout", "FeatureAlphaDropout")) for k in kinds):
        warnings.warn(
            "exporting a model in training mode: Dropout and BatchNorm are traced as in training "
            "(random masks, batch statistics); call model.eval() first for inference",
            stacklevel=3,
        )


def _grow(args: tuple, kwargs: dict, input_names: list, labels: dict) -> tuple:
    """The example inputs with every dynamic axis longer, repeating its first slice.

    Axes with the same label grow together (list-form axes at the same position count as one label, like a
    shared batch axis); each label grows by a different amount so that two labels are told apart.
    """

    def group(axis: int, lab: str) -> str:
        return f"axis {axis}" if lab.endswith(f"_dim_{axis}") else lab

    groups = sorted({group(a, lab) for axes in labels.values() for a, lab in axes.items()})
    step = {key: 1 + i for i, key in enumerate(groups)}
    position = iter(range(len(input_names)))

    def grow(obj: Any) -> Any:
        if isinstance(obj, Tensor):
            name = input_names[next(position)]
            data, xp = obj._data, obj._backend.xp
            for axis, lab in sorted(labels.get(name, {}).items()):
                if not 0 <= axis < data.ndim:
                    raise ValueError(
                        f"dynamic axis {axis} of input {name!r} is out of range for its shape {data.shape}"
                    )
                if data.shape[axis] == 0:
                    raise ValueError(f"input {name!r} has size 0 on dynamic axis {axis}; give an example of size >= 1")
                extra = xp.take(data, xp.zeros(step[group(axis, lab)], dtype=xp.int64), axis=axis)
                data = xp.concatenate([data, extra], axis=axis)
            return Tensor._wrap(data, obj._backend)
        if isinstance(obj, (list, tuple)):
            return type(obj)(grow(o) for o in obj)
        if isinstance(obj, dict):
            return {k: grow(v) for k, v in obj.items()}
        return obj

    return grow(args), grow(kwargs)


# ----- the second trace -----------------------------------------------------------------------------------
def _mark_dynamic(first: Any, second: Any, inputs: list, inputs2: list, outputs: list, outputs2: list) -> None:
    """Compare the two traces: set ``Value.dynamic`` / ``shape2``; refuse graphs or numbers that changed."""
    if len(first.ops) != len(second.ops) or any(a.kind != b.kind for a, b in zip(first.ops, second.ops)):
        where = next((a.where for a, b in zip(first.ops, second.ops) if a.kind != b.kind), first.ops[-1].where)
        raise TracingError(
            "the model runs different ops when a dynamic axis changes size (Python control flow on a size, "
            f"first difference near {where}); such a model can't be exported with these dynamic axes"
        )
    pairs = list(zip(inputs, inputs2))
    for a, b in zip(first.ops, second.ops):
        _compare_args(a, a.args, b.args)
        _compare_args(a, a.kwargs, b.kwargs)
        pairs += [(u, v) for u, v in zip(a.tensor_inputs(), b.tensor_inputs())]
        pairs += [(u, v) for u, v in zip(a.outputs, b.outputs) if u is not None]
    pairs += [(first.value_of(u), second.value_of(v)) for u, v in zip(outputs, outputs2)]
    for u, v in pairs:
        if len(u.shape) != len(v.shape):
            raise TracingError(
                f"{u.name} changes rank ({u.shape} -> {v.shape}) when a dynamic axis changes size "
                "(a squeeze of a size-1 dim?)"
            )
        changed = {d for d, (m, n) in enumerate(zip(u.shape, v.shape)) if m != n}
        if changed and u.kind in ("param", "const"):
            raise TracingError(
                f"the constant {u.name} {u.shape} was made with a size of the input: it changes to {v.shape} at "
                f"another size. Create it from the input (x.new_zeros(...), torch.zeros_like, expand) instead"
            )
        u.dynamic |= changed
        u.shape2 = v.shape


def _compare_args(op: Any, a: Any, b: Any) -> None:
    """Refuse a plain number that differs between the traces, unless the op's converter rebuilds its sizes."""
    if registry.size_aware(op.kind):
        return
    for x, y in zip(_flatten(a), _flatten(b)):
        if isinstance(x, Value) or x is None or (isinstance(x, SymInt) and registry.symint_aware(op.kind)):
            continue
        if hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(y, "shape"):
            if x.shape != y.shape or not _same_array(to_numpy(x), to_numpy(y)):
                raise TracingError(
                    f"{op.kind} (in {op.scope or 'the model'}, {op.where}) received an array computed outside the "
                    "traced ops that changes with the input; compute it with tensor ops so the graph can follow"
                )
            continue
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
            continue
        same = x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
        if not same:
            raise TracingError(
                f"a number passed to {op.kind} (in {op.scope or 'the model'}, {op.where}) changes with the dynamic axes ({x} -> {y}) but was "
                "computed in Python from a size (int(...), math on x.shape, a size-built tensor); the ONNX graph "
                "would freeze it. Keep sizes as x.shape[i] / x.size(i) and pass them directly"
            )


def _same_array(a: Any, b: Any) -> bool:
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


# ----- building the graph -------------------------------------------------------------------------
def _build(tracer: Any, inputs: list, values: list, input_names: list, output_names: list, labels: dict,
           opset: int, fold: bool) -> Any:  # fmt: skip
    from onnx import helper

    g = GraphBuilder(opset, fold)
    g.tracer = tracer
    for v, name in zip(inputs, input_names):
        g._taken.add(name)
        g.bind(v, name)
    for name in output_names:
        g._taken.add(name)
    unsupported: dict[str, list] = {}
    plan = []
    for op in tracer.ops:
        live = [o for o in op.outputs if o is not None]
        if fold and live and not any(o.from_input for o in live):
            continue  # parameter-only: its outputs become initializers when used
        fn = registry.lookup(op.kind, opset)
        if fn is None:
            unsupported.setdefault(op.kind, []).append(op.where)
        plan.append((op, fn))
    if unsupported:
        lines = [f"  {kind} ({len(w)}x, first at {w[0]})" for kind, w in sorted(unsupported.items())]
        raise UnsupportedOpError(
            f"the model uses ops with no ONNX converter at opset {opset} (nothing was written):\n" + "\n".join(lines)
        )
    for op, fn in plan:
        g.scope = op.scope
        names = fn(g, op)
        if isinstance(names, str):
            names = [names]
        for o, name in zip(op.outputs, names):
            if o is not None and name is not None:
                g.bind(o, name)
    g.scope = ""
    graph_outputs = _finish_outputs(g, values, output_names)
    nodes, initializers = prune(g.nodes, g.initializers, graph_outputs)
    if fold:
        nodes = fold_batchnorm_into_conv(nodes, initializers, graph_outputs)
    nodes = eliminate_common_subexpressions(nodes, graph_outputs)
    nodes, initializers = prune(nodes, initializers, graph_outputs)
    out_labels = _output_labels(values, inputs, labels, output_names)
    graph = helper.make_graph(
        nodes, "portable_dl",
        [_value_info(v, n, labels.get(n, {})) for v, n in zip(inputs, input_names)],
        [_value_info(v, n, out_labels[n]) for v, n in zip(values, output_names)],
        [_tensor(name, array) for name, array in initializers.items()],
    )  # fmt: skip
    opset_ids = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, opset_imports=opset_ids, producer_name="portable_dl")
    proto.ir_version = min(proto.ir_version, _ir_version(opset))
    return proto


def _finish_outputs(g: GraphBuilder, values: list, output_names: list) -> list:
    """Rename the producing node's output to the graph output name (an Identity when that can't be done)."""
    renames = {}
    produced = {o for node in g.nodes for o in node.output}
    for v, name in zip(values, output_names):
        internal = g.name(v)
        if internal in produced and internal not in renames and internal not in g.initializers:
            renames[internal] = name
        else:
            g.nodes.append(_identity(internal, name))
    for node in g.nodes:
        node.output[:] = [renames.get(o, o) for o in node.output]
        node.input[:] = [renames.get(i, i) for i in node.input]
    return list(output_names)


def _identity(src: str, dst: str) -> Any:
    from onnx import helper

    return helper.make_node("Identity", [src], [dst], name=f"{dst}/Identity")


def _output_labels(values: list, inputs: list, labels: dict, output_names: list) -> dict:
    """Labels for dynamic output dims: the user's, else the input label whose sizes match in both traces."""
    known = {}
    for v, name in zip(inputs, [i.name for i in inputs]):
        for axis, lab in labels.get(name, {}).items():
            if hasattr(v, "shape2"):
                known.setdefault((v.shape[axis], v.shape2[axis]), lab)
    result = {}
    for v, name in zip(values, output_names):
        given = labels.get(name, {})
        out = dict(given)
        for d in sorted(v.dynamic):
            if d not in out:
                out[d] = known.get((v.shape[d], getattr(v, "shape2", v.shape)[d]), f"{name}_dim_{d}")
        result[name] = out
    return result


def _value_info(v: Value, name: str, axes: dict) -> Any:
    from onnx import helper

    dims = [axes.get(d, n) if (d in axes or d in v.dynamic) else n for d, n in enumerate(v.shape)]
    dims = [f"{name}_dim_{d}" if isinstance(x, int) and d in v.dynamic else x for d, x in enumerate(dims)]
    return helper.make_tensor_value_info(name, onnx_dtype(v.dtype), dims)


def _tensor(name: str, array: Any) -> Any:
    from onnx import numpy_helper

    array = to_numpy(array)
    if not array.flags.c_contiguous:  # (np.ascontiguousarray would make a 0-d array 1-d)
        array = array.copy()
    return numpy_helper.from_array(array, name)


def _ir_version(opset: int) -> int:
    """The IR version that came with ``opset`` (ONNX Runtime refuses newer IR versions than it knows)."""
    return {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10}.get(opset, 10)


# ----- writing ----------------------------------------------------------------------------------------
def _save(proto: Any, f: Any) -> None:
    """Write atomically (temp file + rename); models over 2 GB keep their weights in ``<file>.data``."""
    import onnx

    if hasattr(f, "write"):
        f.write(proto.SerializeToString())
        return
    path = Path(os.fspath(f))
    size = sum(t.ByteSize() for t in proto.graph.initializer)
    if size <= _EXTERNAL_DATA_LIMIT:
        write_bytes(path, proto.SerializeToString())
        return
    with atomic_path(path) as tmp:  # the weights go to <file>.data beside it (written in place)
        data_name = f"{path.name}.data"
        onnx.save_model(proto, tmp, save_as_external_data=True, all_tensors_to_one_file=True, location=data_name)
