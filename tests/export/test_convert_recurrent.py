"""Recurrent layers export as single ONNX LSTM/GRU/RNN nodes: ONNX Runtime vs eager portable_dl at
(batch, seq) = (1, 5) and (7, 11), both axes dynamic, with and without initial states."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import portable_dl as pdl  # noqa: E402
from portable_dl.export.tracer import TracingError  # noqa: E402

from .exportcheck import check_export, export_bytes, run_ort  # noqa: E402

nn = pdl.nn
KINDS = {
    "LSTM": (nn.LSTM, {}),
    "GRU": (nn.GRU, {}),
    "RNN_tanh": (nn.RNN, {"nonlinearity": "tanh"}),
    "RNN_relu": (nn.RNN, {"nonlinearity": "relu"}),
}
ONNX_OP = {"LSTM": "LSTM", "GRU": "GRU", "RNN_tanh": "RNN", "RNN_relu": "RNN"}
FEAT, HIDDEN = 3, 5


class Flat(nn.Module):
    """The layer's outputs as a flat tuple (``out, h_n[, c_n]``) so they can be graph outputs."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: Any, *state: Any) -> tuple:
        if len(state) == 2:
            out, hidden = self.layer(x, tuple(state))
        elif len(state) == 1:
            out, hidden = self.layer(x, state[0])
        else:
            out, hidden = self.layer(x)
        return (out, *hidden) if isinstance(hidden, tuple) else (out, hidden)


def _layer(kind: str, **kw: Any) -> nn.Module:
    pdl.manual_seed(0)
    cls, extra = KINDS[kind]
    return cls(FEAT, HIDDEN, **extra, **kw)


def _sequence(batch_first: bool, seed: int = 0) -> Any:
    """Inputs for size n: batch n, sequence n + 4 (so (1, 5) and (7, 11))."""
    rng = np.random.default_rng(seed)

    def make(n: int) -> list:
        x = rng.standard_normal((n + 4, n, FEAT)).astype(np.float32) * 2
        return [x.transpose(1, 0, 2).copy() if batch_first else x]

    return make


def _recurrent_nodes(proto: Any) -> list:
    ops = [n.op_type for n in proto.graph.node]
    assert not {"Loop", "Scan", "If"} & set(ops), ops
    return [o for o in ops if o in ("LSTM", "GRU", "RNN")]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_layer_matches_eager(kind: str, num_layers: int, bidirectional: bool, batch_first: bool) -> None:
    layer = _layer(kind, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, dropout=0.3)
    proto = check_export(Flat(layer), _sequence(batch_first), batch_axes={0: [0, 1]}, opsets=(13, 21))
    assert _recurrent_nodes(proto) == [ONNX_OP[kind]] * num_layers
    directions = [a.s for n in proto.graph.node if n.op_type == ONNX_OP[kind] for a in n.attribute if a.name == "direction"]
    assert directions == [b"bidirectional" if bidirectional else b"forward"] * num_layers


def _check_with_labels(model: nn.Module, make: Any, labels: dict, opset: int = 17) -> Any:
    """Export with named dynamic axes ``{input index: {axis: label}}``; ORT vs eager at sizes 1 and 7."""
    model.eval()
    example = make(2)
    dynamic = {f"in{i}": axes for i, axes in labels.items()}
    proto = export_bytes(model, tuple(pdl.tensor(a) for a in example), opset, dynamic)
    for n in (1, 7):
        arrays = make(n)
        with pdl.no_grad():
            want = [o.numpy() for o in model(*[pdl.tensor(a) for a in arrays])]
        got = run_ort(proto, arrays)
        assert [g.shape for g in got] == [w.shape for w in want]
        for k, (g, w) in enumerate(zip(got, want)):
            np.testing.assert_allclose(g, w, atol=1e-5, rtol=1e-5, err_msg=f"size {n}, output {k}")
    return proto


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("batch_first", [False, True])
def test_initial_state(kind: str, batch_first: bool) -> None:
    layer = _layer(kind, num_layers=2, bidirectional=True, batch_first=batch_first)
    seq = _sequence(batch_first, seed=1)
    rng = np.random.default_rng(2)
    n_states = 2 if kind == "LSTM" else 1

    def make(n: int) -> list:
        return seq(n) + [rng.standard_normal((4, n, HIDDEN)).astype(np.float32) for _ in range(n_states)]

    batch, time = (0, 1) if batch_first else (1, 0)
    labels = {0: {batch: "batch", time: "seq"}, **{1 + k: {1: "batch"} for k in range(n_states)}}
    proto = _check_with_labels(Flat(layer), make, labels)
    assert _recurrent_nodes(proto) == [ONNX_OP[kind]] * 2


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN_tanh"])
def test_without_bias_and_unbatched_input(kind: str) -> None:
    layer = _layer(kind, num_layers=2, bias=False, bidirectional=True)
    rng = np.random.default_rng(3)
    proto = check_export(Flat(layer), lambda n: [rng.standard_normal((n + 4, FEAT)).astype(np.float32)],
                         opsets=(17,))  # fmt: skip
    assert _recurrent_nodes(proto) == [ONNX_OP[kind]] * 2
    assert all(len(n.input) == 3 for n in proto.graph.node if n.op_type == ONNX_OP[kind])  # X, W, R: no B


def test_weights_are_stored_once_per_layer() -> None:
    """W, R and B constants per layer (gate-reordered copies); the original parameters are not kept."""
    proto = check_export(Flat(_layer("LSTM", num_layers=2)), _sequence(False), batch_axes={0: [0, 1]}, opsets=(17,))
    shapes = sorted(tuple(t.dims) for t in proto.graph.initializer if len(t.dims) == 3 or len(t.dims) == 2)
    assert shapes == sorted([(1, 20, FEAT), (1, 20, HIDDEN), (1, 40), (1, 20, HIDDEN), (1, 20, HIDDEN), (1, 40)])


def test_lstm_with_projection_is_refused() -> None:
    layer = nn.LSTM(FEAT, HIDDEN, proj_size=2)
    with pytest.raises(TracingError, match="LSTM with proj_size has no ONNX LSTM equivalent"):
        export_bytes(Flat(layer).eval(), (pdl.randn(4, 2, FEAT),))
