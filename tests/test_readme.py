"""The README's tour is code a newcomer will paste: it must run (the GPU line is skipped without CUDA)."""

from __future__ import annotations

from pathlib import Path

import pytest

import portable_dl as pdl

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_tour_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("safetensors", reason="the tour saves a checkpoint (pip install -e '.[io]')")
    text = README.read_text()
    code = text.split("## A short tour", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    if not pdl.cuda.is_available():
        code = code.replace('model.to("cuda")', "model")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert float(namespace["loss"].item()) > 0
    assert (tmp_path / "model.safetensors").exists()


def _section(text: str, title: str, fence: str) -> str:
    return text.split(title, 1)[1].split(f"```{fence}", 1)[1].split("```", 1)[0]


def test_readme_deployment_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployment snippet (after the tour) and its shell lines, through the real command."""
    import shlex
    import subprocess
    import sys

    import numpy as np

    pytest.importorskip("onnxruntime", reason="deployment needs pip install -e '.[cpu]'")
    pytest.importorskip("safetensors", reason="the tour saves a checkpoint (pip install -e '.[io]')")
    text = README.read_text()
    tour = _section(text, "## A short tour", "python").replace('model.to("cuda")', "model")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(tour + _section(text, "## Deployment", "python"), str(README), "exec"), namespace)
    assert namespace["logits"].shape == (7, 10)
    assert (tmp_path / "models" / "mnist" / "config.pbtxt").exists()
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((3, 1, 28, 28), dtype=np.float32))
    examples = README.parent / "examples"
    for line in _section(text, "## Deployment", "bash").strip().splitlines():
        args = shlex.split(line.split("#", 1)[0].replace("examples/", f"{examples}/"))
        assert args[0] == "portable-dl"
        if args[1] == "bench":
            args += ["--iterations", "5", "--warmup", "1"]
        result = subprocess.run([sys.executable, "-m", "portable_dl.cli", *args[1:]], capture_output=True, text=True)
        assert result.returncode == 0, f"{line}\n{result.stderr}"
    assert np.load(tmp_path / "out.npz")[next(iter(np.load(tmp_path / "out.npz").files))].shape == (3, 10)
