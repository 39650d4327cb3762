"""Sentiment classification on SST-2 with a bidirectional LSTM, exported to ONNX and checked in ONNX Runtime.

Reads the GLUE SST-2 files as published (``train.tsv``: 67,349 labelled phrases, ``dev.tsv``: 872 sentences;
``sentence<TAB>label`` with a header), builds a vocabulary from the training phrases, trains
Embedding -> BiLSTM -> masked max pooling -> Linear, and reports dev accuracy. The vocabulary is saved as JSON
beside the checkpoint, so the ONNX model can be used without this script's Python objects.

Run:
    python examples/sst2_sentiment.py                       # default run: about a minute on 2 CPU cores
    python examples/sst2_sentiment.py --smoke               # seconds: 1,000 phrases, 1 epoch, tiny model
    python examples/sst2_sentiment.py --predict "a gorgeous, witty film"   # uses runs/sst2_sentiment/model.onnx
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Set before NumPy loads BLAS: the LSTM's per-step matrices are small, and one BLAS thread is faster than
# several (8x on a busy 2-core machine).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from tqdm import tqdm

import portable_dl as torch
import portable_dl.nn as nn
import portable_dl.nn.functional as F

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sst2"
PAD, UNK = "<pad>", "<unk>"
TOKEN_PATTERN = r"[\w']+"
LABELS = ("negative", "positive")


# ----- data: reading, tokenising, vocabulary, batching ------------------------------------------------------------
def read_tsv(path: Path) -> tuple[list[str], list[int]]:
    """Sentences and 0/1 labels of a GLUE SST-2 file (header ``sentence<TAB>label``)."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header != ["sentence", "label"]:
            raise ValueError(f"{path}: expected the header 'sentence<TAB>label', got {header!r}")
        sentences, labels = [], []
        for number, line in enumerate(f, start=2):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 2 or fields[1] not in ("0", "1"):
                raise ValueError(f"{path}:{number}: expected 'sentence<TAB>0|1', got {line.rstrip()!r}")
            sentences.append(fields[0])
            labels.append(int(fields[1]))
    return sentences, labels


def tokenize(text: str) -> list[str]:
    """Lowercase and split on anything but letters, digits and apostrophes (SST's "n't" and "'s" stay whole)."""
    return re.findall(TOKEN_PATTERN, text.lower())


def build_vocab(token_lists: list[list[str]], min_freq: int) -> list[str]:
    """Tokens seen at least ``min_freq`` times, most frequent first, after ``<pad>`` (id 0) and ``<unk>`` (id 1)."""
    counts = collections.Counter(token for tokens in token_lists for token in tokens)
    kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
    return [PAD, UNK, *kept]


def encode(tokens: list[str], index: dict[str, int]) -> list[int]:
    """Token ids; unknown words map to ``<unk>``, and an empty text to one ``<unk>`` so it has a valid position."""
    return [index.get(t, 1) for t in tokens] or [1]


def save_vocab(tokens: list[str], path: Path) -> None:
    """Write the vocabulary and the tokeniser rule as JSON (atomically), for use with the ONNX model."""
    payload = {"tokens": tokens, "pad_id": 0, "unk_id": 1, "lowercase": True, "token_pattern": TOKEN_PATTERN,
               "labels": list(LABELS)}  # fmt: skip
    atomic_write(path, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def load_vocab(path: Path) -> dict[str, int]:
    """Token -> id map from a ``vocab.json`` written by :func:`save_vocab`."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(payload, dict) or not isinstance(payload.get("tokens"), list):
        raise ValueError(f"{path}: expected a JSON object with a 'tokens' list (written by this script)")
    return {token: i for i, token in enumerate(payload["tokens"])}


def pad_batch(seqs: list[list[int]]) -> np.ndarray:
    """Right-pad id lists with 0 to the longest one: an int64 array (batch, seq)."""
    out = np.zeros((len(seqs), max(len(s) for s in seqs)), dtype=np.int64)
    for row, seq in enumerate(seqs):
        out[row, : len(seq)] = seq
    return out


def length_buckets(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Batches of indices of similar length (little padding); shuffled within and across lengths when ``rng``."""
    if rng is None:
        order = np.argsort(lengths, kind="stable")
    else:  # sort by length with random tie-breaking, then shuffle the batch order
        order = np.lexsort((rng.random(len(lengths)), lengths))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


# ----- model -----------------------------------------------------------------------------------------------------
class SentimentLSTM(nn.Module):
    """Embedding -> bidirectional LSTM -> max over valid tokens -> Linear.

    Input: token ids (batch, seq), right-padded with 0; the mask is ``ids != 0``, so the model has one input.
    The backward direction runs over each row reversed within its own length (what ``pack_padded_sequence``
    does in PyTorch), so padding never reaches a real token and a padded batch gives the same logits as the
    sentences one by one.
    """

    def __init__(self, vocab_size: int, embed_dim: int, hidden: int, num_classes: int = 2, dropout: float = 0.3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.forward_lstm = nn.LSTM(embed_dim, hidden, batch_first=True)
        self.backward_lstm = nn.LSTM(embed_dim, hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden, num_classes)

    def forward(self, ids: Any) -> Any:
        mask = ids != 0
        valid = mask.long()
        # position t of row i read backwards: length_i - 1 - t for real tokens, 0 (any index) for padding
        reverse_index = (valid.sum(1, keepdim=True) - valid.cumsum(1)).clamp(min=0)
        forward_out, _ = self.forward_lstm(self.dropout(self.embedding(ids)))
        backward_out, _ = self.backward_lstm(self.dropout(self.embedding(ids.gather(1, reverse_index))))
        # both outputs have the real tokens at positions < length; max pooling ignores their order.
        # LSTM outputs lie in (-1, 1): -2 at padded positions never wins, and keeps everything finite.
        features = torch.cat([forward_out, backward_out], -1).masked_fill(~mask.unsqueeze(-1), -2.0)
        return self.head(self.dropout(features.max(1).values))


# ----- training and evaluation ------------------------------------------------------------------------------------
def evaluate(model: nn.Module, data: list[list[int]], labels: np.ndarray, batch_size: int, device: str) -> tuple:
    """Accuracy and logits (in data order) of the eager model, batched by length."""
    model.eval()
    logits = np.zeros((len(data), 2), dtype=np.float32)
    with torch.no_grad():
        for idx in length_buckets(np.array([len(s) for s in data]), batch_size, None):
            ids = torch.tensor(pad_batch([data[i] for i in idx]), device=device)
            logits[idx] = model(ids).cpu().numpy()
    return float((logits.argmax(1) == labels).mean()), logits


def train_epoch(model: nn.Module, opt: Any, sched: Any, data: list[list[int]], labels: np.ndarray,
                args: argparse.Namespace, rng: np.random.Generator, epoch: int) -> tuple[list[float], float]:  # fmt: skip
    """One pass over the training phrases; returns the per-batch losses and the training accuracy."""
    model.train()
    losses, correct, seen = [], 0, 0
    batches = length_buckets(np.array([len(s) for s in data]), args.batch_size, rng)
    bar = tqdm(batches, desc=f"epoch {epoch}", leave=False, file=sys.stderr, mininterval=0.5)
    for idx in bar:
        ids = torch.tensor(pad_batch([data[i] for i in idx]), device=args.device)
        target = torch.tensor(labels[idx], device=args.device)
        opt.zero_grad()
        logits = model(ids)
        loss = F.cross_entropy(logits, target)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        losses.append(float(loss.item()))
        correct += int((logits.argmax(1) == target).sum().item())
        seen += len(idx)
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", acc=f"{correct / seen:.3f}")
    return losses, correct / seen


# ----- files: atomic writes, plots, ONNX ------------------------------------------------------------------------
def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def plot_curves(history: dict, batch_losses: list[float], path: Path) -> None:
    """Training loss (per batch, smoothed) and train/dev accuracy per epoch, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    window = max(1, min(50, len(batch_losses) // 10))
    smooth = np.convolve(batch_losses, np.ones(window) / window, mode="valid")
    ax_loss.plot(batch_losses, alpha=0.3, label="batch")
    ax_loss.plot(np.arange(len(smooth)) + window - 1, smooth, label=f"mean of {window}")
    ax_loss.set(xlabel="step", ylabel="cross-entropy", title="training loss")
    ax_loss.legend()
    epochs = np.arange(1, len(history["dev_acc"]) + 1)
    ax_acc.plot(epochs, history["train_acc"], "o-", label="train (phrases)")
    ax_acc.plot(epochs, history["dev_acc"], "o-", label="dev (sentences)")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", xticks=epochs)
    ax_acc.legend()
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


def export_onnx(model: nn.Module, path: Path, example: np.ndarray, device: str) -> None:
    """Export with dynamic batch and sequence axes (written to a temporary file, then renamed)."""
    model.eval()
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        torch.onnx.export(model, (torch.tensor(example, device=device),), str(tmp), input_names=["ids"],
                          output_names=["logits"], dynamic_axes={"ids": {0: "batch", 1: "seq"},
                                                                 "logits": {0: "batch"}})  # fmt: skip
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def onnx_logits(runner: Any, data: list[list[int]], batch_size: int) -> np.ndarray:
    """ONNX Runtime logits (in data order), fed in length buckets: batches of different sizes and lengths."""
    logits = np.zeros((len(data), 2), dtype=np.float32)
    for idx in length_buckets(np.array([len(s) for s in data]), batch_size, None):
        logits[idx] = runner(pad_batch([data[i] for i in idx]))
    return logits


def predict(texts: list[str], out: Path, device: str) -> int:
    """Classify ``texts`` with ``out/model.onnx`` and ``out/vocab.json`` (no training); prints one line each."""
    model_path, vocab_path = out / "model.onnx", out / "vocab.json"
    missing = [str(p) for p in (model_path, vocab_path) if not p.is_file()]
    if missing:
        print(f"error: {', '.join(missing)} not found; train first (without --predict) or pass --out DIR",
              file=sys.stderr)  # fmt: skip
        return 2
    from portable_dl.export import Runner

    index = load_vocab(vocab_path)
    runner = Runner(model_path, device=device)
    for text in texts:
        logits = runner(pad_batch([encode(tokenize(text), index)]))[0].astype(np.float64)
        probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        label = int(probs.argmax())
        print(f"{LABELS[label]} ({probs[label]:.3f})\t{text}")
    return 0


# ----- main ------------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with train.tsv and dev.tsv")
    p.add_argument("--out", type=Path, default=Path("runs") / "sst2_sentiment", help="checkpoint, ONNX, plots")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--embed-dim", type=int, default=64)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--dropout", type=float, default=0.3, help="on the embeddings and the pooled features")
    p.add_argument("--min-freq", type=int, default=2, help="keep training tokens seen at least this often")
    p.add_argument("--max-train", type=int, default=0, help="use at most this many training phrases (0: all)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smoke", action="store_true", help="tiny run in seconds: 1000 phrases, 1 epoch, small model")
    p.add_argument(
        "--predict",
        action="append",
        metavar="TEXT",
        help="classify TEXT with OUT/model.onnx and OUT/vocab.json instead of training (repeatable)",
    )
    args = p.parse_args(argv)
    if args.smoke:
        args.epochs, args.embed_dim, args.hidden, args.min_freq, args.max_train = 1, 16, 16, 1, 1000
        args.batch_size, args.lr, args.dropout = 16, 3e-2, 0.0
    for name in ("epochs", "batch_size", "embed_dim", "hidden", "min_freq"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.lr <= 0 or args.max_train < 0 or not 0 <= args.dropout < 1:
        p.error(f"--lr must be > 0, --max-train >= 0 and 0 <= --dropout < 1; got {args.lr}, {args.max_train}, "
                f"{args.dropout}")  # fmt: skip
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.predict:
        return predict(args.predict, args.out, args.device)
    files = [args.data / "train.tsv", args.data / "dev.tsv"]
    if not all(f.is_file() for f in files):
        print(f"error: SST-2 not found: expected train.tsv and dev.tsv in {args.data}; pass --data DIR "
              "(the GLUE SST-2 folder)", file=sys.stderr)  # fmt: skip
        return 2
    start = time.perf_counter()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    train_text, train_y = read_tsv(files[0])
    dev_text, dev_y = read_tsv(files[1])
    train_tokens = [tokenize(s) for s in train_text]
    keep = [i for i, t in enumerate(train_tokens) if t]  # a few phrases are punctuation only
    if args.max_train:
        keep = sorted(rng.choice(keep, size=min(args.max_train, len(keep)), replace=False).tolist())
    if args.smoke:
        dev_text, dev_y = dev_text[:200], dev_y[:200]
    vocab = build_vocab([train_tokens[i] for i in keep], args.min_freq)
    index = {t: i for i, t in enumerate(vocab)}
    train_ids = [encode(train_tokens[i], index) for i in keep]
    train_labels = np.array([train_y[i] for i in keep], dtype=np.int64)
    dev_ids = [encode(tokenize(s), index) for s in dev_text]
    dev_labels = np.array(dev_y, dtype=np.int64)
    print(f"train phrases {len(train_ids)}, dev sentences {len(dev_ids)}, vocabulary {len(vocab)}", file=sys.stderr)

    model = SentimentLSTM(len(vocab), args.embed_dim, args.hidden, dropout=args.dropout).to(args.device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * math.ceil(len(train_ids) / args.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)  # decay to 0: less overfitting late on
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": [], "dev_acc": []}
    batch_losses: list[float] = []
    for epoch in range(1, args.epochs + 1):
        losses, train_acc = train_epoch(model, opt, sched, train_ids, train_labels, args, rng, epoch)
        dev_acc, _ = evaluate(model, dev_ids, dev_labels, 256, args.device)
        batch_losses += losses
        history["train_loss"].append(float(np.mean(losses)))
        history["train_acc"].append(train_acc)
        history["dev_acc"].append(dev_acc)
        print(f"epoch {epoch}: train loss {np.mean(losses):.4f} acc {train_acc:.4f} | dev acc {dev_acc:.4f} "
              f"| {time.perf_counter() - start:.0f} s", file=sys.stderr)  # fmt: skip
    train_seconds = time.perf_counter() - start

    args.out.mkdir(parents=True, exist_ok=True)
    tmp_ckpt = args.out / ".model.safetensors.tmp"
    torch.save(model.state_dict(), str(tmp_ckpt))
    os.replace(tmp_ckpt, args.out / "model.safetensors")
    save_vocab(vocab, args.out / "vocab.json")
    plot_curves(history, batch_losses, args.out / "curves.png")

    from portable_dl.export import Runner

    onnx_path = args.out / "model.onnx"
    export_onnx(model, onnx_path, pad_batch(dev_ids[:2]), args.device)
    eager_acc, eager = evaluate(model, dev_ids, dev_labels, 64, args.device)
    runner = Runner(onnx_path, device="cuda" if args.device == "cuda" else "cpu")
    onnx = onnx_logits(runner, dev_ids, 64)
    onnx_acc = float((onnx.argmax(1) == dev_labels).mean())
    max_diff = float(np.abs(onnx - eager).max())
    print(f"dev accuracy: eager {eager_acc:.4f}, ONNX Runtime {onnx_acc:.4f}; max |logit diff| {max_diff:.2e}")
    print(f"wrote {args.out}/model.safetensors, vocab.json, model.onnx, curves.png")
    window = max(1, min(20, len(batch_losses) // 4))
    summary = {
        "example": "sst2_sentiment",
        "train_phrases": len(train_ids),
        "vocab_size": len(vocab),
        "epochs": args.epochs,
        "train_loss": history["train_loss"],
        "loss_first_window": float(np.mean(batch_losses[:window])),
        "loss_last_window": float(np.mean(batch_losses[-window:])),
        "dev_acc": history["dev_acc"],
        "eager_acc": eager_acc,
        "onnx_acc": onnx_acc,
        "max_abs_diff": max_diff,
        "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.perf_counter() - start, 1),
        "onnx": str(onnx_path),
    }
    if not all(math.isfinite(v) for v in (summary["loss_last_window"], max_diff)):
        print("error: training or export produced non-finite values", file=sys.stderr)
        print(json.dumps(summary))
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
