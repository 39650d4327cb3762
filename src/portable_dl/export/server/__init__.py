"""An Open Inference Protocol (KServe v2 / Triton HTTP REST) server over ONNX Runtime: ``portable-dl serve``.

Modules: ``protocol`` (request/response bodies, binary tensors), ``repository`` (models and versions),
``batching`` (dynamic batcher), ``metrics`` (Prometheus text), ``app`` (the FastAPI application). FastAPI and
uvicorn are imported only when an app is built or served.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Repository", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from portable_dl.export.server.app import create_app

        return create_app
    if name == "Repository":
        from portable_dl.export.server.repository import Repository

        return Repository
    raise AttributeError(f"module 'portable_dl.export.server' has no attribute {name!r}")
