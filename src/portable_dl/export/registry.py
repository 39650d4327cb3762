"""The converter registry: one small function per traced op kind, with opset-versioned variants.

A converter is ``fn(g: GraphBuilder, op: TracedOp) -> list[str | None]`` returning the ONNX name of each of
the op's outputs (None for an output nobody may use). Register with ``@converter("Kind", since=13)``; the
exporter picks, per op, the variant with the highest ``since`` that is <= the target opset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_CONVERTERS: dict[str, list[tuple[int, Callable]]] = {}
_SIZE_AWARE: set[str] = set()
_SYMINT_AWARE: set[str] = set()


def converter(*kinds: str, since: int = 1, sizes: bool = False, symints: bool = False) -> Callable:
    """Register the decorated function for each op kind in ``kinds`` (Function class names, ``module:X``).

    ``sizes=True``: the converter builds its size arguments from the traced shapes (``target_shape``), so a
    size passed as a plain int that changes with the dynamic axes is fine for it. ``symints=True``: it
    computes ``SymInt`` arguments in the graph (``g.sym``). Any other changing number is refused at export.
    """

    def register(fn: Callable) -> Callable:
        for kind in kinds:
            if sizes:
                _SIZE_AWARE.add(kind)
            if sizes or symints:
                _SYMINT_AWARE.add(kind)
            variants = _CONVERTERS.setdefault(kind, [])
            variants[:] = [v for v in variants if v[0] != since] + [(since, fn)]
            variants.sort(key=lambda v: v[0])
        return fn

    return register


def lookup(kind: str, opset: int) -> Any:
    """The converter for ``kind`` at ``opset``, or None."""
    best = None
    for since, fn in _CONVERTERS.get(kind, ()):
        if since <= opset:
            best = fn
    return best


def size_aware(kind: str) -> bool:
    return kind in _SIZE_AWARE


def symint_aware(kind: str) -> bool:
    return kind in _SYMINT_AWARE


def module_kinds() -> set:
    """Layer classes exported as a whole (their converters are registered as ``module:<Class>``)."""
    return {kind[len("module:") :] for kind in _CONVERTERS if kind.startswith("module:")}


def load_all() -> None:
    """Import every converter module (registration happens at import)."""
    from . import converters  # noqa: F401
