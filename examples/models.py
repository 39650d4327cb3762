"""Model factories for the examples and for ``portable-dl export examples/models.py:<factory>``."""

from __future__ import annotations

import portable_dl.nn as nn


def mnist_cnn() -> nn.Module:
    """PyTorch's MNIST example network (1x28x28 digits -> 10 logits)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10),
    )  # fmt: skip
