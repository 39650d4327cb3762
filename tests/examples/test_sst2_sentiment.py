"""examples/sst2_sentiment.py end to end: the real script in a subprocess with ``--smoke``, then its outputs checked
with ONNX Runtime directly (padding invariance, dynamic axes), ``--predict`` and the missing-data error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from .example_helpers import (
    assert_missing_data_refused,
    needs_data,
    require_example_packages,
    run_example,
    run_smoke,
)

ort, onnx = require_example_packages()

NAME = "sst2_sentiment"
needs_sst2 = needs_data("sst2/train.tsv")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return run_smoke(tmp_path_factory, NAME)


@needs_sst2
def test_smoke_run_trains_and_onnx_agrees(smoke: tuple[Path, dict]) -> None:
    out, summary = smoke
    assert summary["loss_last_window"] < summary["loss_first_window"], summary
    for name in ("model.safetensors", "model.onnx", "vocab.json", "curves.png"):
        assert (out / name).stat().st_size > 0, name
    assert summary["max_abs_diff"] < 1e-4, summary
    assert summary["onnx_acc"] == summary["eager_acc"], summary
    assert 0.0 <= summary["eager_acc"] <= 1.0


def _encode(text: str, vocab: dict) -> list[int]:
    """The tokeniser as documented in vocab.json, written here independently of the script."""
    import re

    index = {t: i for i, t in enumerate(vocab["tokens"])}
    tokens = re.findall(vocab["token_pattern"], text.lower() if vocab["lowercase"] else text)
    return [index.get(t, vocab["unk_id"]) for t in tokens] or [vocab["unk_id"]]


@needs_sst2
def test_onnx_model_has_dynamic_axes_and_ignores_padding(smoke: tuple[Path, dict]) -> None:
    out, _ = smoke
    model = onnx.load(str(out / "model.onnx"))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [bool(d.dim_param) for d in dims] == [True, True], dims
    vocab = json.loads((out / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["tokens"][:2] == ["<pad>", "<unk>"] and vocab["pad_id"] == 0

    texts = ["a gorgeous , witty , seductive movie .", "dull", "it 's not a bad film , but not a good one either ."]
    seqs = [_encode(t, vocab) for t in texts]
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    alone = np.concatenate([session.run(None, {name: np.array([s], np.int64)})[0] for s in seqs])
    width = max(map(len, seqs)) + 3  # extra padding beyond the longest row too
    batch = np.zeros((len(seqs), width), np.int64)
    for row, s in enumerate(seqs):
        batch[row, : len(s)] = s
    together = session.run(None, {name: batch})[0]
    assert together.shape == (3, 2)
    np.testing.assert_allclose(together, alone, atol=1e-5)


@needs_sst2
def test_predict_uses_saved_onnx_and_vocab(smoke: tuple[Path, dict]) -> None:
    out, _ = smoke
    result = run_example(NAME, "--out", str(out), "--predict", "a gorgeous film", "--predict", "boring and dull")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.split()[0] in ("positive", "negative") for line in lines), lines


def test_missing_data_exits_2_naming_the_option(tmp_path: Path) -> None:
    assert_missing_data_refused(NAME, tmp_path)


def test_predict_without_a_model_explains(tmp_path: Path) -> None:
    result = run_example(NAME, "--out", str(tmp_path), "--predict", "fine")
    assert result.returncode == 2
    assert "model.onnx" in result.stderr
