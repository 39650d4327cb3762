"""The ``portable-dl`` command: ``info`` (what is installed and usable), ``demo`` (fit a tiny model), and the
deployment commands registered from ``portable_dl.commands`` (export, run, bench)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence


def _info(args: argparse.Namespace) -> int:
    import numpy

    import portable_dl as pdl

    print(f"portable_dl {pdl.__version__}")
    print(f"numpy {numpy.__version__} (device 'cpu')")
    if pdl.cuda.is_available():
        import cupy

        print(f"cupy {cupy.__version__}: {pdl.cuda.device_count()} GPU(s) (device 'cuda')")
    else:
        print("cuda: not available (install 'portable-dl[gpu]' on a machine with an NVIDIA GPU)")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from portable_dl.demo import fit_sine

    fit_sine(steps=args.steps, seed=args.seed, device=args.device)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portable-dl", description="portable_dl command-line tools")
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="show versions and which devices are usable")
    info.set_defaults(run=_info)
    demo = commands.add_parser("demo", help="fit a tiny network to sin(x) with autograd; prints the loss")
    demo.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--device", default="cpu", help="'cpu' or 'cuda[:N]' (default cpu)")
    demo.set_defaults(run=_demo)
    from portable_dl.commands import COMMANDS

    for name in COMMANDS:
        module = f"portable_dl.commands.{name}"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
