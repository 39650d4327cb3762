"""``portable-dl run`` and ``portable-dl bench`` through the real entry point in a subprocess: outputs against
NumPy, the JSON report, and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from .onnx_models import assert_clean_error, run_cli, save_graph, save_linear  # noqa: E402

W = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    value = helper.make_tensor_value_info
    return {
        "linear": save_linear(root / "linear.onnx", W),
        "two": save_graph(
            root / "two.onnx",
            [helper.make_node("Sub", ["a", "b"], ["difference"]), helper.make_node("Mul", ["a", "b"], ["product"])],
            [value(n, TensorProto.FLOAT, ["batch", 3]) for n in ("a", "b")],
            [value(n, TensorProto.FLOAT, ["batch", 3]) for n in ("difference", "product")],
        ),
        "ids": save_graph(
            root / "ids.onnx",
            [helper.make_node("Cast", ["ids"], ["as_float"], to=TensorProto.FLOAT)],
            [value("ids", TensorProto.INT64, ["batch", 6])],
            [value("as_float", TensorProto.FLOAT, ["batch", 6])],
        ),
    }


def test_run_writes_outputs_to_npz(models: dict[str, Path], tmp_path: Path) -> None:
    a = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    b = np.random.default_rng(3).standard_normal((5, 3)).astype(np.float32)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    out = tmp_path / "out.npz"
    # the unnamed file binds to the first input not named elsewhere: 'a'
    result = run_cli(
        "run", models["two"], "--input", f"b={tmp_path / 'b.npy'}", "--input", tmp_path / "a.npy", "-o", out
    )
    assert result.returncode == 0, result.stderr
    with np.load(out, allow_pickle=False) as saved:
        assert sorted(saved.files) == ["difference", "product"]
        np.testing.assert_allclose(saved["difference"], a - b, rtol=1e-6)
        np.testing.assert_allclose(saved["product"], a * b, rtol=1e-6)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_run_prints_a_summary_without_output_file(models: dict[str, Path], tmp_path: Path) -> None:
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    np.save(tmp_path / "x.npy", x)
    result = run_cli("run", models["linear"], "--input", tmp_path / "x.npy", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert "y: shape (2, 3) float32" in result.stdout
    first = float(result.stdout.split("[[")[1].split()[0])
    assert first == pytest.approx(float((x @ W)[0, 0]), rel=1e-3, abs=1e-3)


def test_bench_json_has_each_batch_size(models: dict[str, Path]) -> None:
    result = run_cli("bench", models["ids"], "--batch", "1,3", "--warmup", "1", "--iterations", "3", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [row["batch"] for row in report["results"]] == [1, 3]
    assert report["providers"][-1] == "CPUExecutionProvider"
    for row in report["results"]:
        assert 0 < row["p50_ms"] <= row["p99_ms"]
        assert row["samples_per_s"] > 0


def test_bench_prints_a_table(models: dict[str, Path]) -> None:
    result = run_cli("bench", models["linear"], "--batch", "2", "--warmup", "0", "--iterations", "2", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.strip().splitlines()[-2:]
    assert header.split() == ["batch", "p50", "ms", "p99", "ms", "mean", "ms", "samples/s"]
    assert row.split()[0] == "2"


def test_missing_model_file(tmp_path: Path) -> None:
    assert_clean_error(run_cli("run", tmp_path / "nothing.onnx"), "nothing.onnx", "not found")
    assert_clean_error(run_cli("bench", tmp_path / "nothing.onnx"), "nothing.onnx")


def test_run_error_paths(models: dict[str, Path], tmp_path: Path) -> None:
    np.save(tmp_path / "x64.npy", np.ones((2, 4)))
    assert_clean_error(run_cli("run", models["linear"], "--input", tmp_path / "x64.npy"), "'x'", "float32", "float64")
    assert_clean_error(run_cli("run", models["linear"], "--input", tmp_path / "absent.npy"), "absent.npy")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"not a model")
    assert_clean_error(run_cli("run", corrupt), "corrupt.onnx")
