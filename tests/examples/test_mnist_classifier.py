"""examples/mnist_classifier.py end to end: the real script in a subprocess with ``--smoke``, then its checkpoint and
ONNX file checked independently (the checkpoint reloaded into the script's model, ONNX Runtime called directly)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import portable_dl as torch

from .example_helpers import (
    PNG_MAGIC,
    assert_missing_data_refused,
    dynamic_batch_session,
    load_example,
    needs_data,
    require_example_packages,
    run_example,
    run_smoke,
)

require_example_packages()

NAME = "mnist_classifier"
needs_mnist = needs_data("mnist/t10k-images-idx3-ubyte.gz")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return run_smoke(tmp_path_factory, NAME)


@needs_mnist
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


@needs_mnist
def test_checkpoint_reloads_and_matches_onnx_runtime_at_two_batch_sizes(smoke: tuple[Path, dict]) -> None:
    out, _ = smoke
    model = load_example(NAME).Net(width=4)  # the --smoke width
    model.load_state_dict(torch.load(out / "model.safetensors"))
    model.eval()

    session, name = dynamic_batch_session(out / "model.onnx")
    rng = np.random.default_rng(0)
    for batch in (1, 13):
        x = rng.normal(size=(batch, 1, 28, 28)).astype(np.float32)
        with torch.no_grad():
            eager = model(torch.tensor(x)).numpy()
        (ort_out,) = session.run(None, {name: x})
        assert ort_out.shape == (batch, 10)
        np.testing.assert_allclose(ort_out, eager, atol=1e-4, rtol=1e-4)


def test_missing_data_exits_2_naming_the_option(tmp_path: Path) -> None:
    assert_missing_data_refused(NAME, tmp_path)


def test_bad_argument_is_refused(tmp_path: Path) -> None:
    result = run_example(NAME, "--epochs", "0", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "--epochs" in result.stderr
