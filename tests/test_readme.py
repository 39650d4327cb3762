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
