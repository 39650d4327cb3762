"""``check_export``: export a model or function, then compare ONNX Runtime (and ONNX's reference evaluator
where it knows the ops) with eager portable_dl at several batch sizes and opsets."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

import portable_dl as pdl


class FunctionModule(pdl.nn.Module):
    """Wraps a function of tensors so it can be exported like a model."""

    def __init__(self, fn: Callable) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *args: Any) -> Any:
        return self.fn(*args)


def export_bytes(model: Any, args: tuple, opset: int = 17, dynamic: dict | None = None, **kw: Any) -> onnx.ModelProto:
    names = [f"in{i}" for i in range(len(args))]
    buf = io.BytesIO()
    return pdl.onnx.export(model, args, buf, input_names=names, dynamic_axes=dynamic, opset_version=opset, **kw)


def run_ort(proto: onnx.ModelProto, arrays: Sequence[np.ndarray]) -> list:
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, arrays)))


def _eager(model: Any, arrays: Sequence[np.ndarray]) -> list:
    with pdl.no_grad():
        out = model(*[pdl.tensor(a) for a in arrays])
    outs = out if isinstance(out, (tuple, list)) else [out]
    return [o.numpy() for o in outs]


def check_export(
    model: Any,
    make_inputs: Callable[[int], Sequence[np.ndarray]],
    *,
    batch_axes: dict | None = None,
    sizes: Sequence[int] = (1, 7),
    opsets: Sequence[int] = (13, 17, 21),
    atol: float = 1e-5,
    rtol: float = 1e-5,
    reference: bool = True,
    example_size: int = 2,
) -> onnx.ModelProto:
    """Export ``model`` (a Module or a function of tensors) on ``make_inputs(example_size)``; for each opset,
    compare ONNX Runtime with eager at each size in ``sizes``. ``batch_axes``: {input index: [axes]} that are
    dynamic (default: axis 0 of every input). Returns the last exported model."""
    if not isinstance(model, pdl.nn.Module):
        model = FunctionModule(model)
    model.eval()
    example = list(make_inputs(example_size))
    if batch_axes is None:
        batch_axes = {i: [0] for i, a in enumerate(example) if np.ndim(a) > 0}
    dynamic = {f"in{i}": {a: f"dim{a}" for a in axes} for i, axes in batch_axes.items()}
    proto = None
    for opset in opsets:
        proto = export_bytes(model, tuple(pdl.tensor(a) for a in example), opset, dynamic or None)
        onnx.checker.check_model(proto, full_check=True)
        for size in sizes:
            arrays = list(make_inputs(size))
            want = _eager(model, arrays)
            got = run_ort(proto, arrays)
            assert len(got) == len(want), f"opset {opset}: {len(got)} outputs, eager has {len(want)}"
            for k, (g, w) in enumerate(zip(got, want)):
                assert g.shape == w.shape, f"opset {opset}, size {size}, output {k}: {g.shape} != {w.shape}"
                assert g.dtype == w.dtype, f"opset {opset}, size {size}, output {k}: {g.dtype} != {w.dtype}"
                np.testing.assert_allclose(
                    g, w, atol=atol, rtol=rtol, err_msg=f"opset {opset}, size {size}, output {k}"
                )
            if reference:
                _check_reference(proto, arrays, want, atol, rtol)
    return proto


def _check_reference(
    proto: onnx.ModelProto, arrays: Sequence[np.ndarray], want: list, atol: float, rtol: float
) -> None:
    """ONNX's reference evaluator as a second oracle; skipped for graphs with ops it does not implement."""
    from onnx.reference import ReferenceEvaluator

    opset = proto.opset_import[0].version
    if opset < 14 and any(n.op_type == "BatchNormalization" for n in proto.graph.node):
        return  # onnx's reference BatchNormalization-9 applies training-mode statistics whenever momentum is set
    try:
        ref = ReferenceEvaluator(proto)
        names = [i.name for i in proto.graph.input]
        got = ref.run(None, dict(zip(names, arrays)))
    except (NotImplementedError, TypeError, KeyError, AttributeError, RuntimeError):
        return
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), w, atol=max(atol, 1e-4), rtol=max(rtol, 1e-4))
