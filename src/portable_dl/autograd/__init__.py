"""Define-by-run autograd: Function, the backward engine and grad modes."""

from __future__ import annotations

from . import grad_mode
from .engine import backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled

__all__ = [
    "Function", "FunctionCtx", "once_differentiable", "backward", "grad", "no_grad", "enable_grad",
    "inference_mode", "set_grad_enabled", "is_grad_enabled", "grad_mode",
]  # fmt: skip
