"""``portable-dl export``: build a model from ``FILE.py:factory`` or ``package.module:factory``, load its weights,
export it to ONNX on seeded example inputs, print a summary and check ONNX Runtime against eager.

Optionally writes a Triton model repository next to the ONNX file. onnx, onnxruntime and the exporter are
imported only when the command runs; every error is one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any, NamedTuple

from .run import guarded

DTYPES = ("float32", "float16", "float64", "int64", "int32", "bool")
SECOND_BATCH_EXTRA = 3  # the ORT check runs again at batch + 3 when dim 0 is dynamic


class InputSpec(NamedTuple):
    """One ``--input NAME:SHAPE[:DTYPE]``."""

    name: str
    shape: tuple[int, ...]
    dtype: str


# ----- parsing the command line ------------------------------------------------------------------------
def parse_input(text: str) -> InputSpec:
    """``x:1x3x32x32`` or ``x:1,3,32,32:float16`` -> InputSpec; the dtype defaults to float32."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0]:
        raise ValueError(f"--input {text!r}: expected NAME:SHAPE[:DTYPE], e.g. x:1x3x32x32 or ids:2,16:int64")
    name, shape_text = parts[0], parts[1]
    dtype = parts[2] if len(parts) == 3 else "float32"
    dims = re.split(r"[x,]", shape_text)
    if not all(d.isdigit() and int(d) > 0 for d in dims):
        raise ValueError(
            f"--input {text!r}: shape {shape_text!r} must be positive integers joined by 'x' or ',' (e.g. 1x3x32x32)"
        )
    if dtype not in DTYPES:
        raise ValueError(f"--input {text!r}: unknown dtype {dtype!r}; valid: {', '.join(DTYPES)}")
    return InputSpec(name, tuple(int(d) for d in dims), dtype)


def parse_dynamic_axes(texts: list[str], inputs: list[InputSpec]) -> dict[str, dict[int, str]]:
    """``NAME:DIM[:LABEL]`` options -> ``{name: {dim: label}}``; the label defaults to ``batch`` for dim 0."""
    ranks = {spec.name: len(spec.shape) for spec in inputs}
    axes: dict[str, dict[int, str]] = {}
    for text in texts:
        parts = text.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1].isdigit() or (len(parts) == 3 and not parts[2]):
            raise ValueError(f"--dynamic-axis {text!r}: expected NAME:DIM[:LABEL] with DIM >= 0, e.g. x:0 or x:1:seq")
        name, dim = parts[0], int(parts[1])
        if name in ranks and dim >= ranks[name]:
            raise ValueError(
                f"--dynamic-axis {text!r}: input {name!r} has only {ranks[name]} dims (0..{ranks[name] - 1})"
            )
        if dim in axes.get(name, {}):
            raise ValueError(f"--dynamic-axis {text!r}: axis {dim} of {name!r} is given twice")
        label = parts[2] if len(parts) == 3 else ("batch" if dim == 0 else f"{name}_dim{dim}")
        axes.setdefault(name, {})[dim] = label
    return axes


# ----- building the model -------------------------------------------------------------------------------
def load_target(target: str) -> Any:
    """Import ``FILE.py:factory`` or ``package.module:factory``, call the factory, return the Module it made."""
    import portable_dl as pdl

    source, _, attribute = target.rpartition(":")
    if not source or not attribute:
        raise ValueError(f"TARGET {target!r} must be FILE.py:FACTORY or package.module:FACTORY")
    if source.endswith(".py") or "/" in source or os.sep in source:
        module = _import_file(source)
    else:
        module = _import_module(source)
    factory: Any = module
    for part in attribute.split("."):
        if not hasattr(factory, part):
            raise ImportError(f"cannot find {attribute!r} in {source} (TARGET {target!r})")
        factory = getattr(factory, part)
    if not callable(factory):
        raise TypeError(
            f"{target} is not callable (it is {type(factory).__name__}); name a class or function returning a Module"
        )
    model = factory()
    if not isinstance(model, pdl.nn.Module):
        raise TypeError(f"{target}() returned a {type(model).__name__}, expected a portable_dl.nn.Module")
    return model


def _import_file(path: str) -> Any:
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    name = f"_portable_dl_export_{re.sub(r'[^0-9A-Za-z_]', '_', file.stem)}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a Python module")
    sys.path.insert(0, str(file.resolve().parent))  # so the file can import its neighbours
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        del sys.modules[name]
        raise ImportError(f"importing {path} failed: {type(err).__name__}: {err}") from err
    return module


def _import_module(name: str) -> Any:
    if os.getcwd() not in sys.path:  # console scripts don't put the working folder on the path; python -m does
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        raise ImportError(f"cannot import module {name!r}: {err} (is its folder on PYTHONPATH?)") from err
    except Exception as err:
        raise ImportError(f"importing {name} failed: {type(err).__name__}: {err}") from err


def load_weights(model: Any, path: str) -> None:
    """Load a safetensors state dict into ``model``; missing or unexpected keys are an error."""
    import portable_dl as pdl

    if not os.path.isfile(path):
        raise FileNotFoundError(f"weights file not found: {path}")
    state = pdl.load(path)
    if not isinstance(state, dict):
        raise TypeError(f"weights file {path} holds a {type(state).__name__}, expected a state dict")
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise RuntimeError(f"weights {path} don't fit the model: {err}") from err


def example_inputs(specs: list[InputSpec], seed: int, int_high: int, batch_extra: dict[str, int] | None = None) -> list:
    """Seeded NumPy inputs: normal floats, integers in [0, int_high), random bools; dim 0 grown per ``batch_extra``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    arrays = []
    for spec in specs:
        shape = list(spec.shape)
        shape[0] += (batch_extra or {}).get(spec.name, 0)
        if spec.dtype == "bool":
            arrays.append(rng.integers(0, 2, size=shape).astype(bool))
        elif spec.dtype.startswith("int"):
            arrays.append(rng.integers(0, int_high, size=shape, dtype=spec.dtype))
        else:
            arrays.append(rng.standard_normal(shape).astype(spec.dtype))
    return arrays


# ----- checks and summary ------------------------------------------------------------------------------
def _eager(model: Any, arrays: list) -> list:
    import portable_dl as pdl

    with pdl.no_grad():
        out = model(*[pdl.tensor(a) for a in arrays])

    def flat(obj: Any) -> list:
        if isinstance(obj, (tuple, list)):
            return [x for o in obj for x in flat(o)]
        return [obj.numpy()]

    return flat(out)


def _max_abs_diff(expected: list, actual: list) -> float:
    import numpy as np

    if len(expected) != len(actual):
        raise RuntimeError(f"ONNX Runtime gave {len(actual)} outputs but the model gives {len(expected)}")
    worst = 0.0
    for e, a in zip(expected, actual):
        e, a = np.asarray(e, dtype=np.float64), np.asarray(a, dtype=np.float64)
        if e.shape != a.shape:
            raise RuntimeError(f"ONNX Runtime output shape {a.shape} differs from the model's {e.shape}")
        diff = np.abs(e - a)
        diff[np.isnan(e) & np.isnan(a)] = 0.0
        worst = max(worst, float(diff.max()) if diff.size else 0.0)
    return worst


def _ort_check(path: str, model: Any, batches: list[list]) -> str:
    try:
        import onnxruntime as ort
    except ImportError:
        return "skipped (onnxruntime is not installed: pip install onnxruntime)"
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    results = []
    for arrays in batches:
        diff = _max_abs_diff(_eager(model, arrays), session.run(None, dict(zip(names, arrays))))
        results.append(f"{diff:.3g} (batch {arrays[0].shape[0]})")
    return "ONNX Runtime (CPU) vs eager, max abs diff " + ", ".join(results)


def _describe(value: Any) -> str:
    from onnx import helper

    tensor_type = value.type.tensor_type
    dims = [d.dim_param or str(d.dim_value) for d in tensor_type.shape.dim]
    dtype = helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
    return f"{value.name} [{', '.join(dims)}] {dtype}"


def _size(n: int) -> str:
    """``12,608 bytes (12.3 KiB)``: exact, and readable at a glance."""
    if n < 1024:
        return f"{n:,} bytes"
    power = min(3, (n.bit_length() - 1) // 10)
    return f"{n:,} bytes ({n / 1024**power:.1f} {('KiB', 'MiB', 'GiB')[power - 1]})"


# ----- the command -------------------------------------------------------------------------------------
def _export(args: argparse.Namespace) -> int:
    import portable_dl as pdl

    if not args.input:
        raise ValueError("give at least one --input NAME:SHAPE[:DTYPE], e.g. --input x:1x3x32x32")
    specs = [parse_input(text) for text in args.input]
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"--input names must be unique, got {names}")
    axes = parse_dynamic_axes(args.dynamic_axis, specs)
    if args.int_high < 1:
        raise ValueError(f"--int-high must be >= 1, got {args.int_high}")
    if args.triton_repo is None and (args.triton_name is not None or args.max_batch_size is not None):
        raise ValueError("--triton-name and --max-batch-size need --triton-repo DIR")

    pdl.manual_seed(args.seed)
    model = load_target(args.target)
    if args.weights:
        load_weights(model, args.weights)
    model.eval()
    arrays = example_inputs(specs, args.seed, args.int_high)
    proto = pdl.onnx.export(
        model,
        tuple(pdl.tensor(a) for a in arrays),
        args.output,
        input_names=names,
        output_names=None,
        dynamic_axes=axes or None,
        opset_version=args.opset,
    )

    batches = [arrays]
    grown = {spec.name: SECOND_BATCH_EXTRA for spec in specs if 0 in axes.get(spec.name, {})}
    if grown:
        batches.append(example_inputs(specs, args.seed + 1, args.int_high, grown))
    print(f"exported {args.target} -> {args.output}")
    for value in proto.graph.input:
        print(f"  input       {_describe(value)}")
    for value in proto.graph.output:
        print(f"  output      {_describe(value)}")
    print(f"  opset:      {next(o.version for o in proto.opset_import if o.domain in ('', 'ai.onnx'))}")
    print(f"  nodes:      {len(proto.graph.node)}")
    print(f"  parameters: {sum(p.numel() for p in model.parameters()):,}")
    print(f"  file size:  {_size(os.path.getsize(args.output))}")
    print(f"  check:      {_ort_check(args.output, model, batches)}")
    if args.triton_repo is not None:
        from portable_dl.export.triton import read_triton_config, write_triton_repository

        name = args.triton_name or Path(args.output).stem
        folder = write_triton_repository(args.output, args.triton_repo, name, max_batch_size=args.max_batch_size)
        print(f"  triton:     {folder} (max_batch_size {read_triton_config(folder).max_batch_size})")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a model built by a Python factory to ONNX (and optionally a Triton repository)",
        description="Build the model from TARGET (FILE.py:FACTORY or package.module:FACTORY, a class or a function "
        "returning a portable_dl.nn.Module), load --weights, trace it on seeded example inputs, write ONNX, and "
        "compare ONNX Runtime (CPU) with eager.",
    )
    parser.add_argument("target", metavar="TARGET", help="FILE.py:FACTORY or package.module:FACTORY")
    parser.add_argument("--output", "-o", required=True, metavar="FILE", help="path of the .onnx file to write")
    parser.add_argument(
        "--weights", default=None, metavar="FILE", help="a safetensors state dict (written by portable_dl.save)"
    )
    parser.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="NAME:SHAPE[:DTYPE]",
        help=f"an example input, e.g. x:1x3x32x32; DTYPE is one of {', '.join(DTYPES)} (default float32); "
        "repeat for several inputs, in the order forward() takes them",
    )
    parser.add_argument(
        "--dynamic-axis",
        action="append",
        default=[],
        metavar="NAME:DIM[:LABEL]",
        help="make axis DIM of input/output NAME dynamic (label default: 'batch' for dim 0, else NAME_dimDIM)",
    )
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the example inputs and model init (default 0)")
    parser.add_argument("--int-high", type=int, default=10, help="integer inputs are drawn from [0, N) (default 10)")
    parser.add_argument("--triton-repo", default=None, metavar="DIR", help="also write a Triton model repository")
    parser.add_argument("--triton-name", default=None, help="model name in the Triton repository (default: -o stem)")
    parser.add_argument(
        "--max-batch-size", type=int, default=None, help="Triton max_batch_size (default: 64 if batched, else 0)"
    )
    parser.set_defaults(run=guarded("export", _export))
