"""ONNX converters for training-mode dropout, index_fill, diagonals and device moves: ONNX Runtime vs eager
portable_dl (and statistics for the random dropout masks) at batch sizes 1 and 7, opsets 13 and 21."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import portable_dl as pdl
import portable_dl.export.converters.misc  # registers the converters until the package imports it
from portable_dl import nn
from portable_dl.backends.numpy_backend import NumpyBackend
from portable_dl.export.tracer import TracingError
from portable_dl.nn import functional as F
from portable_dl.ops.conversion import ToDevice
from portable_dl.ops.dropout import _Dropout

from .exportcheck import FunctionModule, check_export, export_bytes, run_ort

OPSETS = (13, 21)
_ALPHA = 1.7580993408473766


def _floats(*shape: int, seed: int = 0) -> callable:
    def make(n: int) -> list:
        x = np.random.default_rng(seed + n).standard_normal((n, *shape)).astype(np.float32)
        x.reshape(-1)[::5] = 0.0
        return [x]

    return make


def _positive(*shape: int) -> callable:
    return lambda n: [np.random.default_rng(n).uniform(0.5, 2.0, (n, *shape)).astype(np.float32)]


# ----- dropout -----------------------------------------------------------------------------------------------------
def _export_and_run(fn: callable, make: callable, opset: int, size: int, model: nn.Module | None = None) -> tuple:
    """Export on size 2 (batch axis dynamic), run on ``make(size)``; returns (input, ONNX output, graph)."""
    model = model if model is not None else FunctionModule(fn)
    proto = export_bytes(model, (pdl.tensor(make(2)[0]),), opset, {"in0": {0: "batch"}})
    (x,) = make(size)
    return x, run_ort(proto, [x])[0], proto


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [False, True])
def test_dropout_p0_is_exact(dtype: type, channels: bool) -> None:
    """ratio 0 keeps every value unscaled: bit-exact with eager (and the input)."""

    def fn(x: pdl.Tensor) -> pdl.Tensor:
        shape = tuple(x._data.shape)
        return _Dropout.apply(x, 0.0, shape[:2] + (1,) if channels else shape, False)

    def make(n: int) -> list:
        return [_floats(3, 4)(n)[0].astype(dtype)]

    check_export(fn, make, opsets=OPSETS, atol=0, rtol=0)


def test_dropout_p1_zeroes_everything() -> None:
    def make(n: int) -> list:
        x = _floats(6)(n)[0]
        x[0, 0] = np.inf  # inf * 0 = nan, as eager
        return [x]

    check_export(lambda x: F.dropout(x, 1.0, training=True), make, opsets=OPSETS)


@pytest.mark.parametrize("opset", OPSETS)
def test_dropout_half_drops_about_half_and_doubles_the_rest(opset: int) -> None:
    x, got, proto = _export_and_run(lambda x: F.dropout(x, 0.5, training=True), _positive(3000), opset, 7)
    assert got.shape == x.shape and "Dropout" in {n.op_type for n in proto.graph.node}
    dropped = got == 0
    np.testing.assert_allclose(got[~dropped], 2 * x[~dropped], rtol=1e-6)
    assert 0.47 < dropped.mean() < 0.53, dropped.mean()  # 21000 draws: 6 standard deviations either side


@pytest.mark.parametrize("opset", OPSETS)
def test_dropout_masks_differ_between_runs(opset: int) -> None:
    x, first, proto = _export_and_run(lambda x: F.dropout(x, 0.5, training=True), _positive(500), opset, 3)
    second = run_ort(proto, [x])[0]
    assert not np.array_equal(first == 0, second == 0)


@pytest.mark.parametrize("opset", OPSETS)
def test_channel_dropout_drops_whole_channels(opset: int) -> None:
    x, got, _ = _export_and_run(lambda x: F.dropout2d(x, 0.5, training=True), _positive(80, 3, 3), opset, 7)
    planes, inputs = got.reshape(7, 80, 9), x.reshape(7, 80, 9)
    dropped = (planes == 0).all(-1)
    kept = (~dropped)[..., None].repeat(9, -1)
    np.testing.assert_allclose(planes[kept], 2 * inputs[kept], rtol=1e-6)
    assert not (planes[~dropped] == 0).any()  # a channel is dropped whole or kept whole
    assert 0.38 < dropped.mean() < 0.62, dropped.mean()  # 560 channels


@pytest.mark.parametrize("opset", OPSETS)
def test_alpha_dropout_values(opset: int) -> None:
    p = 0.2
    x, got, _ = _export_and_run(lambda x: F.alpha_dropout(x, p, training=True), _floats(2000), opset, 7)
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    kept_value = x * a + _ALPHA * a * p
    dropped_value = np.float32(-_ALPHA * a + _ALPHA * a * p)
    kept = np.isclose(got, kept_value, rtol=1e-5, atol=1e-6)
    dropped = np.isclose(got, dropped_value, rtol=1e-5, atol=1e-6)
    assert (kept | dropped).all()
    assert 0.17 < (dropped & ~kept).mean() < 0.23


@pytest.mark.parametrize("opset", OPSETS)
def test_feature_alpha_dropout_values(opset: int) -> None:
    p = 0.5
    x, got, _ = _export_and_run(
        lambda x: F.feature_alpha_dropout(x, p, training=True), _floats(60, 4, seed=3), opset, 5
    )
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    kept = np.isclose(got, x * a + _ALPHA * a * p, rtol=1e-5, atol=1e-6).all(-1)
    dropped = np.isclose(got, -_ALPHA * a + _ALPHA * a * p, rtol=1e-5, atol=1e-6).all(-1)
    assert (kept | dropped).all()  # per channel
    assert 0.3 < dropped.mean() < 0.7


def test_dropout_module_in_training_mode_warns_and_exports() -> None:
    model = nn.Sequential(nn.Linear(64, 64), nn.Dropout(0.5))
    model.train()
    x = pdl.tensor(np.ones((2, 64), np.float32))
    with pytest.warns(UserWarning, match="training mode"):
        proto = export_bytes(model, (x,), 17, {"in0": {0: "batch"}})
    ops = [n for n in proto.graph.node if n.op_type == "Dropout"]
    assert len(ops) == 1
    got = run_ort(proto, [np.ones((9, 64), np.float32)])[0]
    assert got.shape == (9, 64) and 0.35 < (got == 0).mean() < 0.65
    model.eval()
    proto = export_bytes(model, (x,), 17)
    assert "Dropout" not in {n.op_type for n in proto.graph.node}


# ----- index_fill ----------------------------------------------------------------------------------------------------
def _index(*values: int) -> pdl.Tensor:
    return pdl.tensor(np.asarray(values, np.int64))


FILLS = {
    "dim1": lambda x: x.index_fill(1, _index(0, 3), -1.5),
    "dim2_neg_index": lambda x: x.index_fill(2, _index(-1), float("nan")),
    "dim_neg": lambda x: x.index_fill(-2, _index(1, 2, 4), 7),
    "empty_index": lambda x: x.index_fill(1, _index(), 3.0),
}


@pytest.mark.parametrize("example_size", [1, 2])
@pytest.mark.parametrize("name", sorted(FILLS))
def test_index_fill(name: str, example_size: int) -> None:
    """Exported on a batch of 1 too: the fixed mask must still broadcast along the dynamic batch."""
    check_export(FILLS[name], _floats(5, 3), opsets=OPSETS, example_size=example_size)


def test_index_fill_integers() -> None:
    make = lambda n: [np.arange(n * 12, dtype=np.int64).reshape(n, 4, 3) - 20]
    check_export(lambda x: x.index_fill(2, _index(0, 2), -7), make, opsets=OPSETS)


def test_index_fill_along_a_static_batch() -> None:
    check_export(lambda x: x.index_fill(0, _index(1), 0.0), _floats(4), batch_axes={}, sizes=(3,), opsets=OPSETS,
                 example_size=3)  # fmt: skip


@pytest.mark.parametrize("index", [(0,), (0, 1)])
def test_index_fill_along_a_dynamic_axis_is_refused(index: tuple) -> None:
    model = FunctionModule(lambda x: x.index_fill(0, _index(*index), 0.0))
    with pytest.raises(TracingError, match="index_fill"):
        export_bytes(model, (pdl.tensor(np.ones((2, 3), np.float32)),), 17, {"in0": {0: "batch"}})


# ----- diagonals -----------------------------------------------------------------------------------------------------
DIAGONALS = {
    "last_two": lambda x: x.diagonal(0, 1, 2),
    "offset_pos": lambda x: x.diagonal(1, 1, 2),
    "offset_neg_swapped": lambda x: x.diagonal(-2, 2, 1),
    "offset_past_end": lambda x: x.diagonal(9, 1, 2),
    "with_batch_dim": lambda x: x.diagonal(0, 0, 2),  # the dynamic axis is one of the diagonal's dims
    "with_batch_dim_offset": lambda x: x.diagonal(-1, 2, 0),
    "torch_diagonal_neg_dims": lambda x: pdl.diagonal(x, 1, -1, -2) * 2,
}


@pytest.mark.parametrize("name", sorted(DIAGONALS))
def test_diagonal(name: str) -> None:
    check_export(DIAGONALS[name], _floats(4, 5), opsets=OPSETS)


def test_diag_of_a_matrix_with_dynamic_rows() -> None:
    check_export(lambda x: pdl.diag(x, 1) + pdl.diag(x, -1)[:2].sum(), _floats(4), opsets=OPSETS, sizes=(3, 7))


def test_diagonal_of_integers() -> None:
    make = lambda n: [np.arange(n * 20, dtype=np.int32).reshape(n, 4, 5)]
    check_export(lambda x: x.diagonal(1, 1, 2), make, opsets=OPSETS)


EMBEDS = {
    "diag_embed": lambda x: pdl.diag_embed(x),
    "diag_embed_offset": lambda x: pdl.diag_embed(x, 2),
    "diag_embed_neg_offset_dims": lambda x: pdl.diag_embed(x, -1, 0, 2),
    "diag_embed_batch_dims": lambda x: pdl.diag_embed(x, 1, 2, 0),
}


@pytest.mark.parametrize("name", sorted(EMBEDS))
def test_diag_embed(name: str) -> None:
    check_export(EMBEDS[name], _floats(4), opsets=OPSETS)


@pytest.mark.parametrize("offset", [0, 2, -1])
def test_diag_of_a_vector_with_dynamic_length(offset: int) -> None:
    """torch.diag(v): an (n + |k|)^2 matrix whose size follows the dynamic length of v."""
    check_export(lambda v: pdl.diag(v, offset), lambda n: [np.arange(1, n + 1, dtype=np.float32)], opsets=OPSETS)


# ----- device moves ----------------------------------------------------------------------------------------------------
def test_device_move_is_an_identity() -> None:
    """A move to another backend (here a second NumPy backend: ``.to(...)`` on this machine is a no-op) exports."""
    other = NumpyBackend()
    check_export(lambda x: ToDevice.apply(x * 2, other) + 1, _floats(3), opsets=OPSETS)
