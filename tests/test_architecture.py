"""Layering rules of the code base, checked on the source with ``ast`` and on a fresh interpreter.

* array libraries (numpy, cupy, cupyx, scipy) are imported only by ``backends/`` and the explicit interop
  points; op code reaches them through ``ctx.xp`` / ``tensor._backend``;
* ``onnx`` / ``onnxruntime`` are never imported by the core (only by the ONNX export package, when it exists);
* ``torch`` is never imported by the library (it is the test oracle only);
* ``import portable_dl`` loads none of torch, scipy, cupy, onnx, onnxruntime.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "portable_dl"

ARRAY_LIBRARIES = {"numpy", "cupy", "cupyx", "scipy"}
# Where array libraries may be imported: the backends, plus explicit interop points.
ARRAY_ALLOWED = (
    "backends/",
    "_dtype.py",  # a dtype knows its NumPy dtype
    "cli.py",  # ``portable-dl info`` reports the installed NumPy/CuPy versions
    "export/",  # ONNX initializers and ONNX Runtime inputs are NumPy arrays (CuPy on the runner's GPU path)
    "commands/",  # ``portable-dl run/bench`` read and write .npy/.npz files
)
ONNX_LIBRARIES = {"onnx", "onnxruntime"}
# The ONNX exporter (a separate layer on top of the core) may import onnx, lazily.
ONNX_ALLOWED = ("onnx/", "export/", "onnx.py", "export.py", "_onnx")
NEVER = {"torch", "torchvision", "jax", "tensorflow"}


def _sources() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20, f"expected the package sources under {PACKAGE}"
    return files


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _imported_modules(path: Path) -> list[tuple[str, int]]:
    """Top-level names of every module imported anywhere in the file (also inside functions, and via
    ``importlib.import_module("x")`` / ``__import__("x")`` with a literal name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name.split(".")[0], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.append((node.module.split(".")[0], node.lineno))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                value = node.args[0].value
                if isinstance(value, str):
                    found.append((value.split(".")[0], node.lineno))
    return found


def _allowed(rel: str, patterns: tuple) -> bool:
    return any(rel.startswith(p) or rel == p or f"/{p}" in f"/{rel}" for p in patterns)


def test_array_libraries_only_in_backends_and_interop_points() -> None:
    offenders = []
    for path in _sources():
        rel = _relative(path)
        if _allowed(rel, ARRAY_ALLOWED):
            continue
        for module, line in _imported_modules(path):
            if module in ARRAY_LIBRARIES:
                offenders.append(f"{rel}:{line} imports {module}")
    assert not offenders, "use ctx.xp / tensor._backend instead:\n" + "\n".join(offenders)


def test_op_modules_never_import_array_libraries() -> None:
    for path in sorted((PACKAGE / "ops").rglob("*.py")):
        for module, line in _imported_modules(path):
            assert module not in ARRAY_LIBRARIES, f"{_relative(path)}:{line} imports {module}"


def test_format_does_not_import_numpy() -> None:
    modules = {m for m, _ in _imported_modules(PACKAGE / "_format.py")}
    assert not modules & ARRAY_LIBRARIES, modules


def test_onnx_never_imported_by_core() -> None:
    offenders = []
    for path in _sources():
        rel = _relative(path)
        if _allowed(rel, ONNX_ALLOWED):
            continue
        for module, line in _imported_modules(path):
            if module in ONNX_LIBRARIES:
                offenders.append(f"{rel}:{line} imports {module}")
    assert not offenders, "\n".join(offenders)


def test_onnx_imports_in_exporter_are_lazy() -> None:
    """Even the exporter imports onnx inside functions, so ``import portable_dl`` works without it."""
    for path in _sources():
        rel = _relative(path)
        if not _allowed(rel, ONNX_ALLOWED):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.split(".")[0] in ONNX_LIBRARIES for n in names), f"{rel}:{node.lineno}"


def test_library_never_imports_torch() -> None:
    offenders = []
    for path in _sources():
        for module, line in _imported_modules(path):
            if module in NEVER:
                offenders.append(f"{_relative(path)}:{line} imports {module}")
    assert not offenders, "\n".join(offenders)


def test_scanner_sees_imports() -> None:
    """Guard against a scanner that finds nothing: known imports must be found."""
    assert "numpy" in {m for m, _ in _imported_modules(PACKAGE / "_dtype.py")}
    assert "cupy" in {m for m, _ in _imported_modules(PACKAGE / "backends" / "cupy_backend.py")}


def _modules_after(code: str) -> set:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


FORBIDDEN_AT_IMPORT = {"torch", "scipy", "cupy", "cupyx", "onnx", "onnxruntime", "jax", "tensorflow"}


@pytest.mark.parametrize("code", [
    "import portable_dl",
    "import portable_dl as torch\nx = torch.ones(2, requires_grad=True)\n(x * 2).backward(torch.ones(2))\nrepr(x)",
    "import portable_dl.nn.functional\nimport portable_dl.autograd",
])  # fmt: skip
def test_import_loads_no_heavy_dependencies(code: str) -> None:
    loaded = {name.split(".")[0] for name in _modules_after(code)}
    assert not loaded & FORBIDDEN_AT_IMPORT, sorted(loaded & FORBIDDEN_AT_IMPORT)
    assert "numpy" in loaded  # the CPU backend is always there
