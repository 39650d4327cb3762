"""How long ``import portable_dl`` takes on top of ``import numpy`` (and ``import torch`` for scale).

Run: python benchmarks/import_time.py  (prints JSON; seconds, median of fresh interpreters)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from _common import emit

# Bytecode caches on, as after a normal install (some sandboxes set PYTHONDONTWRITEBYTECODE,
# which would time the compiler instead of the import).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def import_seconds(statement: str, runs: int = 7) -> float:
    subprocess.run([sys.executable, "-c", statement], check=True, env=ENV)  # warm the caches
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True, env=ENV)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    base = import_seconds("pass")
    numpy = import_seconds("import numpy") - base
    ours = import_seconds("import numpy, portable_dl") - base
    torch = import_seconds("import torch", runs=3) - base
    emit({
        "benchmark": "import_time",
        "numpy_s": round(numpy, 3),
        "numpy_plus_portable_dl_s": round(ours, 3),
        "portable_dl_added_s": round(ours - numpy, 3),
        "torch_s": round(torch, 3),
    })  # fmt: skip


if __name__ == "__main__":
    main()
