"""Image recognition: a small CNN with BatchNorm on MNIST digits, trained, checkpointed and exported to ONNX.

The shared data holds MNIST's 10,000 test digits only, so they are split 8,000 / 2,000 (seeded) into training and
held-out sets. The script trains with Adam and a one-cycle learning rate, saves ``model.safetensors``, exports
``model.onnx`` with a dynamic batch axis, runs the held-out set through ONNX Runtime (``portable_dl.export.Runner``)
and compares it with eager portable_dl. It writes ``curves.png`` (loss and accuracy per epoch) and
``misclassified.png`` (held-out digits the model gets wrong, with labels), and ends with a one-line JSON summary.

Run: python examples/mnist_classifier.py            (default: 6 epochs, ~1.5 min on 2 CPU cores, ~98.7% held out)
     python examples/mnist_classifier.py --smoke    (seconds: 800 digits, 1 epoch, a narrower network)
On a machine busy with other jobs, ``OPENBLAS_NUM_THREADS=1`` avoids BLAS threads waiting on each other (the
convolution backward passes were 10x slower with 2 BLAS threads on 2 oversubscribed cores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import portable_dl as torch
import portable_dl.nn.functional as F
from portable_dl import nn
from portable_dl.utils.data import DataLoader, Subset, random_split
from portable_dl.vision import transforms
from portable_dl.vision.datasets import MNIST

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
MEAN, STD = 0.1307, 0.3081


class Net(nn.Module):
    """Three conv blocks (conv 3x3 + BatchNorm + ReLU + 2x2 max pool: 28 -> 14 -> 7 -> 3), then a linear classifier."""

    def __init__(self, width: int = 16, num_classes: int = 10) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = [1, width, 2 * width, 4 * width]
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                       nn.MaxPool2d(2)]  # fmt: skip
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(4 * width * 3 * 3, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(torch.flatten(self.features(x), 1)))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule")
    parser.add_argument("--width", type=int, default=16, help="channels of the first conv block (doubled per block)")
    parser.add_argument("--augment", action="store_true", help="random rotations of up to 10 degrees while training")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the MNIST t10k IDX files")
    parser.add_argument("--out", type=Path, default=Path("runs") / "mnist_classifier")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="tiny run: 800 digits, 1 epoch, width 4, batch 32")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "width"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.lr <= 0:
        parser.error(f"--lr must be > 0, got {args.lr}")
    if args.smoke:
        args.epochs, args.width, args.batch_size = 1, 4, 32
    return args


def load_data(args: argparse.Namespace) -> tuple[Subset, Subset]:
    """The MNIST test set as published (gzip IDX), split 80/20 with a seeded generator."""
    if not (args.data / "t10k-images-idx3-ubyte.gz").is_file() and not (args.data / "t10k-images-idx3-ubyte").is_file():
        print(f"error: MNIST files not found in {args.data}; pass --data DIR (a folder with t10k-*-idx*-ubyte.gz)",
              file=sys.stderr)  # fmt: skip
        sys.exit(2)
    normalize = [transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))]
    plain = MNIST(args.data, train=False, transform=transforms.Compose(normalize))
    train_tf = [transforms.RandomRotation(10)] if args.augment else []
    augmented = MNIST(args.data, train=False, transform=transforms.Compose(train_tf + normalize))
    split = random_split(range(len(plain)), [0.8, 0.2], generator=np.random.default_rng(args.seed))
    train_idx, test_idx = list(split[0]), list(split[1])
    if args.smoke:
        train_idx, test_idx = train_idx[:640], test_idx[:160]
    return Subset(augmented, train_idx), Subset(plain, test_idx)


def evaluate(model: nn.Module, loader: DataLoader, device: str) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Mean loss, accuracy, and the logits and labels of every sample (in loader order)."""
    model.eval()
    logits, labels = [], []
    with torch.no_grad():
        for x, y in loader:
            logits.append(model(x.to(device)).cpu().numpy())
            labels.append(y.numpy())
    all_logits, all_labels = np.concatenate(logits), np.concatenate(labels)
    loss = F.cross_entropy(torch.tensor(all_logits), torch.tensor(all_labels)).item()
    return loss, float((all_logits.argmax(1) == all_labels).mean()), all_logits, all_labels


def atomic_target(path: Path) -> Path:
    """A temporary path beside ``path`` (same suffix) to write first and ``os.replace`` afterwards."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    return Path(tmp)


def plot(history: dict[str, list[float]], images: np.ndarray, labels: np.ndarray, preds: np.ndarray,
         out: Path) -> None:  # fmt: skip
    """``curves.png``: loss and accuracy per epoch; ``misclassified.png``: up to 32 wrong held-out digits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history["train_loss"], "o-", label="train")
    ax_loss.plot(epochs, history["test_loss"], "o-", label="held out")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.plot(epochs, history["train_acc"], "o-", label="train")
    ax_acc.plot(epochs, history["test_acc"], "o-", label="held out")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    _save(fig, out / "curves.png")

    wrong = np.flatnonzero(preds != labels)[:32]
    cols = 8
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.45), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(images[i, 0] * STD + MEAN, cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{labels[i]} -> {preds[i]}", fontsize=9, color="crimson")
    fig.suptitle(
        f"misclassified held-out digits (label -> prediction): {int((preds != labels).sum())} of {len(labels)}"
    )
    fig.tight_layout()
    _save(fig, out / "misclassified.png")
    plt.close("all")


def _save(fig: object, path: Path) -> None:
    tmp = atomic_target(path)
    try:
        fig.savefig(tmp, dpi=100)  # type: ignore[attr-defined]
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def export_and_compare(model: nn.Module, loader: DataLoader, eager_logits: np.ndarray, labels: np.ndarray,
                       out: Path) -> dict[str, float]:  # fmt: skip
    """Export to ONNX (dynamic batch), run the held-out set in ONNX Runtime, compare with the eager logits."""
    from portable_dl.export import Runner

    model.eval().cpu()
    onnx_path = out / "model.onnx"
    tmp = atomic_target(onnx_path)
    try:
        torch.onnx.export(model, (torch.zeros(1, 1, 28, 28),), str(tmp), input_names=["image"],
                          output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})  # fmt: skip
        os.replace(tmp, onnx_path)
    finally:
        tmp.unlink(missing_ok=True)
    runner = Runner(str(onnx_path), device="cpu")
    onnx_logits = np.concatenate([runner(x.numpy()) for x, _ in loader])  # batches of varying size: dynamic axis
    return {
        "onnx_acc": float((onnx_logits.argmax(1) == labels).mean()),
        "onnx_max_abs_diff": float(np.abs(onnx_logits - eager_logits).max()),
        "onnx_pred_agreement": float((onnx_logits.argmax(1) == eager_logits.argmax(1)).mean()),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    start = time.perf_counter()
    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            "error: --device cuda needs CuPy and a visible GPU (pip install -e '.[gpu]'); use --device cpu",
            file=sys.stderr,
        )
        sys.exit(2)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    train_set, test_set = load_data(args)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=np.random.default_rng(args.seed + 1))  # fmt: skip
    test_loader = DataLoader(test_set, batch_size=500)

    model = Net(args.width).to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                                    steps_per_epoch=len(train_loader))  # fmt: skip
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    batch_losses: list[float] = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        seen = correct = 0
        total = 0.0
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{args.epochs}", leave=False, file=sys.stderr)
        for x, y in bar:
            x, y = x.to(args.device), y.to(args.device)
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            batch_losses.append(loss.item())
            total += batch_losses[-1] * len(y)
            correct += int((logits.argmax(1) == y).sum().item())
            seen += len(y)
            bar.set_postfix(loss=f"{total / seen:.4f}", acc=f"{correct / seen:.4f}")
        test_loss, test_acc, _, _ = evaluate(model, test_loader, args.device)
        history["train_loss"].append(total / seen)
        history["train_acc"].append(correct / seen)
        history["test_loss"].append(test_loss)
        history["test_acc"].append(test_acc)
        print(f"epoch {epoch}: train loss {total / seen:.4f} acc {correct / seen:.4f} | "
              f"held-out loss {test_loss:.4f} acc {test_acc:.4f}")  # fmt: skip

    _, eager_acc, eager_logits, labels = evaluate(model, test_loader, args.device)
    ckpt = args.out / "model.safetensors"
    tmp = atomic_target(ckpt)
    try:
        torch.save(model.state_dict(), tmp)
        os.replace(tmp, ckpt)
    finally:
        tmp.unlink(missing_ok=True)
    onnx = export_and_compare(model, test_loader, eager_logits, labels, args.out)
    print(f"held-out accuracy: eager {eager_acc:.4f} | ONNX Runtime {onnx['onnx_acc']:.4f} | "
          f"max |eager - ONNX| on logits {onnx['onnx_max_abs_diff']:.2e}")  # fmt: skip
    images = np.concatenate([x.numpy() for x, _ in test_loader])
    plot(history, images, labels, eager_logits.argmax(1), args.out)

    window = max(1, min(20, len(batch_losses) // 4))
    summary: dict[str, object] = {
        "example": "mnist_classifier",
        "epochs": args.epochs,
        "train_size": len(train_set),
        "test_size": len(test_set),
        "first_loss": float(np.mean(batch_losses[:window])),
        "last_loss": float(np.mean(batch_losses[-window:])),
        "history": {k: [round(v, 5) for v in vals] for k, vals in history.items()},
        "test_acc": eager_acc,
        **onnx,
        "checkpoint": str(ckpt),
        "onnx": str(args.out / "model.onnx"),
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
