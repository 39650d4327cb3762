"""A small CNN written against the functional API trains identically in PyTorch and portable_dl."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import portable_dl as pdl
import portable_dl.nn.functional as F

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def _digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first n MNIST test digits (from ../shared/data), or skip when the data set is absent."""
    images, labels = MNIST / "t10k-images-idx3-ubyte.gz", MNIST / "t10k-labels-idx1-ubyte.gz"
    if not images.exists() or not labels.exists():
        pytest.skip(f"MNIST test set not found under {MNIST}")
    with gzip.open(images) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n]
    with gzip.open(labels) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:n]
    return (x.astype(np.float32) / 255.0 - 0.1307) / 0.3081, y.astype(np.int64)


def _weights(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)

    def uniform(shape: tuple, fan_in: int) -> np.ndarray:
        return rng.uniform(-1 / np.sqrt(fan_in), 1 / np.sqrt(fan_in), shape).astype(np.float32)

    return [uniform((8, 1, 3, 3), 9), uniform((8,), 9), uniform((16, 8, 3, 3), 72), uniform((16,), 72),
            uniform((10, 16 * 5 * 5), 400), uniform((10,), 400)]  # fmt: skip


def _forward(functional: object, p: list, x: object) -> object:
    h = functional.max_pool2d(functional.relu(functional.conv2d(x, p[0], p[1])), 2)
    h = functional.max_pool2d(functional.relu(functional.conv2d(h, p[2], p[3])), 2)
    return functional.linear(h.flatten(1), p[4], p[5])


def test_cnn_on_mnist_digits_matches_torch() -> None:
    x, y = _digits(64)
    weights = _weights(0)
    results = {}
    for name, lib, functional in (("torch", torch, TF), ("pdl", pdl, F)):
        params = [lib.tensor(w.copy(), requires_grad=True) for w in weights]
        losses = []
        for step in range(4):
            xb, yb = lib.tensor(x[step * 16 : (step + 1) * 16]), lib.tensor(y[step * 16 : (step + 1) * 16])
            loss = functional.cross_entropy(_forward(functional, params, xb), yb)
            loss.backward()
            with lib.no_grad():
                for p in params:
                    p -= 0.1 * p.grad
                    p.grad = None
            losses.append(loss.item())
        results[name] = (losses, [p.detach().numpy() for p in params])
    np.testing.assert_allclose(results["pdl"][0], results["torch"][0], rtol=1e-4)
    for ours, theirs in zip(results["pdl"][1], results["torch"][1]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-5)
