"""End to end: a PyTorch-style script (``import portable_dl as torch``) trains a small CNN on real MNIST digits.

Covers nn.Module subclassing, Conv2d/ReLU/MaxPool2d/Flatten/Linear, TensorDataset + shuffled DataLoader with a
seeded generator, Adam, F.cross_entropy, and a save/load checkpoint round trip that resumes training exactly.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import portable_dl as torch
import portable_dl.nn.functional as F
from portable_dl import nn
from portable_dl.utils.data import DataLoader, TensorDataset

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
IMAGES = MNIST / "t10k-images-idx3-ubyte.gz"
LABELS = MNIST / "t10k-labels-idx1-ubyte.gz"

N_TRAIN, N_TEST, BATCH = 6000, 500, 32


def read_idx(path: Path) -> np.ndarray:
    """Parse a gzip IDX file (big-endian header: magic with dtype code and rank, then one size per dim)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 0x08, "expected unsigned-byte IDX data"
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


@pytest.fixture(scope="module")
def mnist():
    if not (IMAGES.exists() and LABELS.exists()):
        pytest.skip(f"MNIST IDX files not found under {MNIST}")
    images, labels = read_idx(IMAGES), read_idx(LABELS)
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    x = ((images.astype(np.float32) / 255.0 - 0.1307) / 0.3081)[:, None]
    y = labels.astype(np.int64)
    train = TensorDataset(torch.tensor(x[:N_TRAIN]), torch.tensor(y[:N_TRAIN]))
    test_x, test_y = torch.tensor(x[-N_TEST:]), torch.tensor(y[-N_TEST:])
    return train, test_x, test_y


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.features(x)))


def train_epoch(model, opt, dataset, epoch: int) -> float:
    # Re-seed per epoch so a resumed run sees exactly the data order of the uninterrupted one.
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, generator=torch.manual_seed(1000 + epoch))
    model.train()
    total = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item()
    return total / len(loader)


def accuracy(model, x, y) -> float:
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(dim=1)
    return float((pred == y).float().mean().item())


def test_mnist_cnn_trains_and_checkpoint_resumes_exactly(mnist, tmp_path):
    train, test_x, test_y = mnist
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)

    loss1 = train_epoch(model, opt, train, epoch=1)
    ckpt = tmp_path / "ckpt.pt"
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1}, ckpt)

    torch.manual_seed(123)  # a different init: everything must come from the checkpoint
    restored = Net()
    restored_opt = torch.optim.Adam(restored.parameters(), lr=5e-3)
    state = torch.load(ckpt)
    restored.load_state_dict(state["model"])
    restored_opt.load_state_dict(state["optimizer"])
    assert state["epoch"] == 1

    loss2 = train_epoch(model, opt, train, epoch=2)
    restored_loss2 = train_epoch(restored, restored_opt, train, epoch=state["epoch"] + 1)
    assert loss2 < loss1
    assert restored_loss2 == loss2

    ours, theirs = model.state_dict(), restored.state_dict()
    assert list(ours) == list(theirs)
    for name in ours:
        np.testing.assert_array_equal(theirs[name].numpy(), ours[name].numpy(), err_msg=name)

    acc = accuracy(model, test_x, test_y)
    assert acc > 0.85, f"held-out accuracy {acc:.3f}"  # init seeds 0-5 reach 0.916-0.944
    assert accuracy(restored, test_x, test_y) == acc
