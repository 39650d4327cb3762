"""portable_dl: a PyTorch-style deep learning framework on NumPy (CPU) and CuPy (CUDA)."""

from __future__ import annotations

from . import autograd, backends
from ._device import device
from ._dtype import (
    bool_ as bool,  # noqa: A004 - torch.bool
    double,
    dtype,
    float,  # noqa: A004
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,  # noqa: A004
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .backends import get_num_threads, set_num_threads
from .ops import *
from .ops import __all__ as _ops_all
from .ops._common import result_type
from .tensor import Size, Tensor, is_tensor
from . import cuda
from . import distributed
from . import nn
from . import onnx
from . import optim
from .serialization import load, save
from . import utils

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Size", "device", "dtype", "is_tensor", "autograd", "backends", "cuda", "nn", "optim", "save", "load", "utils",
    "no_grad", "enable_grad", "inference_mode", "set_grad_enabled", "is_grad_enabled",
    "bool", "float", "double", "half", "int", "long", "short", "float16", "float32", "float64",
    "int8", "int16", "int32", "int64", "uint8", "get_default_dtype", "set_default_dtype",
    "promote_types", "result_type", "get_num_threads", "set_num_threads", "onnx", "distributed", *_ops_all,
]  # fmt: skip


def is_floating_point(input: Tensor) -> bool:  # noqa: A002
    return input.is_floating_point()


def numel(input: Tensor) -> int:  # noqa: A002
    return input.numel()
