"""The deployment path: trace a model to ONNX (``export``), run ONNX files with ONNX Runtime (``Runner``), write
Triton model repositories. ``onnx`` and ``onnxruntime`` are imported only when these are used."""

from __future__ import annotations

from typing import Any

__all__ = ["Runner", "export", "write_triton_repository"]

_LAZY = {
    "export": ("portable_dl.export.api", "export"),
    "Runner": ("portable_dl.export.runner", "Runner"),
    "write_triton_repository": ("portable_dl.export.triton", "write_triton_repository"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'portable_dl.export' has no attribute {name!r}")
