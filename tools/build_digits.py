"""Build ``src/portable_dl/vision/data/digits.npz``: the quickstart's embedded digits, cut from the real MNIST test set.

The quickstart must run with no network and no data folder, so a slice of MNIST ships inside the package. This
script makes it, reproducibly, from the published IDX files: it checks their SHA-256, shuffles the 10,000 test
digits with a fixed seed, takes the first ``--test`` as the test split and the next ``--train`` as the training
split, and writes uint8 images and int64 labels with ``numpy.savez_compressed`` (no pickle; ``np.load`` reads it
with ``allow_pickle=False``).

Run: python tools/build_digits.py [--mnist DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from portable_dl.vision.datasets import read_idx

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = ROOT.parent / "shared" / "data" / "mnist"
DEFAULT_OUT = ROOT / "src" / "portable_dl" / "vision" / "data" / "digits.npz"
# SHA-256 of the source files, as listed in the data folder's README.md.
SOURCES = {
    "t10k-images-idx3-ubyte.gz": "167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b",
    "t10k-labels-idx1-ubyte.gz": "fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(mnist: Path, out: Path, n_train: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
    """Check the sources, split them and write ``out`` atomically; returns the arrays written."""
    for name, expected in SOURCES.items():
        path = mnist / name
        if not path.is_file():
            raise SystemExit(f"error: {path} not found; pass --mnist DIR (a folder holding {', '.join(SOURCES)})")
        if sha256(path) != expected:
            raise SystemExit(f"error: {path} has SHA-256 {sha256(path)}, expected {expected}")
    images = read_idx(mnist / "t10k-images-idx3-ubyte.gz").astype(np.uint8)
    labels = read_idx(mnist / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    if n_train + n_test > len(images):
        raise SystemExit(f"error: --train {n_train} + --test {n_test} exceeds the {len(images)} MNIST test digits")
    order = np.random.default_rng(seed).permutation(len(images))
    test, train = order[:n_test], order[n_test : n_test + n_train]
    arrays = {
        "train_images": images[train], "train_labels": labels[train],
        "test_images": images[test], "test_labels": labels[test],
        "source_index_train": train.astype(np.int64), "source_index_test": test.astype(np.int64),
    }  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)  # zip members get a fixed 1980 timestamp: same input, same bytes
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return arrays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST, help=f"MNIST IDX folder (default {DEFAULT_MNIST})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output .npz (default {DEFAULT_OUT})")
    parser.add_argument("--train", type=int, default=6000, help="training digits (default 6000)")
    parser.add_argument("--test", type=int, default=1000, help="test digits (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffle (default 0)")
    args = parser.parse_args(argv)
    if args.train < 1 or args.test < 1:
        parser.error(f"--train and --test must be >= 1, got {args.train} and {args.test}")
    arrays = build(args.mnist, args.out, args.train, args.test, args.seed)
    for split in ("train", "test"):
        counts = np.bincount(arrays[f"{split}_labels"], minlength=10).tolist()
        print(f"{split}: {len(arrays[f'{split}_labels'])} digits, per class {counts}")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes, SHA-256 {sha256(args.out)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
