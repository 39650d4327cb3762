"""Dropout: elementwise (``dropout``), channel-wise (``dropout1d/2d/3d``, ``feature_dropout``) and the
SELU-preserving ``alpha_dropout`` variants. Masks come from the device's generator (``manual_seed``)."""

from __future__ import annotations

import math
import warnings
from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import assign_inplace, check_tensor

_ALPHA = 1.7580993408473766  # -SELU scale * alpha: the value alpha dropout drops to


class _Dropout(Function):
    """``x * noise (+ b)`` with ``noise = bernoulli(1 - p) / (1 - p)`` of shape ``noise_shape`` (broadcast)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, p: float, noise_shape: tuple, alpha: bool) -> Any:
        xp = ctx.xp
        dt = x.dtype
        if p == 1:
            noise = xp.zeros(noise_shape, dtype=dt)
            ctx.save_for_backward(noise)
            return x * noise
        keep = ctx.backend.generator().random(noise_shape, dtype=xp.float32) >= p
        noise = keep.astype(dt)
        if not alpha:
            noise /= dt.type(1 - p)
            ctx.save_for_backward(noise)
            return x * noise
        a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        b = (noise - 1) * dt.type(_ALPHA * a) + dt.type(_ALPHA * a * p)
        noise *= dt.type(a)
        ctx.save_for_backward(noise)
        out = x * noise
        out += b
        return out

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        (noise,) = ctx.saved_tensors
        return g * noise, None, None, None

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        (noise,) = ctx.saved_arrays
        return g * noise, None, None, None


def _check_p(p: Any) -> float:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _run(input: Tensor, p: Any, training: bool, inplace: bool, noise_shape: Any, alpha: bool,  # noqa: A002
         name: str) -> Tensor:  # fmt: skip
    check_tensor(input, name)
    p = _check_p(p)
    if not training or p == 0 or input._data.size == 0:
        return input
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}")
    result = _Dropout.apply(input, p, noise_shape or input._data.shape, alpha)
    if inplace:
        return assign_inplace(input, result, name + "_")
    return result


def _run_channels(input: Tensor, p: float, training: bool, inplace: bool, batched: bool, alpha: bool,  # noqa: A002
                  name: str) -> Tensor:  # fmt: skip
    """Channel-wise dropout: one mask value per (sample and) channel, shared over the remaining dims."""
    shape = input._data.shape
    lead = 2 if batched else 1
    if len(shape) < lead:
        raise RuntimeError(f"{name}: Feature dropout requires at least 2 dimensions in the input")
    return _run(input, p, training, inplace, shape[:lead] + (1,) * (len(shape) - lead), alpha, name)


def _warn_deprecated_dims(name: str, ndim: int, spatial: int) -> None:
    warnings.warn(
        f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result in an error "
        "in a future release. To retain the behavior and silence this warning, please use dropout instead. "
        f"Note that {name} exists to provide channel-wise dropout on inputs with {spatial} spatial dimensions, a "
        f"channel dimension, and an optional batch dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).",
        stacklevel=3,
    )


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *,  # noqa: A002
            train: Any = None) -> Tensor:  # fmt: skip
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (identity in eval)."""
    if train is not None:
        training = train
    return _run(input, p, training, inplace, None, False, "dropout")


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False, *,  # noqa: A002
                  train: Any = None) -> Tensor:  # fmt: skip
    """Dropout that keeps SELU's self-normalising mean and variance (dropped values go to -alpha*scale)."""
    if train is not None:
        training = train
    return _run(input, p, training, inplace, None, True, "alpha_dropout")


def feature_dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *,  # noqa: A002
                    train: Any = None) -> Tensor:  # fmt: skip
    """Channel-wise dropout of an (N, C, *) input: whole channels are zeroed together."""
    if train is not None:
        training = train
    _check_p(p)
    return _run_channels(input, p, training, inplace, True, False, "feature_dropout")


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False, *,  # noqa: A002
                          train: Any = None) -> Tensor:  # fmt: skip
    """Channel-wise alpha dropout of an (N, C, *) input."""
    if train is not None:
        training = train
    _check_p(p)
    return _run_channels(input, p, training, inplace, True, True, "feature_alpha_dropout")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Channel-wise dropout for (N, C, L) or unbatched (C, L) inputs."""
    _check_p(p)
    ndim = input.ndim
    if ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs)."
        )
    return _run_channels(input, p, training, inplace, ndim == 3, False, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Channel-wise dropout for (N, C, H, W) inputs (and, as torch does, (N, C, L) for 3-D inputs)."""
    _check_p(p)
    ndim = input.ndim
    if ndim not in (3, 4):
        _warn_deprecated_dims("dropout2d", ndim, 2)
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _run_channels(input, p, training, inplace, True, False, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Channel-wise dropout for (N, C, D, H, W) or unbatched (C, D, H, W) inputs."""
    _check_p(p)
    ndim = input.ndim
    if ndim not in (4, 5):
        _warn_deprecated_dims("dropout3d", ndim, 3)
    return _run_channels(input, p, training, inplace, ndim == 5, False, "dropout3d")


def _inplace_variant(fn: Any, name: str) -> Any:
    def op(input: Tensor, p: float, train: bool) -> Tensor:  # noqa: A002
        return fn(input, p, train, inplace=True)

    op.__name__ = name
    return op


dropout_ = _inplace_variant(dropout, "dropout_")
alpha_dropout_ = _inplace_variant(alpha_dropout, "alpha_dropout_")
feature_dropout_ = _inplace_variant(feature_dropout, "feature_dropout_")
feature_alpha_dropout_ = _inplace_variant(feature_alpha_dropout, "feature_alpha_dropout_")

__all__ = [
    "dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout",
    "dropout_", "alpha_dropout_", "feature_dropout_", "feature_alpha_dropout_",
]  # fmt: skip
FUNCTIONAL = ["dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d"]
TENSOR_METHODS: dict = {}
