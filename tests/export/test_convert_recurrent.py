"""Recurrent layers export as single ONNX LSTM/GRU/RNN nodes: ONNX Runtime vs eager portable_dl at
(batch, seq) = (1, 5) and (7, 11), both axes dynamic, with and without initial states."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import portable_dl as pdl

from .exportcheck import check_export, export_bytes, run_ort

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
    directions = [
        a.s for n in proto.graph.node if n.op_type == ONNX_OP[kind] for a in n.attribute if a.name == "direction"
    ]
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


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_with_projection_is_a_scan_per_direction(num_layers: int, bidirectional: bool, batch_first: bool) -> None:
    """ONNX LSTM has no projection: each layer and direction is a Scan over the projected step."""
    pdl.manual_seed(0)
    layer = nn.LSTM(FEAT, HIDDEN, proj_size=2, num_layers=num_layers, bidirectional=bidirectional,
                    batch_first=batch_first)  # fmt: skip
    proto = check_export(Flat(layer), _sequence(batch_first, seed=5), batch_axes={0: [0, 1]}, opsets=(13, 21))
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("Scan") == num_layers * (2 if bidirectional else 1) and "LSTM" not in ops


@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_with_projection_and_initial_state(batch_first: bool) -> None:
    pdl.manual_seed(0)
    layer = nn.LSTM(FEAT, HIDDEN, proj_size=2, num_layers=2, bidirectional=True, batch_first=batch_first)
    seq, rng = _sequence(batch_first, seed=6), np.random.default_rng(7)

    def make(n: int) -> list:
        return seq(n) + [rng.standard_normal((4, n, size)).astype(np.float32) for size in (2, HIDDEN)]

    batch, time = (0, 1) if batch_first else (1, 0)
    _check_with_labels(Flat(layer), make, {0: {batch: "batch", time: "seq"}, 1: {1: "batch"}, 2: {1: "batch"}})


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN_tanh"])
def test_float64_layers_match_the_reference_evaluator(kind: str) -> None:
    """ONNX allows double recurrences (ONNX Runtime's CPU kernels are float only): onnx's evaluator checks them."""
    from onnx.reference import ReferenceEvaluator

    model = Flat(_layer(kind, num_layers=2, bidirectional=True).double()).eval()
    x = np.random.default_rng(8).standard_normal((6, 2, FEAT))
    proto = export_bytes(model, (pdl.tensor(x),))
    got = ReferenceEvaluator(proto).run(None, {"in0": x})
    with pdl.no_grad():
        want = [o.numpy() for o in model(pdl.tensor(x))]
    for g, w in zip(got, want):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, w, atol=1e-12, rtol=1e-10)


def test_training_mode_dropout_warns() -> None:
    model = Flat(_layer("GRU", num_layers=2, dropout=0.5)).train()
    with pytest.warns(UserWarning, match="dropout between layers is not exported"):
        export_bytes(model, (pdl.randn(4, 2, FEAT),))


CELLS = {
    "LSTMCell": (nn.LSTMCell, {}, "LSTM"),
    "GRUCell": (nn.GRUCell, {}, "GRU"),
    "RNNCell_tanh": (nn.RNNCell, {"nonlinearity": "tanh"}, "RNN"),
    "RNNCell_relu": (nn.RNNCell, {"nonlinearity": "relu"}, "RNN"),
}


class TwoSteps(nn.Module):
    """Two cell steps: from zeros (``hx=None``) and from the given or previous state."""

    def __init__(self, cell: nn.Module, given: bool) -> None:
        super().__init__()
        self.cell, self.given = cell, given

    def forward(self, x: Any, *state: Any) -> tuple:
        s = self.cell(x, tuple(state) if len(state) == 2 else state[0]) if self.given else self.cell(x)
        s = self.cell(x * 2, s)
        return s if isinstance(s, tuple) else (s,)


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("given", [False, True])
@pytest.mark.parametrize("batched", [True, False])
def test_cells(kind: str, given: bool, batched: bool) -> None:
    pdl.manual_seed(0)
    cls, extra, onnx_op = CELLS[kind]
    model = TwoSteps(cls(FEAT, HIDDEN, **extra), given)
    rng = np.random.default_rng(4)
    n_states = (2 if kind == "LSTMCell" else 1) if given else 0

    def make(n: int) -> list:
        lead = (n,) if batched else ()
        return [rng.standard_normal(lead + (FEAT,)).astype(np.float32)] + [
            rng.standard_normal(lead + (HIDDEN,)).astype(np.float32) for _ in range(n_states)
        ]

    axes = {i: [0] for i in range(1 + n_states)} if batched else {}
    proto = check_export(model, make, batch_axes=axes, opsets=(13, 21))
    assert _recurrent_nodes(proto) == [onnx_op] * 2


# ----- a text classifier ------------------------------------------------------------------------------------
class Classifier(nn.Module):
    """Tokens (or feature vectors) -> 2-layer bidirectional LSTM (batch first) -> Linear on the last step."""

    def __init__(self, tokens: bool) -> None:
        super().__init__()
        pdl.manual_seed(0)
        self.embed = nn.Embedding(30, 8) if tokens else nn.Linear(FEAT, 8)
        self.lstm = nn.LSTM(8, HIDDEN, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * HIDDEN, 4)

    def forward(self, x: Any) -> Any:
        out, _ = self.lstm(self.embed(x))
        return self.head(out[:, -1])


def test_sequence_classifier_on_features() -> None:
    rng = np.random.default_rng(9)
    make = lambda n: [rng.standard_normal((n, n + 4, FEAT)).astype(np.float32)]
    proto = check_export(Classifier(tokens=False), make, batch_axes={0: [0, 1]}, opsets=(13, 17, 21))
    assert _recurrent_nodes(proto) == ["LSTM", "LSTM"]


def test_text_classifier() -> None:
    rng = np.random.default_rng(10)
    make = lambda n: [rng.integers(0, 30, (n, n + 4))]
    proto = check_export(Classifier(tokens=True), make, batch_axes={0: [0, 1]}, opsets=(13, 17, 21))
    assert _recurrent_nodes(proto) == ["LSTM", "LSTM"]


def test_keyword_arguments() -> None:
    """``lstm(input=x, hx=(h, c))``: the converter reads keyword arguments too."""

    class Keywords(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = _layer("LSTM")

        def forward(self, x: Any, h: Any, c: Any) -> Any:
            out, (h_n, c_n) = self.lstm(input=x, hx=(h, c))
            return out, h_n, c_n

    seq, rng = _sequence(False, seed=11), np.random.default_rng(12)
    make = lambda n: seq(n) + [rng.standard_normal((1, n, HIDDEN)).astype(np.float32) for _ in range(2)]
    check_export(Keywords(), make, batch_axes={0: [0, 1], 1: [1], 2: [1]}, opsets=(17,))
