"""Helpers the export tests share: saving a small hand-built ONNX graph, running the real ``portable-dl`` entry point
in a subprocess, and checking that an error came out as one clean line with exit code 2."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

OPSET = 17
IR_VERSION = 8  # old enough for every onnxruntime the tests meet


def save_graph(path: Path, nodes: list, inputs: list, outputs: list, initializers: Iterable[Any] = ()) -> Path:
    """Write a one-graph model (named after the file's stem, default opset ``OPSET``) to ``path``; return ``path``."""
    import onnx
    from onnx import helper

    model = helper.make_model(
        helper.make_graph(nodes, path.stem, inputs, outputs, list(initializers)),
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    onnx.save(model, path)
    return path


def save_linear(path: Path, weight: Any) -> Path:
    """``y = x @ weight`` with x ``(batch, in)`` float32 and the weight an initializer ``W``; saved to ``path``."""
    from onnx import TensorProto, helper, numpy_helper

    n_in, n_out = weight.shape
    return save_graph(
        path,
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", n_in])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", n_out])],
        [numpy_helper.from_array(weight, "W")],
    )


def run_cli(*args: object, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m portable_dl.cli ARGS`` in a fresh interpreter, output captured as text."""
    command = [sys.executable, "-m", "portable_dl.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def assert_clean_error(result: subprocess.CompletedProcess, *fragments: str, prefix: str = "portable-dl ") -> None:
    """Exit code 2, no traceback, and one stderr line starting with ``prefix`` that holds every fragment."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
