"""One MLP training step (784-512-512-10, batch 128, float32, cross-entropy, SGD), vs PyTorch and NumPy.

All three start from the same weights and see the same batch, so their first losses agree.
Run: python benchmarks/mlp_step.py  (prints JSON; milliseconds per step)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import THREADS, emit, paired, pin_threads

pin_threads()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

import portable_dl as pdl  # noqa: E402
import portable_dl.nn.functional as F  # noqa: E402

torch.set_num_threads(THREADS)
SIZES = (784, 512, 512, 10)
BATCH, LR = 128, 0.01


def initial_weights() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    return params


def batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.standard_normal((BATCH, SIZES[0])).astype(np.float32), rng.integers(0, 10, BATCH)


def make_step(lib: object, functional: object, params: list, x: object, y: object) -> object:
    def step() -> float:
        h = x
        for i in range(0, len(params) - 2, 2):
            h = functional.relu(functional.linear(h, params[i], params[i + 1]))
        loss = functional.cross_entropy(functional.linear(h, params[-2], params[-1]), y)
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None
        return loss

    return step


def numpy_step(params: list, x: np.ndarray, y: np.ndarray) -> object:
    """The same step written by hand in NumPy: the floor a framework on NumPy can reach."""

    def step() -> float:
        acts = [x]
        for i in range(0, len(params) - 2, 2):
            acts.append(np.maximum(acts[-1] @ params[i].T + params[i + 1], 0))
        logits = acts[-1] @ params[-2].T + params[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        probs = exp / exp.sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(BATCH), y]).mean()
        grad = probs
        grad[np.arange(BATCH), y] -= 1
        grad /= BATCH
        for i in range(len(params) - 2, -1, -2):
            gw = grad.T @ acts[i // 2]
            gb = grad.sum(axis=0)
            if i:
                grad = (grad @ params[i]) * (acts[i // 2] > 0)
            params[i] -= LR * gw
            params[i + 1] -= LR * gb
        return loss

    return step


def main() -> None:
    weights = initial_weights()
    xb, yb = batch()
    t_params = [torch.tensor(w, requires_grad=True) for w in weights]
    p_params = [pdl.tensor(w, requires_grad=True) for w in weights]
    n_params = [w.copy() for w in weights]
    candidates = {
        "torch": make_step(torch, TF, t_params, torch.from_numpy(xb), torch.from_numpy(yb)),
        "portable_dl": make_step(pdl, F, p_params, pdl.tensor(xb), pdl.tensor(yb)),
        "numpy_by_hand": numpy_step(n_params, xb, yb),
    }
    first = {name: float(fn()) for name, fn in candidates.items()}
    times = paired(candidates, repeats=20, rounds=7)
    emit({
        "benchmark": "mlp_step",
        "threads": THREADS,
        "model": "784-512-512-10 MLP, batch 128, float32, cross-entropy, SGD",
        "first_loss": {k: round(v, 6) for k, v in first.items()},
        "ms_per_step": {k: round(v * 1e3, 3) for k, v in times.items()},
        "ratio_vs_torch": round(times["portable_dl"] / times["torch"], 3),
        "ratio_vs_numpy_by_hand": round(times["portable_dl"] / times["numpy_by_hand"], 3),
        "numpy_by_hand_vs_torch": round(times["numpy_by_hand"] / times["torch"], 3),
    })  # fmt: skip


if __name__ == "__main__":
    main()
