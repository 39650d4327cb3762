"""``portable-dl bench``: latency (p50/p99) and throughput of an ONNX model in ONNX Runtime, per batch size.

Inputs are random arrays shaped from the model's metadata (the symbolic first dim = the batch size). On CUDA they
are placed in GPU memory first (when CuPy is installed), so the figures are the model's, not the host copies'.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from portable_dl.commands.run import add_runner_arguments, guarded, make_runner


def _positive_ints(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas (e.g. 1,8,64), got {text!r}")
    return values


def _dim(text: str) -> tuple[str, int]:
    name, _, size = text.partition("=")
    if not name or not size.isdigit() or int(size) < 1:
        raise argparse.ArgumentTypeError(f"expected NAME=SIZE with a positive SIZE (e.g. seq=128), got {text!r}")
    return name, int(size)


def _batches(runner: Any, requested: list[int] | None) -> list[int]:
    """The batch sizes to measure; a model with a fixed first dim has exactly one."""
    if runner.has_dynamic_batch:
        return requested or [1]
    first = runner.inputs[0] if runner.inputs else None
    fixed = first.shape[0] if first is not None and first.shape else 1
    if requested and requested != [fixed]:
        raise ValueError(
            f"the model's batch size is fixed at {fixed} ({first.describe() if first else 'no inputs'}); "
            "drop --batch, or export the model with a dynamic batch axis"
        )
    return [fixed]


def _to_device(runner: Any, feeds: dict[str, Any]) -> tuple[dict[str, Any], str]:
    if runner.device == "cpu":
        return feeds, "host"
    try:
        import cupy
    except ImportError:
        return feeds, "host"
    with cupy.cuda.Device(int(runner.device.split(":")[1])):
        return {name: cupy.asarray(array) for name, array in feeds.items()}, "device"


def measure(runner: Any, batch: int, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Time ``args.iterations`` runs after ``args.warmup`` untimed ones; latencies in ms."""
    import numpy as np

    feeds = runner.sample_inputs(batch, dims=dict(args.dim), random=True, seed=0, int_high=args.int_high)
    feeds, placement = _to_device(runner, feeds)
    for _ in range(args.warmup):
        runner.run(feeds)
    times = np.empty(args.iterations)
    for i in range(args.iterations):
        start = time.perf_counter()
        runner.run(feeds)
        times[i] = time.perf_counter() - start
    p50, p99 = np.percentile(times, [50, 99]) * 1e3
    mean = float(times.mean())
    result = {
        "batch": batch,
        "p50_ms": float(p50),
        "p99_ms": float(p99),
        "mean_ms": mean * 1e3,
        "min_ms": float(times.min()) * 1e3,
        "samples_per_s": batch / mean if mean > 0 else float("inf"),
    }
    return result, placement


def _table(report: dict[str, Any]) -> str:
    lines = [
        f"{report['model']} on {report['device']} ({', '.join(report['providers'])}), inputs in {report['inputs']} "
        f"memory: {report['iterations']} timed runs after {report['warmup']} warm-up runs per batch size",
        f"{'batch':>6} {'p50 ms':>10} {'p99 ms':>10} {'mean ms':>10} {'samples/s':>12}",
    ]
    for row in report["results"]:
        lines.append(
            f"{row['batch']:>6} {row['p50_ms']:>10.3f} {row['p99_ms']:>10.3f} {row['mean_ms']:>10.3f} "
            f"{row['samples_per_s']:>12.1f}"
        )
    return "\n".join(lines)


def _bench(args: argparse.Namespace) -> int:
    if args.warmup < 0 or args.iterations < 1 or args.int_high < 1:
        raise ValueError(
            "--warmup must be >= 0, --iterations >= 1 and --int-high >= 1; "
            f"got {args.warmup}, {args.iterations} and {args.int_high}"
        )
    runner = make_runner(args)
    results, placement = [], "host"
    for batch in _batches(runner, args.batch):
        row, placement = measure(runner, batch, args)
        results.append(row)
    report = {
        "model": args.model,
        "device": runner.device,
        "providers": runner.providers,
        "optimization": args.optimization,
        "threads": args.threads,
        "inputs": placement,
        "warmup": args.warmup,
        "iterations": args.iterations,
        "results": results,
    }
    print(json.dumps(report, indent=2) if args.json else _table(report))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="measure latency and throughput of an ONNX model in ONNX Runtime",
        description="Measure p50/p99 latency and throughput of an ONNX model on random inputs, per batch size.",
    )
    add_runner_arguments(parser)
    parser.add_argument(
        "--batch", type=_positive_ints, default=None, help="batch sizes, comma-separated (default 1; e.g. 1,8,64)"
    )
    parser.add_argument("--warmup", type=int, default=10, help="untimed runs per batch size (default 10)")
    parser.add_argument("--iterations", type=int, default=100, help="timed runs per batch size (default 100)")
    parser.add_argument(
        "--dim",
        type=_dim,
        action="append",
        default=[],
        metavar="NAME=SIZE",
        help="size of a symbolic dim other than the batch (default 1), e.g. --dim seq=128",
    )
    parser.add_argument(
        "--int-high", type=int, default=4, help="integer inputs are drawn from [0, INT_HIGH) (default 4)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(run=guarded("bench", _bench))
