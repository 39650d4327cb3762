"""Eight classic architectures written once against a torch-shaped library, so torch and portable_dl build twins.

``build(lib, name)`` returns ``(model, spec)``: the model made with ``lib.nn`` and a ``Spec`` saying how to make
its inputs and which axes are dynamic. Weights are copied from torch to portable_dl by the caller (state_dict).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

VOCAB = 1000


@dataclass(frozen=True)
class Spec:
    """How to feed one model: input names, per-input (shape with -1 for batch, -2 for sequence), dtype, output."""

    inputs: tuple[tuple[str, tuple[int, ...], str], ...]
    output: str = "logits"
    text: bool = False

    def arrays(self, batch: int, seq: int, seed: int) -> dict[str, np.ndarray]:
        """Random inputs of the given batch/sequence length (tokens in the vocabulary, a left-aligned padding mask)."""
        rng = np.random.default_rng(seed)
        out: dict[str, np.ndarray] = {}
        for name, shape, dtype in self.inputs:
            dims = tuple(batch if d == -1 else seq if d == -2 else d for d in shape)
            if dtype == "int64":
                out[name] = rng.integers(0, VOCAB, dims).astype(np.int64)
            elif dtype == "bool":  # True = padding; every row keeps at least its first half unpadded
                lengths = rng.integers(max(1, seq // 2), seq + 1, batch)
                out[name] = np.arange(seq)[None, :] >= lengths[:, None]
            else:
                out[name] = rng.standard_normal(dims).astype(np.float32)
        return out

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        axes: dict[str, dict[int, str]] = {}
        for name, shape, _ in self.inputs:
            axes[name] = {i: ("batch" if d == -1 else "seq") for i, d in enumerate(shape) if d in (-1, -2)}
        axes[self.output] = {0: "batch"}
        return axes


MODELS = ("mlp", "cnn", "cnn_bn_dropout", "resnet_small", "lstm", "gru", "transformer", "dcgan_generator")


def build(lib: Any, name: str) -> tuple[Any, Spec]:
    """The model ``name`` (one of ``MODELS``) built from ``lib.nn``, and its input spec."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid: {', '.join(MODELS)}")
    return globals()[f"_{name}"](lib)


def _mlp(lib: Any) -> tuple[Any, Spec]:
    nn = lib.nn
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    return net, Spec((("input", (-1, 784), "float32"),))


def _cnn(lib: Any) -> tuple[Any, Spec]:
    nn = lib.nn
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10),
    )  # fmt: skip
    return net, Spec((("input", (-1, 1, 28, 28), "float32"),))


def _cnn_bn_dropout(lib: Any) -> tuple[Any, Spec]:
    nn = lib.nn
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10),
    )  # fmt: skip
    return net, Spec((("input", (-1, 1, 28, 28), "float32"),))


def _resnet_small(lib: Any) -> tuple[Any, Spec]:
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
                )

        def forward(self, x: Any) -> Any:
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    net = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        BasicBlock(16, 16, 1), BasicBlock(16, 32, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10),
    )  # fmt: skip
    return net, Spec((("input", (-1, 3, 32, 32), "float32"),))


def _recurrent(lib: Any, cell: str) -> tuple[Any, Spec]:
    nn = lib.nn

    class RecurrentClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, 64)
            self.rnn = getattr(nn, cell)(64, 128, batch_first=True)
            self.head = nn.Linear(128, 2)

        def forward(self, tokens: Any) -> Any:
            out, _ = self.rnn(self.embedding(tokens))
            return self.head(out[:, -1])

    return RecurrentClassifier(), Spec((("tokens", (-1, -2), "int64"),), text=True)


def _lstm(lib: Any) -> tuple[Any, Spec]:
    return _recurrent(lib, "LSTM")


def _gru(lib: Any) -> tuple[Any, Spec]:
    return _recurrent(lib, "GRU")


def _transformer(lib: Any) -> tuple[Any, Spec]:
    nn = lib.nn

    class TransformerClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, 64)
            layer = nn.TransformerEncoderLayer(64, 4, dim_feedforward=128, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.head = nn.Linear(64, 2)

        def forward(self, tokens: Any, padding_mask: Any) -> Any:
            hidden = self.encoder(self.embedding(tokens), src_key_padding_mask=padding_mask)
            return self.head(hidden[:, 0])

    spec = Spec((("tokens", (-1, -2), "int64"), ("padding_mask", (-1, -2), "bool")), text=True)
    return TransformerClassifier(), spec


def _dcgan_generator(lib: Any) -> tuple[Any, Spec]:
    nn = lib.nn
    net = nn.Sequential(
        nn.ConvTranspose2d(100, 128, 4, 1, 0, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, 2, 1, bias=False), nn.Tanh(),
    )  # fmt: skip
    return net, Spec((("latent", (-1, 100, 1, 1), "float32"),), output="image")
