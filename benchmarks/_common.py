"""Shared benchmark plumbing: pin 2 threads for both frameworks, time paired runs, print JSON."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable

THREADS = int(os.environ.get("BENCH_THREADS", "2"))


def pin_threads() -> None:
    """Give NumPy's BLAS and PyTorch the same thread count (call before importing either)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(THREADS))


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 5) -> float:
    """Median wall time of one call, in seconds, after a warm-up."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def paired(candidates: dict[str, Callable[[], object]], repeats: int, rounds: int = 5) -> dict[str, float]:
    """Median per-call time of each candidate, measured in alternating rounds so drift hits all alike."""
    results: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            results[name].append(median_time(fn, repeats))
    return {name: statistics.median(times) for name, times in results.items()}


def emit(report: dict) -> None:
    print(json.dumps(report, indent=2))
