"""Quickstart: train a small CNN on real handwritten digits, save it, export it to ONNX and run it in ONNX Runtime.

Needs no network and no data folder: 7,000 MNIST digits ship inside portable_dl (6,000 to train on, 1,000 to test
on; see ``portable_dl/vision/data/README.md``). In under a minute on two CPU cores it

1. trains the CNN below with Adam and a cosine learning-rate decay (a progress bar shows loss and accuracy),
2. evaluates it on the test digits,
3. saves the weights to ``model.safetensors`` and loads them back into a fresh model,
4. exports that model to ``model.onnx`` (any batch size) and runs the test digits through ONNX Runtime,
5. prints eager vs ONNX Runtime accuracy and their largest difference, and draws ``quickstart.png``
   (training curves, and test digits with their predicted labels: green right, red wrong).

The last line printed is a JSON summary. Run:

    python examples/quickstart.py                        # embedded digits, results in runs/quickstart/
    python examples/quickstart.py --data DIR --epochs 3  # the full MNIST IDX files in DIR instead
"""

from __future__ import annotations

import os

# One BLAS thread: this network's matrices are small, so extra threads add no speed, and their busy-waiting makes
# a run many times slower when other programs share the cores. Set OPENBLAS_NUM_THREADS yourself to override.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import sys
import time
from pathlib import Path
from typing import NoReturn

import numpy as np
from tqdm import tqdm

import portable_dl as torch
import portable_dl.nn as nn
import portable_dl.nn.functional as F
from portable_dl.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    """Two conv + max-pool blocks (28 -> 14 -> 7) and a two-layer classifier: 1 x 28 x 28 pixels -> 10 logits."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6, help="passes over the training digits (default 6)")
    parser.add_argument("--batch-size", type=int, default=64, help="digits per training step (default 64)")
    parser.add_argument(
        "--lr", type=float, default=2e-3, help="initial Adam learning rate, decayed with a cosine (default 2e-3)"
    )
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where to train (default cpu)")
    data_help = ("a folder with MNIST IDX files (train-*/t10k-*-idx*-ubyte[.gz]) to use instead of the embedded "
                 "digits; with only the t10k files it trains on 80%% and tests on 20%%")  # fmt: skip
    parser.add_argument("--data", type=Path, default=None, help=data_help)
    parser.add_argument("--out", type=Path, default=Path("runs") / "quickstart", help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights and the shuffling")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.lr <= 0:
        parser.error(f"--lr must be > 0, got {args.lr}")
    return args


def load_data(data: Path | None, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """``(train images, train labels, test images, test labels, description)``, images uint8 N x 28 x 28."""
    if data is None:
        from portable_dl.vision.digits import load_digits

        return *load_digits("train"), *load_digits("test"), "embedded MNIST digits"
    from portable_dl.vision.datasets import MNIST

    if not data.is_dir():
        fail(f"--data {data} is not a folder; pass --data DIR with the MNIST IDX files, or leave it out")
    try:
        test = MNIST(data, train=False)
    except (RuntimeError, ValueError) as error:
        fail(f"--data {data}: {error}")
    try:
        train = MNIST(data, train=True)
    except ValueError as error:
        fail(f"--data {data}: {error}")
    except RuntimeError:  # only the test files: split them 80/20 with a seeded shuffle
        order = np.random.default_rng(seed).permutation(len(test))
        cut = len(order) * 8 // 10
        images, labels = test.data.numpy(), test.targets.numpy()
        return (
            images[order[:cut]],
            labels[order[:cut]],
            images[order[cut:]],
            labels[order[cut:]],
            f"{data} (t10k 80/20)",
        )
    return train.data.numpy(), train.targets.numpy(), test.data.numpy(), test.targets.numpy(), str(data)


def fail(message: str) -> NoReturn:
    """Print ``message`` to stderr and exit with status 2 (bad usage or missing data)."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def to_tensors(images: np.ndarray, labels: np.ndarray, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 N x 28 x 28 -> float N x 1 x 28 x 28 in [0, 1], and int64 labels."""
    x = torch.from_numpy(images[:, None].astype(np.float32) / 255.0)
    return x.to(device), torch.from_numpy(labels.astype(np.int64)).to(device)


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    """Logits of every row of ``x`` as a NumPy array (eval mode, no autograd)."""
    model.eval()
    with torch.no_grad():
        return np.concatenate([model(x[i : i + batch_size]).cpu().numpy() for i in range(0, len(x), batch_size)])


def replace_atomically(path: Path, write: object) -> None:
    """Call ``write(temporary path)`` beside ``path``, then rename it over ``path``: never a half-written file."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(str(tmp))  # type: ignore[operator]
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def plot(history: dict[str, list], images: np.ndarray, labels: np.ndarray, preds: np.ndarray, path: Path) -> None:
    """Loss and accuracy curves on the left, a grid of test digits with predicted labels on the right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(13, 6))
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 1.25], wspace=0.15)
    ax_loss, ax_acc = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0])
    ax_loss.plot(history["step_epoch"], history["step_loss"], alpha=0.6, label="train (last 10 steps)")
    ax_loss.plot(history["epoch"], history["test_loss"], "o-", label="test")
    ax_loss.set(ylabel="cross-entropy loss", yscale="log", title="training curves")
    ax_acc.plot(history["step_epoch"], history["step_acc"], alpha=0.6, label="train (last 10 steps)")
    ax_acc.plot(history["epoch"], history["test_acc"], "o-", label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(max(0.0, min(history["step_acc"]) - 0.02), 1.0))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(loc="best")

    rows, cols = 6, 8
    wrong = np.flatnonzero(preds != labels)
    shown = list(range(rows * cols - min(len(wrong), cols)))  # the first test digits, then a row of mistakes
    shown += [int(i) for i in wrong if i not in shown][: rows * cols - len(shown)]
    cells = grid[:, 1].subgridspec(rows, cols, hspace=0.5, wspace=0.1)
    for k, i in enumerate(shown):
        ax = fig.add_subplot(cells[k // cols, k % cols])
        ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=255)
        right = preds[i] == labels[i]
        ax.set_title(f"{preds[i]}" if right else f"{preds[i]} (is {labels[i]})", fontsize=9,
                     color="green" if right else "red", fontweight="bold")  # fmt: skip
        ax.set_xticks([])
        ax.set_yticks([])
    note = f"{len(wrong)} of {len(labels)} wrong" + (", the last row shows some of them" if len(wrong) else "")
    fig.text(0.74, 0.93, f"test digits with predicted labels: green right, red wrong\n{note}", ha="center", fontsize=11)
    replace_atomically(path, lambda tmp: fig.savefig(tmp, dpi=90, bbox_inches="tight"))
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    if args.device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda needs CuPy and a visible GPU (pip install -e '.[gpu]'); use --device cpu")
    train_images, train_labels, test_images, test_labels, source = load_data(args.data, args.seed)
    print(f"data: {source}: {len(train_labels)} training and {len(test_labels)} test digits")
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)  # the initial weights and the DataLoader's shuffling
    x_train, y_train = to_tensors(train_images, train_labels, args.device)
    x_test, _ = to_tensors(test_images, test_labels, args.device)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True)

    # 1. Train, with a progress bar per epoch; every 10 steps and every epoch go into the curves.
    model = Net().to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * len(loader))
    history: dict[str, list] = {
        k: [] for k in ("step_epoch", "step_loss", "step_acc", "epoch", "test_loss", "test_acc")
    }
    for epoch in range(1, args.epochs + 1):
        model.train()
        window_loss, window_correct, window_seen = [], 0, 0
        bar = tqdm(total=len(loader), desc=f"epoch {epoch}/{args.epochs}", unit="step")
        for step, (x, y) in enumerate(loader, start=1):
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()
            scheduler.step()  # the learning rate decays smoothly to 0 over the run
            window_loss.append(loss.item())
            window_correct += int((logits.argmax(1) == y).sum().item())
            window_seen += len(y)
            if step % 10 == 0 or step == len(loader):
                history["step_epoch"].append(epoch - 1 + step / len(loader))
                history["step_loss"].append(float(np.mean(window_loss)))
                history["step_acc"].append(window_correct / window_seen)
                bar.set_postfix(loss=f"{history['step_loss'][-1]:.4f}", acc=f"{history['step_acc'][-1]:.3f}",
                                refresh=False)  # fmt: skip
                window_loss, window_correct, window_seen = [], 0, 0
            bar.update()
        # 2. Evaluate on the test digits after every epoch; the bar keeps the result on its line.
        test_logits = predict(model, x_test)
        history["epoch"].append(epoch)
        history["test_loss"].append(
            F.cross_entropy(torch.from_numpy(test_logits), torch.from_numpy(test_labels)).item()
        )
        history["test_acc"].append(float((test_logits.argmax(1) == test_labels).mean()))
        bar.set_postfix(loss=f"{history['step_loss'][-1]:.4f}", acc=f"{history['step_acc'][-1]:.3f}",
                        test_acc=f"{history['test_acc'][-1]:.3f}")  # fmt: skip
        bar.close()
    eager_logits = predict(model, x_test)
    eager_acc = float((eager_logits.argmax(1) == test_labels).mean())

    # 3. Save the weights (safetensors, no pickle) and load them into a fresh model, as a deployment would.
    checkpoint = args.out / "model.safetensors"
    replace_atomically(checkpoint, lambda tmp: torch.save(model.state_dict(), tmp))
    restored = Net()
    restored.load_state_dict(torch.load(checkpoint))
    restored.eval()

    # 4. Export to ONNX with a dynamic batch axis and run the test digits through ONNX Runtime.
    from portable_dl.export import Runner

    onnx_path = args.out / "model.onnx"
    replace_atomically(onnx_path, lambda tmp: torch.onnx.export(
        restored, (torch.zeros(1, 1, 28, 28),), tmp, input_names=["image"], output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}))  # fmt: skip
    runner = Runner(str(onnx_path), device="auto" if args.device == "cuda" else "cpu")  # auto: CUDA if ORT has it
    onnx_logits = runner(x_test.cpu().numpy())
    onnx_acc = float((onnx_logits.argmax(1) == test_labels).mean())
    max_diff = float(np.abs(onnx_logits - eager_logits).max())

    # 5. Report and draw.
    png = args.out / "quickstart.png"
    eager_preds = eager_logits.argmax(1)
    plot(history, test_images, test_labels, eager_preds, png)
    seconds = time.perf_counter() - start
    print(f"test accuracy: eager portable_dl {eager_acc:.4f} | ONNX Runtime {onnx_acc:.4f} | "
          f"max |eager - ONNX| over all logits {max_diff:.2e}")  # fmt: skip
    print(f"wrote {checkpoint}, {onnx_path} and {png} in {seconds:.1f} s")
    summary = {
        "example": "quickstart", "data": source, "device": args.device, "epochs": args.epochs,
        "train_size": len(train_labels), "test_size": len(test_labels),
        "train_loss_first": history["step_loss"][0], "train_loss_last": history["step_loss"][-1],
        "test_acc_per_epoch": history["test_acc"], "eager_acc": eager_acc, "onnx_acc": onnx_acc,
        "max_abs_diff": max_diff, "prediction_agreement": float((onnx_logits.argmax(1) == eager_preds).mean()),
        "checkpoint": str(checkpoint), "onnx": str(onnx_path), "png": str(png), "seconds": round(seconds, 1),
    }  # fmt: skip
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
