"""``portable-dl run``: run an ONNX model on arrays read from .npy/.npz files, and save or print the outputs.

Also home of what ``run`` and ``bench`` share: the runner options and the one-line error report (exit code 2).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
import zipfile
from collections.abc import Callable
from typing import Any

from .._atomic import atomic_path

EXIT_ERROR = 2


def add_runner_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that build a ``Runner``: model path, device, threads, graph optimization level."""
    parser.add_argument("model", help="path of the .onnx file")
    add_session_options(parser)


def add_session_options(parser: argparse.ArgumentParser) -> None:
    """``--device``, ``--threads`` and ``--optimization``: how an ONNX Runtime session runs (run, bench, serve)."""
    parser.add_argument("--device", default="auto", help="'auto' (CUDA if usable, else CPU), 'cpu', 'cuda' or 'cuda:N'")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads (default: its own)")
    parser.add_argument(
        "--optimization",
        default="all",
        choices=("disable", "basic", "extended", "all"),
        help="ONNX Runtime graph optimization level (default all)",
    )


def make_runner(args: argparse.Namespace) -> Any:
    from portable_dl.export.runner import Runner

    return Runner(args.model, device=args.device, threads=args.threads, optimization=args.optimization)


def guarded(command: str, body: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Wrap a command so that any error is one line on stderr and exit code 2, and warnings are one line too."""

    def run(args: argparse.Namespace) -> int:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            try:
                code = body(args)
            except Exception as err:
                code = EXIT_ERROR
                message = " ".join(str(err).split()) or type(err).__name__
                if not isinstance(err, (ValueError, TypeError, OSError, RuntimeError, ImportError)):
                    message = f"{type(err).__name__}: {message}"
                print(f"portable-dl {command}: error: {message}", file=sys.stderr)
            finally:
                for warning in caught:
                    print(f"portable-dl {command}: warning: {' '.join(str(warning.message).split())}", file=sys.stderr)
        return code

    return run


def _read_array_file(path: str) -> Any:
    import numpy as np

    if not os.path.isfile(path):
        raise FileNotFoundError(f"input file not found: {path}")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as err:
        raise ValueError(f"cannot read input file {path!r} as .npy/.npz (no pickles): {err}") from err


def load_inputs(specs: list[str], input_names: list[str]) -> dict[str, Any]:
    """``--input`` values to feeds: ``name=path`` binds by name, a bare ``.npy`` path binds to the next model input
    not named elsewhere, an ``.npz`` file binds each of its arrays by its key."""
    positional, named = [], {}

    def bind(name: str, array: Any, source: str) -> None:
        if name in named:
            raise ValueError(f"input {name!r} given twice (again in {source})")
        named[name] = array

    for spec in specs:
        name, path = None, spec
        if "=" in spec and not os.path.exists(spec):
            name, path = spec.split("=", 1)
        loaded = _read_array_file(path)
        if hasattr(loaded, "files"):
            if name is not None:
                raise ValueError(f"--input {spec}: an .npz file binds its arrays by their keys; drop '{name}='")
            with loaded:
                for key in loaded.files:
                    bind(key, loaded[key], path)
        elif name is not None:
            bind(name, loaded, path)
        else:
            positional.append((path, loaded))
    free = [n for n in input_names if n not in named]
    if len(positional) > len(free):
        extra = ", ".join(p for p, _ in positional[len(free) :])
        raise ValueError(f"too many unnamed inputs: the model's inputs are {input_names}; nothing left for {extra}")
    for name, (path, array) in zip(free, positional):
        bind(name, array, path)
    return named


def save_npz(path: str, arrays: dict[str, Any]) -> None:
    """Write ``arrays`` as an .npz (keys = names, no pickles) atomically: a temporary file, then a rename."""
    import numpy as np

    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"output directory does not exist: {directory}")
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, array in arrays.items():
                array = np.asarray(array)
                if array.dtype == object:
                    array = array.astype(str)
                with archive.open(f"{name}.npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, array, allow_pickle=False)


def _host(array: Any) -> Any:
    import numpy as np

    return array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else np.asarray(array)


def _preview(name: str, array: Any) -> str:
    import numpy as np

    text = np.array2string(array, threshold=20, edgeitems=3, precision=4, max_line_width=100)
    return f"{name}: shape {tuple(array.shape)} {array.dtype}\n  " + text.replace("\n", "\n  ")


def _run(args: argparse.Namespace) -> int:
    runner = make_runner(args)
    feeds = load_inputs(args.input, [info.name for info in runner.inputs])
    results = runner.run(feeds)
    if len(runner.outputs) == 1:
        results = [results]
    outputs = {info.name: _host(value) for info, value in zip(runner.outputs, results)}
    if args.output:
        save_npz(args.output, outputs)
        print(f"wrote {args.output}: {', '.join(outputs)}")
    else:
        print("\n".join(_preview(name, array) for name, array in outputs.items()))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run an ONNX model with ONNX Runtime on .npy/.npz inputs",
        description="Run an ONNX model with ONNX Runtime. Outputs go to an .npz (keys = output names) with -o, "
        "else a summary of each is printed.",
    )
    add_runner_arguments(parser)
    parser.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="[NAME=]FILE",
        help="an input array (.npy; bound in model input order unless NAME= is given) or an .npz of named arrays; "
        "repeat for several inputs",
    )
    parser.add_argument("--output", "-o", default=None, help="write the outputs to this .npz file")
    parser.set_defaults(run=guarded("run", _run))
