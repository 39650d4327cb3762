"""examples/mnist_classifier.py end to end: the real script in a subprocess with ``--smoke``, then its checkpoint and
ONNX file checked independently (the checkpoint reloaded into the script's model, ONNX Runtime called directly)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
pytest.importorskip("tqdm")
pytest.importorskip("matplotlib")

import portable_dl as torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "mnist_classifier.py"
DATA = ROOT.parent / "shared" / "data" / "mnist"
needs_data = pytest.mark.skipif(
    not (DATA / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"MNIST not found at {DATA} (../shared/data beside the checkout)",
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def _load_script():
    spec = importlib.util.spec_from_file_location("mnist_classifier_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("mnist_classifier")
    result = _run("--smoke", "--out", str(out))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return out, json.loads(result.stdout.strip().splitlines()[-1])


@needs_data
def test_smoke_run_trains_and_onnx_agrees(smoke: tuple[Path, dict]) -> None:
    out, summary = smoke
    assert summary["last_loss"] < summary["first_loss"], summary
    assert summary["train_size"] + summary["test_size"] == 800, summary
    for name in ("model.safetensors", "model.onnx"):
        assert (out / name).stat().st_size > 0, name
    for name in ("curves.png", "misclassified.png"):
        assert (out / name).read_bytes()[:8] == PNG_MAGIC, name
    assert summary["onnx_max_abs_diff"] < 1e-4, summary
    assert summary["onnx_acc"] == summary["test_acc"], summary
    assert summary["onnx_pred_agreement"] == 1.0, summary


@needs_data
def test_checkpoint_reloads_and_matches_onnx_runtime_at_two_batch_sizes(smoke: tuple[Path, dict]) -> None:
    out, _ = smoke
    model = _load_script().Net(width=4)  # the --smoke width
    model.load_state_dict(torch.load(out / "model.safetensors"))
    model.eval()

    graph = onnx.load(str(out / "model.onnx")).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param, "batch axis should be dynamic"
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    rng = np.random.default_rng(0)
    for batch in (1, 13):
        x = rng.normal(size=(batch, 1, 28, 28)).astype(np.float32)
        with torch.no_grad():
            eager = model(torch.tensor(x)).numpy()
        (ort_out,) = session.run(None, {name: x})
        assert ort_out.shape == (batch, 10)
        np.testing.assert_allclose(ort_out, eager, atol=1e-4, rtol=1e-4)


def test_missing_data_exits_2_naming_the_option(tmp_path: Path) -> None:
    result = _run("--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "--data" in result.stderr and "nowhere" in result.stderr


def test_bad_argument_is_refused(tmp_path: Path) -> None:
    result = _run("--epochs", "0", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "--epochs" in result.stderr
