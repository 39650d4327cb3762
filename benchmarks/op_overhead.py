"""Per-op overhead: a chain of small ``a * b + c`` ops, forward and forward+backward, vs PyTorch.

Run: python benchmarks/op_overhead.py  (prints JSON; microseconds per op)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import THREADS, emit, paired, pin_threads

pin_threads()

import numpy as np  # noqa: E402
import torch  # noqa: E402

import portable_dl as pdl  # noqa: E402

torch.set_num_threads(THREADS)
STEPS = 50  # each step is two ops: a * b, then + c
SIZE = 16


def make(lib: object, requires_grad: bool) -> tuple:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(SIZE).astype(np.float32) for _ in range(3)]
    return tuple(lib.tensor(a, requires_grad=requires_grad) for a in arrays)


def chain(a: object, b: object, c: object) -> object:
    x = a
    for _ in range(STEPS):
        x = x * b + c
    return x


def main() -> None:
    fwd = {}
    for name, lib in (("torch", torch), ("portable_dl", pdl)):
        a, b, c = make(lib, requires_grad=False)
        fwd[name] = lambda a=a, b=b, c=c: chain(a, b, c)
    bwd = {}
    for name, lib in (("torch", torch), ("portable_dl", pdl)):
        a, b, c = make(lib, requires_grad=True)
        bwd[name] = lambda a=a, b=b, c=c: chain(a, b, c).sum().backward()
    n_ops = 2 * STEPS
    f = paired(fwd, repeats=200)
    b = paired(bwd, repeats=100)
    report = {
        "benchmark": "op_overhead",
        "threads": THREADS,
        "ops_per_chain": n_ops,
        "tensor_size": SIZE,
        "forward_us_per_op": {k: round(v / n_ops * 1e6, 2) for k, v in f.items()},
        "forward_backward_us_per_op": {k: round(v / n_ops * 1e6, 2) for k, v in b.items()},
    }
    report["forward_ratio_vs_torch"] = round(f["portable_dl"] / f["torch"], 2)
    report["forward_backward_ratio_vs_torch"] = round(b["portable_dl"] / b["torch"], 2)
    emit(report)


if __name__ == "__main__":
    main()
