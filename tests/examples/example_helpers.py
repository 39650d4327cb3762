"""What the example-script tests share: where the scripts and the shared data sets live, the skip marker for missing
data, running a script in a subprocess, importing it as a module, and reading its one-line JSON summary."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SHARED_DATA = ROOT.parent / "shared" / "data"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def require_example_packages() -> tuple[types.ModuleType, types.ModuleType]:
    """Skip the calling test module unless what the examples import is installed; return onnxruntime and onnx."""
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("tqdm")
    pytest.importorskip("matplotlib")
    return ort, onnx


def needs_data(*relative_files: str) -> pytest.MarkDecorator:
    """Skip unless every file (relative to ``SHARED_DATA``) exists; the reason names the first one missing."""
    missing = [name for name in relative_files if not (SHARED_DATA / name).is_file()]
    return pytest.mark.skipif(
        bool(missing),
        reason=f"{SHARED_DATA / missing[0] if missing else ''} not found (../shared/data beside the checkout)",
    )


def run_example(name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``examples/<name>.py`` with ``args`` in a fresh interpreter, capturing its output as text."""
    script = EXAMPLES / f"{name}.py"
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=timeout)


def load_example(name: str) -> types.ModuleType:
    """Import ``examples/<name>.py`` as a module (its ``main`` does not run) to reach its classes and functions."""
    spec = importlib.util.spec_from_file_location(f"{name}_example", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def summary(stdout: str) -> dict:
    """The JSON summary an example prints as its last line of output."""
    return json.loads(stdout.strip().splitlines()[-1])


def run_smoke(tmp_path_factory: pytest.TempPathFactory, name: str, *extra: str) -> tuple[Path, dict]:
    """Run ``examples/<name>.py --smoke`` into a fresh folder, require success; return the folder and the summary."""
    out = tmp_path_factory.mktemp(name)
    result = run_example(name, "--smoke", "--out", str(out), *extra)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return out, summary(result.stdout)


def dynamic_batch_session(path: Path) -> tuple[Any, str]:
    """Check that the ONNX file's first input has a symbolic batch axis, then open it with ONNX Runtime on the CPU;
    return the session and that input's name."""
    import onnx
    import onnxruntime

    graph = onnx.load(str(path)).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param, f"{path}: the batch axis should be dynamic"
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session, session.get_inputs()[0].name


def assert_missing_data_refused(name: str, tmp_path: Path) -> None:
    """``--data`` pointing nowhere: exit code 2 and a message naming the option and the path."""
    result = run_example(name, "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "--data" in result.stderr and "nowhere" in result.stderr
