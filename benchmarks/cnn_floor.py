"""The MNIST CNN training step three ways: PyTorch, portable_dl, and a careful hand-written NumPy step (the floor).

The hand-written step (``_numpy_cnn.py``) shows how far portable_dl is from what NumPy + OpenBLAS can do on this
machine. All three start from the same weights (a seeded torch model's state_dict) and batch, as in
``train_steps.py``, so their first losses agree; timing alternates rounds in one process.
Run: python benchmarks/cnn_floor.py  (prints JSON: ms per step; the NumPy step's per-phase split, and its three\nconv2 GEMMs timed alone, i.e. how much of it is BLAS compute rather than NumPy memory passes)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import THREADS, emit, median_time, paired, pin_threads

pin_threads()

import numpy as np  # noqa: E402
import train_steps  # noqa: E402
from _numpy_cnn import numpy_cnn_step  # noqa: E402

LR = 0.01


def numpy_step() -> object:
    """The hand-written step on the weights and batch that ``train_steps.build`` gives both frameworks."""
    import torch

    torch.manual_seed(0)
    reference = train_steps.make_model(torch, "cnn")
    weights = {k: v.detach().numpy().copy() for k, v in reference.state_dict().items()}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    return numpy_cnn_step(weights, x, y, LR)


def phase_ms(step: object, repeats: int = 20) -> dict[str, float]:
    """Median milliseconds of each phase of the hand-written step."""
    phases = step.phases  # type: ignore[attr-defined]
    samples: dict[str, list[float]] = {name: [] for name, _ in phases}
    for _ in range(repeats):
        for name, fn in phases:
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: round(statistics.median(v) * 1e3, 2) for name, v in samples.items()}


def conv2_gemm_ms(block: int = 8, repeats: int = 20) -> dict[str, float]:
    """Median ms of the hand-written step's three conv2 GEMMs alone (same shapes, warm data): its compute floor."""
    rng = np.random.default_rng(0)
    width = 676 * block
    w = rng.standard_normal((64, 288), dtype=np.float32)
    w_t = np.ascontiguousarray(w.T)
    cols = rng.standard_normal((288, width), dtype=np.float32)
    d_out = rng.standard_normal((64, width), dtype=np.float32)
    out, d_w, d_cols = np.empty((64, width), np.float32), np.empty((64, 288), np.float32), np.empty_like(cols)
    per_step = 64 // block
    gemms = {
        "forward": lambda: np.matmul(w, cols, out=out),
        "weight_grad": lambda: np.matmul(d_out, cols.T, out=d_w),
        "input_grad": lambda: np.matmul(w_t, d_out, out=d_cols),
    }
    return {name: round(median_time(fn, repeats) * per_step * 1e3, 2) for name, fn in gemms.items()}


def as_float(loss: object) -> float:
    """A step's loss as a float (torch and portable_dl return a tensor, the NumPy step a float)."""
    return loss if isinstance(loss, float) else float(loss.item())  # type: ignore[attr-defined]


def main() -> None:
    steps = {name: train_steps.build(name, "cnn") for name in ("torch", "portable_dl")}
    steps["numpy_by_hand"] = numpy_step()
    first = {name: round(as_float(step()), 5) for name, step in steps.items()}
    times = paired(steps, repeats=5, rounds=5)
    ms = {name: round(t * 1e3, 2) for name, t in times.items()}
    emit({
        "benchmark": "cnn_train_step_floor",
        "threads": THREADS,
        "torch_ms": ms["torch"],
        "numpy_by_hand_ms": ms["numpy_by_hand"],
        "portable_dl_ms": ms["portable_dl"],
        "first_loss": first,
        "portable_dl_vs_numpy_by_hand": round(times["portable_dl"] / times["numpy_by_hand"], 3),
        "numpy_by_hand_vs_torch": round(times["numpy_by_hand"] / times["torch"], 3),
        "numpy_by_hand_phase_ms": phase_ms(steps["numpy_by_hand"]),
        "numpy_by_hand_conv2_gemms_alone_ms": conv2_gemm_ms(),
    })  # fmt: skip


if __name__ == "__main__":
    main()
