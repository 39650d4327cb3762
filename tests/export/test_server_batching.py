"""The dynamic batcher on real ONNX Runtime sessions: merged runs give what separate runs give (checked against
sessions made here), incompatible shapes are not merged, a failing request fails alone, outputs without a batch
axis fall back to separate runs, and a closed batcher refuses new work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from portable_dl.export.runner import Runner  # noqa: E402
from portable_dl.export.server.batching import Batcher, BatcherClosedError  # noqa: E402
from portable_dl.export.server.metrics import ModelStats  # noqa: E402
from portable_dl.export.server.repository import ModelVersion, Repository  # noqa: E402

from .onnx_models import save_graph, save_linear  # noqa: E402

RNG = np.random.default_rng(3)
TABLE = RNG.standard_normal((10, 2)).astype(np.float32)
W = RNG.standard_normal((4, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("batching")
    value = helper.make_tensor_value_info
    return {
        "embedding": save_graph(  # TABLE[ids], ids: (batch, seq) int64
            root / "embedding.onnx",
            [helper.make_node("Gather", ["table", "ids"], ["vectors"])],
            [value("ids", TensorProto.INT64, ["batch", "seq"])],
            [value("vectors", TensorProto.FLOAT, ["batch", "seq", 2])],
            [numpy_helper.from_array(TABLE, "table")],
        ),
        "total": save_graph(  # sum of everything: the output has no batch axis
            root / "total.onnx",
            [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0)],
            [value("x", TensorProto.FLOAT, ["batch", 4])],
            [value("s", TensorProto.FLOAT, [])],
        ),
        "linear": save_linear(root / "linear.onnx", W),
    }


def _reference(path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)


def _model(path: Path, max_batch_size: int, delay_ms: float) -> ModelVersion:
    repository = Repository.single(path, max_batch_size=max_batch_size, max_queue_delay_ms=delay_ms)
    assert repository.load("cpu") == []
    return next(iter(repository))


def test_merged_results_equal_separate_runs(models: dict[str, Path]) -> None:
    model = _model(models["linear"], 8, 5000)
    try:
        inputs = [RNG.standard_normal((n, 4)).astype(np.float32) for n in (1, 2, 3, 2)]  # 8 items: a full batch
        futures = [model.batcher.submit({"x": x}, len(x)) for x in inputs]
        for x, future in zip(inputs, futures):
            (got,) = future.result(timeout=30)
            np.testing.assert_allclose(got, _reference(models["linear"], {"x": x})[0], rtol=1e-6)
        stats = model.stats.snapshot()
        assert stats["inference_count"] == 8
        assert stats["exec_count"] == 1
        assert stats["pending"] == 0
    finally:
        model.close()


def test_different_shapes_are_not_merged_and_a_bad_request_fails_alone(models: dict[str, Path]) -> None:
    model = _model(models["embedding"], 8, 200)
    try:
        good = [RNG.integers(0, 10, size=(1, seq)) for seq in (3, 5, 3, 5)]
        bad = np.array([[1, 99, 2]])  # index 99 is outside the table: ONNX Runtime refuses it
        futures = [model.batcher.submit({"ids": ids}, 1) for ids in [*good[:2], bad, *good[2:]]]
        failed = futures.pop(2)
        for ids, future in zip(good, futures):
            (got,) = future.result(timeout=30)
            assert got.shape == (1, ids.shape[1], 2)
            np.testing.assert_array_equal(got, _reference(models["embedding"], {"ids": ids})[0])
        with pytest.raises(RuntimeError, match="ONNX Runtime failed"):
            failed.result(timeout=30)
        stats = model.stats.snapshot()
        assert stats["inference_count"] == len(good)  # the failed one is not counted
        assert stats["exec_count"] >= 2  # two sequence lengths never share a run
    finally:
        model.close()


def test_outputs_without_batch_axis_run_separately(models: dict[str, Path]) -> None:
    runner = Runner(models["total"], device="cpu")
    stats = ModelStats()
    batcher = Batcher(lambda feeds: [runner.run(feeds)], stats, max_batch_size=8, max_queue_delay_s=0.2)
    try:
        inputs = [RNG.standard_normal((n, 4)).astype(np.float32) for n in (1, 2, 1)]
        futures = [batcher.submit({"x": x}, len(x)) for x in inputs]
        for x, future in zip(inputs, futures):
            (got,) = future.result(timeout=30)
            np.testing.assert_allclose(got, _reference(models["total"], {"x": x})[0], rtol=1e-5)
        assert stats.snapshot()["exec_count"] == len(inputs)
    finally:
        batcher.close()


def test_closed_batcher_finishes_queued_work_and_refuses_new(models: dict[str, Path]) -> None:
    model = _model(models["linear"], 4, 100)
    x = RNG.standard_normal((1, 4)).astype(np.float32)
    future = model.batcher.submit({"x": x}, 1)
    model.close()
    (got,) = future.result(timeout=30)
    np.testing.assert_allclose(got, _reference(models["linear"], {"x": x})[0], rtol=1e-6)
    with pytest.raises(BatcherClosedError, match="shutting down"):
        model.batcher.submit({"x": x}, 1)
