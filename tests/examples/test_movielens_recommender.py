"""examples/movielens_recommender.py end to end: the real script in a subprocess with ``--smoke``, then its checkpoint,
id mappings, ONNX file and top-10 answer checked independently (NumPy on the saved weights, ONNX Runtime directly,
the CSV files read here)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import portable_dl as torch

from .example_helpers import (
    PNG_MAGIC,
    SHARED_DATA,
    assert_missing_data_refused,
    load_example,
    needs_data,
    require_example_packages,
    run_example,
    run_smoke,
)

ort, onnx = require_example_packages()

NAME = "movielens_recommender"
DATA = SHARED_DATA / "movielens"
needs_movielens = needs_data("movielens/ratings.csv", "movielens/movies.csv")
SMOKE_RATINGS = 3000  # the script's --smoke subset: the first 3000 rows of ratings.csv


def _first_ratings(n: int) -> list[tuple[int, int, float]]:
    with open(DATA / "ratings.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1 : n + 1]
    return [(int(u), int(m), float(r)) for u, m, r, _ in rows]


def _numpy_scores(weights: dict[str, np.ndarray], users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """The biased-MF prediction written directly in NumPy from the saved tables."""
    dot = np.sum(weights["user.weight"][users] * weights["item.weight"][items], axis=-1)
    return weights["global_mean"] + weights["user_bias.weight"][users, 0] + weights["item_bias.weight"][items, 0] + dot


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    if not (DATA / "ratings.csv").is_file():
        pytest.skip(f"MovieLens small not found at {DATA}")
    return run_smoke(tmp_path_factory, NAME)


@needs_movielens
def test_smoke_run_trains_and_onnx_agrees(smoke: tuple[Path, dict]) -> None:
    out, summary = smoke
    assert summary["last_loss"] < summary["first_loss"], summary
    assert summary["n_train"] + summary["n_heldout"] == SMOKE_RATINGS, summary
    assert summary["n_heldout"] == 300, summary
    for name in ("model.safetensors", "model.onnx", "id_mappings.json"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "rmse.png").read_bytes()[:8] == PNG_MAGIC
    assert summary["max_abs_diff"] < 1e-4, summary
    assert summary["onnx_heldout_rmse"] == pytest.approx(summary["eager_heldout_rmse"], abs=1e-5), summary
    assert len(summary["train_rmse_per_epoch"]) == len(summary["heldout_rmse_per_epoch"]) == 1, summary


@needs_movielens
def test_id_mappings_match_the_csv_files(smoke: tuple[Path, dict]) -> None:
    out, _ = smoke
    mappings = json.loads((out / "id_mappings.json").read_text())
    ratings = _first_ratings(SMOKE_RATINGS)
    assert mappings["user_ids"] == sorted({u for u, _, _ in ratings})
    with open(DATA / "movies.csv", newline="", encoding="utf-8") as handle:
        movie_ids = {int(row[0]) for row in list(csv.reader(handle))[1:]}
    assert set(mappings["item_ids"]) == movie_ids | {m for _, m, _ in ratings}
    assert mappings["item_ids"] == sorted(mappings["item_ids"])
    # a quoted title holding a comma (movies.csv row: 11,"American President, The (1995)",...)
    assert load_example(NAME).MovieLens(DATA, limit=10).titles[11] == "American President, The (1995)"


@needs_movielens
def test_onnx_matches_numpy_on_the_checkpoint_at_two_batch_sizes(smoke: tuple[Path, dict]) -> None:
    out, _ = smoke
    weights = {k: v.numpy() for k, v in torch.load(out / "model.safetensors").items()}
    model = onnx.load(str(out / "model.onnx"))
    for value in model.graph.input:
        assert value.type.tensor_type.elem_type == onnx.TensorProto.INT64, value.name
        assert value.type.tensor_type.shape.dim[0].dim_param, f"{value.name}: batch axis should be dynamic"
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["user", "item"]
    rng = np.random.default_rng(0)
    n_users, n_items = len(weights["user.weight"]), len(weights["item.weight"])
    for batch in (1, 257):
        users = rng.integers(0, n_users, size=batch).astype(np.int64)
        items = rng.integers(0, n_items, size=batch).astype(np.int64)
        (scores,) = session.run(None, {"user": users, "item": items})
        assert scores.shape == (batch,)
        np.testing.assert_allclose(scores, _numpy_scores(weights, users, items), atol=1e-5, rtol=1e-5)


@needs_movielens
def test_top10_are_the_best_unrated_movies_by_numpy(smoke: tuple[Path, dict]) -> None:
    out, summary = smoke
    weights = {k: v.numpy() for k, v in torch.load(out / "model.safetensors").items()}
    mappings = json.loads((out / "id_mappings.json").read_text())
    with open(DATA / "movies.csv", newline="", encoding="utf-8") as handle:
        titles = {int(row[0]): row[1] for row in list(csv.reader(handle))[1:]}
    user = summary["top10_user"]
    rated = {m for u, m, _ in _first_ratings(SMOKE_RATINGS) if u == user}
    candidates = [m for m in mappings["item_ids"] if m not in rated]
    index = {m: i for i, m in enumerate(mappings["item_ids"])}
    items = np.array([index[m] for m in candidates])
    scores = _numpy_scores(weights, np.full(len(items), mappings["user_ids"].index(user)), items)
    by_title = dict(zip((titles[m] for m in candidates), scores))
    eleventh = np.sort(scores)[::-1][10]
    assert len(summary["top10"]) == 10 and len(set(summary["top10"])) == 10, summary["top10"]
    for title in summary["top10"]:
        assert title in by_title, f"{title!r} is rated by the user or unknown"
        assert by_title[title] >= eleventh - 1e-5, (title, by_title[title], eleventh)


def test_missing_data_exits_2_naming_the_option(tmp_path: Path) -> None:
    assert_missing_data_refused(NAME, tmp_path)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    for args, option in ((("--epochs", "0"), "--epochs"), (("--heldout", "1.5"), "--heldout")):
        result = run_example(NAME, *args, "--out", str(tmp_path))
        assert result.returncode == 2, args
        assert option in result.stderr, result.stderr


@needs_movielens
def test_unknown_user_is_refused(tmp_path: Path) -> None:
    result = run_example(NAME, "--smoke", "--user", "999999", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "--user" in result.stderr and "999999" in result.stderr
