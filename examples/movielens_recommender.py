"""MovieLens recommender: biased matrix factorisation (optionally with an NCF-style MLP) trained with portable_dl.

Reads MovieLens "small" (ml-latest-small: ``ratings.csv`` and ``movies.csv``, as published) from ``--data``, holds
out a seeded random 10% of the ratings, and fits

    rating ~ global mean + user bias + item bias + <user vector, item vector> [+ MLP(user vector, item vector)]

with MSE and an L2 penalty on the rows each batch uses (the classic MF regulariser). It reports the held-out RMSE
per epoch (plot: ``rmse.png``), saves ``model.safetensors`` with the id mappings beside it (``id_mappings.json``),
exports ``model.onnx`` (inputs ``user``/``item``: int64 with a dynamic batch axis; output ``rating``), checks ONNX
Runtime's held-out predictions against eager ones, and answers a top-10 query for one user from ONNX Runtime.

Run: python examples/movielens_recommender.py            (default: ~0.84 held-out RMSE in ~10-15 s on 2 cores)
     python examples/movielens_recommender.py --smoke    (a few seconds)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

import portable_dl as torch
import portable_dl.nn as nn
import portable_dl.nn.functional as F

NAME = "movielens_recommender"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "movielens"
MIN_RATING, MAX_RATING = 0.5, 5.0


# ----- data --------------------------------------------------------------------------------------------------
class MovieLens:
    """MovieLens ratings as index arrays, plus the raw id <-> index mappings and the movie titles.

    Items are indexed over every movie in ``movies.csv`` (and any rated movie missing from it), so a
    recommendation query can score movies nobody in the training split rated."""

    def __init__(self, root: Path, limit: int | None = None) -> None:
        ratings_path, movies_path = root / "ratings.csv", root / "movies.csv"
        for path in (ratings_path, movies_path):
            if not path.is_file():
                raise FileNotFoundError(f"missing {path}: --data must be the MovieLens small folder (ml-latest-small)")
        self.titles: dict[int, str] = {}
        with open(movies_path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            _require_columns(reader.fieldnames, ("movieId", "title"), movies_path)
            for row in reader:
                self.titles[int(row["movieId"])] = row["title"]
        users, items, ratings = [], [], []
        with open(ratings_path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            _require_columns(reader.fieldnames, ("userId", "movieId", "rating"), ratings_path)
            for row in reader:
                users.append(int(row["userId"]))
                items.append(int(row["movieId"]))
                ratings.append(float(row["rating"]))
                if limit is not None and len(ratings) >= limit:
                    break
        if not ratings:
            raise ValueError(f"{ratings_path} holds no ratings")
        raw_users = np.asarray(users, dtype=np.int64)
        raw_items = np.asarray(items, dtype=np.int64)
        self.user_ids: list[int] = sorted(set(users))
        self.item_ids: list[int] = sorted(set(self.titles) | set(items))
        self.users = np.searchsorted(np.asarray(self.user_ids, dtype=np.int64), raw_users)
        self.items = np.searchsorted(np.asarray(self.item_ids, dtype=np.int64), raw_items)
        self.ratings = np.asarray(ratings, dtype=np.float32)

    def split(self, heldout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Seeded random split of rating indices into (train, held-out)."""
        order = np.random.default_rng(seed).permutation(len(self.ratings))
        n_heldout = max(1, int(round(heldout * len(order))))
        return np.sort(order[n_heldout:]), np.sort(order[:n_heldout])


def _require_columns(found: list[str] | None, needed: tuple[str, ...], path: Path) -> None:
    missing = [c for c in needed if c not in (found or [])]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; header is {found}, expected at least {list(needed)}")


# ----- model -------------------------------------------------------------------------------------------------
class MatrixFactorization(nn.Module):
    """Global mean + user/item biases + dot product of user/item vectors, plus an optional MLP over both vectors
    (neural collaborative filtering). ``forward(user, item)`` takes int64 index tensors of shape (batch,)."""

    def __init__(
        self, n_users: int, n_items: int, dim: int, global_mean: float, mlp_hidden: int = 0, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        self.register_buffer("global_mean", torch.tensor(float(global_mean)))
        self.mlp = None
        if mlp_hidden > 0:
            self.mlp = nn.Sequential(
                nn.Linear(2 * dim, mlp_hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(mlp_hidden, 1)
            )
        for table in (self.user, self.item):
            nn.init.normal_(table.weight, std=0.05)
        for table in (self.user_bias, self.item_bias):
            nn.init.zeros_(table.weight)

    def parts(self, user: torch.Tensor, item: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(predicted rating, user rows, item rows); the rows feed the L2 penalty."""
        u, v = self.user(user), self.item(item)
        score = self.global_mean + self.user_bias(user).squeeze(-1) + self.item_bias(item).squeeze(-1)
        score = score + (u * v).sum(-1)
        if self.mlp is not None:
            score = score + self.mlp(torch.cat([u, v], dim=-1)).squeeze(-1)
        return score, u, v

    def forward(self, user: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
        return self.parts(user, item)[0]


# ----- training ----------------------------------------------------------------------------------------------
def rmse(pred: np.ndarray, target: np.ndarray) -> float:
    """Root mean squared error, accumulated in float64."""
    return float(np.sqrt(np.mean((pred.astype(np.float64) - target.astype(np.float64)) ** 2)))


def predict(
    model: MatrixFactorization, users: np.ndarray, items: np.ndarray, device: str, batch: int = 65536
) -> np.ndarray:
    """Eager predictions (eval mode, no grad) as a NumPy float32 array."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(users), batch):
            u = torch.tensor(users[start : start + batch], dtype=torch.int64, device=device)
            i = torch.tensor(items[start : start + batch], dtype=torch.int64, device=device)
            out.append(model(u, i).cpu().numpy())
    return np.concatenate(out).astype(np.float32)


def train_epoch(
    model: MatrixFactorization,
    opt: torch.optim.Optimizer,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    args: argparse.Namespace,
    rng: np.random.Generator,
    epoch: int,
) -> list[float]:
    """One pass over the training ratings in shuffled mini-batches; returns the per-batch MSE."""
    model.train()
    users, items, ratings = data
    order = torch.tensor(rng.permutation(len(ratings)), dtype=torch.int64, device=users.device)
    losses: list[float] = []
    bar = tqdm(range(0, len(ratings), args.batch_size), desc=f"epoch {epoch}", leave=False, file=sys.stderr)
    for start in bar:
        idx = order[start : start + args.batch_size]
        u, i, r = users[idx], items[idx], ratings[idx]
        pred, u_rows, i_rows = model.parts(u, i)
        mse = F.mse_loss(pred, r)
        penalty = (u_rows.pow(2).sum(-1) + i_rows.pow(2).sum(-1)).mean()
        loss = mse + args.l2 * penalty
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(mse.item()))
        if len(losses) % 20 == 0:
            bar.set_postfix(mse=f"{np.mean(losses[-20:]):.4f}", rmse=f"{np.sqrt(np.mean(losses[-20:])):.4f}")
    return losses


# ----- outputs -----------------------------------------------------------------------------------------------
def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` through a temporary sibling file and os.replace, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_path(path: Path) -> Path:
    """A temporary sibling of ``path`` (same directory, same suffix) to write and then os.replace."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    return Path(tmp)


def plot_rmse(history: dict[str, list[float]], path: Path, title: str) -> None:
    """Train and held-out RMSE per epoch (matplotlib imported lazily, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_rmse"]) + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, history["train_rmse"], marker="o", label="train")
    ax.plot(epochs, history["heldout_rmse"], marker="o", label="held-out")
    ax.set_xlabel("epoch")
    ax.set_ylabel("RMSE")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = atomic_path(path)
    try:
        fig.savefig(tmp, format="png", dpi=100)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        plt.close(fig)


def export_onnx(model: MatrixFactorization, path: Path, device: str) -> None:
    """ONNX with int64 ``user``/``item`` inputs and a dynamic batch axis on inputs and output."""
    model.eval()
    example = (
        torch.tensor([0, 1, 2], dtype=torch.int64, device=device),
        torch.tensor([0, 1, 2], dtype=torch.int64, device=device),
    )
    tmp = atomic_path(path)
    try:
        torch.onnx.export(
            model,
            example,
            str(tmp),
            input_names=["user", "item"],
            output_names=["rating"],
            dynamic_axes={"user": {0: "batch"}, "item": {0: "batch"}, "rating": {0: "batch"}},
        )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def recommend(runner: Any, data: MovieLens, user_index: int, k: int) -> list[dict]:
    """Top-``k`` movies the user has not rated, scored by ONNX Runtime in one batch over the catalogue."""
    rated = set(data.items[data.users == user_index].tolist())
    candidates = np.array([i for i in range(len(data.item_ids)) if i not in rated], dtype=np.int64)
    scores = np.asarray(runner(np.full(len(candidates), user_index, dtype=np.int64), candidates)).reshape(-1)
    top = np.argsort(-scores, kind="stable")[:k]
    return [
        {
            "movieId": data.item_ids[int(candidates[j])],
            "title": data.titles.get(data.item_ids[int(candidates[j])], "?"),
            "score": round(float(scores[j]), 3),
        }
        for j in top
    ]


# ----- main --------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    p.add_argument("--l2", type=float, default=0.1, help="L2 weight on the user/item rows a batch uses")
    p.add_argument("--dim", type=int, default=32, help="embedding size")
    p.add_argument("--mlp-hidden", type=int, default=0, help="hidden size of an NCF-style MLP (0: plain MF)")
    p.add_argument("--weight-decay", type=float, default=1e-2, help="Adam weight decay on the MLP")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout in the MLP (with --mlp-hidden)")
    p.add_argument("--heldout", type=float, default=0.1, help="fraction of ratings held out")
    p.add_argument("--user", type=int, default=None, help="raw userId for the top-10 query (default: the first)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MovieLens small folder (ratings.csv, movies.csv)")
    p.add_argument("--out", type=Path, default=Path("runs") / NAME)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smoke", action="store_true", help="tiny setting: 3000 ratings, 1 epoch, small model")
    args = p.parse_args(argv)
    if args.smoke:
        args.epochs, args.dim, args.batch_size, args.lr = 1, 8, 64, 2e-2
    for name in ("epochs", "batch_size", "dim"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if not 0.0 < args.heldout < 1.0:
        p.error(f"--heldout must be in (0, 1), got {args.heldout}")
    if not 0.0 <= args.dropout < 1.0:
        p.error(f"--dropout must be in [0, 1), got {args.dropout}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not all((args.data / name).is_file() for name in ("ratings.csv", "movies.csv")):
        print(
            f"error: MovieLens data not found at {args.data} (expected ratings.csv and movies.csv); "
            "pass --data DIR pointing at the ml-latest-small folder",
            file=sys.stderr,
        )
        return 2
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda asked for but CUDA (CuPy) is not usable here; use --device cpu", file=sys.stderr)
        return 2
    started = time.perf_counter()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = MovieLens(args.data, limit=3000 if args.smoke else None)
    raw_user = data.user_ids[0] if args.user is None else args.user
    if raw_user not in data.user_ids:
        known = f"{data.user_ids[0]}..{data.user_ids[-1]}"
        print(f"error: --user {raw_user} is not a userId in the ratings (ids run {known})", file=sys.stderr)
        return 2
    train_idx, held_idx = data.split(args.heldout, args.seed)
    global_mean = float(data.ratings[train_idx].mean())
    print(
        f"{len(data.ratings)} ratings, {len(data.user_ids)} users, {len(data.item_ids)} movies; "
        f"train {len(train_idx)}, held-out {len(held_idx)}; global mean {global_mean:.3f}"
    )

    model = MatrixFactorization(
        len(data.user_ids), len(data.item_ids), args.dim, global_mean, args.mlp_hidden, args.dropout
    ).to(args.device)
    groups = [{"params": [p for n, p in model.named_parameters() if not n.startswith("mlp.")]}]
    if model.mlp is not None:  # the tables get the per-batch L2 penalty; the MLP gets weight decay
        groups.append({"params": list(model.mlp.parameters()), "weight_decay": args.weight_decay})
    opt = torch.optim.Adam(groups, lr=args.lr)
    train_t = tuple(torch.tensor(a[train_idx], device=args.device) for a in (data.users, data.items, data.ratings))
    history: dict[str, list[float]] = {"train_rmse": [], "heldout_rmse": []}
    batch_losses: list[float] = []
    for epoch in range(1, args.epochs + 1):
        batch_losses += train_epoch(model, opt, train_t, args, rng, epoch)
        train_rmse = rmse(
            predict(model, data.users[train_idx], data.items[train_idx], args.device), data.ratings[train_idx]
        )
        held_rmse = rmse(
            predict(model, data.users[held_idx], data.items[held_idx], args.device), data.ratings[held_idx]
        )
        history["train_rmse"].append(train_rmse)
        history["heldout_rmse"].append(held_rmse)
        print(f"epoch {epoch:2d}: train RMSE {train_rmse:.4f}  held-out RMSE {held_rmse:.4f}")
    train_seconds = time.perf_counter() - started

    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out / "model.safetensors")
    mappings = {
        "user_ids": data.user_ids,
        "item_ids": data.item_ids,
        "note": "index i of user_ids / item_ids is the model's user / item index i (raw MovieLens userId / movieId)",
        "global_mean": global_mean,
        "config": {"dim": args.dim, "mlp_hidden": args.mlp_hidden, "dropout": args.dropout},
    }
    atomic_write_text(args.out / "id_mappings.json", json.dumps(mappings))
    kind = "biased MF" + (f" + MLP({args.mlp_hidden})" if args.mlp_hidden else "")
    plot_rmse(history, args.out / "rmse.png", f"MovieLens small, {kind}, dim {args.dim}: RMSE per epoch")

    onnx_path = args.out / "model.onnx"
    export_onnx(model, onnx_path, args.device)
    from portable_dl.export import Runner

    runner = Runner(onnx_path, device="cpu" if args.device == "cpu" else "auto")
    held_u, held_i, held_r = data.users[held_idx], data.items[held_idx], data.ratings[held_idx]
    eager_pred = predict(model, held_u, held_i, args.device)
    onnx_pred = np.asarray(runner(held_u.astype(np.int64), held_i.astype(np.int64))).reshape(-1)
    eager_rmse, onnx_rmse = rmse(eager_pred, held_r), rmse(onnx_pred, held_r)
    max_diff = float(np.max(np.abs(eager_pred - onnx_pred)))
    print(f"held-out RMSE: eager {eager_rmse:.5f}  ONNX Runtime {onnx_rmse:.5f}  max |diff| {max_diff:.2e}")

    top10 = recommend(runner, data, data.user_ids.index(raw_user), k=10)
    print(f"top-10 for userId {raw_user} (ONNX Runtime, movies the user has not rated):")
    for rank, row in enumerate(top10, 1):
        print(f"  {rank:2d}. {row['title']}  ({row['score']:.2f})")

    window = max(1, min(20, len(batch_losses) // 4))
    first_loss, last_loss = float(np.mean(batch_losses[:window])), float(np.mean(batch_losses[-window:]))
    summary = {
        "example": NAME,
        "epochs": args.epochs,
        "n_train": int(len(train_idx)),
        "n_heldout": int(len(held_idx)),
        "first_loss": first_loss,
        "last_loss": last_loss,
        "loss_decreased": last_loss < first_loss,
        "train_rmse": history["train_rmse"][-1],
        "heldout_rmse": history["heldout_rmse"][-1],
        "train_rmse_per_epoch": history["train_rmse"],
        "heldout_rmse_per_epoch": history["heldout_rmse"],
        "eager_heldout_rmse": eager_rmse,
        "onnx_heldout_rmse": onnx_rmse,
        "max_abs_diff": max_diff,
        "top10_user": raw_user,
        "top10": [row["title"] for row in top10],
        "train_seconds": round(train_seconds, 2),
        "total_seconds": round(time.perf_counter() - started, 2),
        "out": str(args.out),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
