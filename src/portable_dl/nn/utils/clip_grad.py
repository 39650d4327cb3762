"""Gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``), in place on the gradient arrays."""

from __future__ import annotations

import contextlib
import types
import warnings
from collections.abc import Iterable
from typing import Any

from ...tensor import Tensor, _bump_version

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]


def _as_list(tensors: Any) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(xp: Any, a: Any, norm_type: float) -> Any:
    """The ``norm_type``-norm of the array ``a`` viewed as a vector, a 0-d array in ``a``'s dtype."""
    flat = a.reshape(-1)
    if flat.size == 0:
        return xp.zeros((), dtype=a.dtype)
    if norm_type == float("inf"):
        return xp.abs(flat).max()
    if norm_type == float("-inf"):
        return xp.abs(flat).min()
    if norm_type == 0:
        return xp.asarray(xp.count_nonzero(flat), dtype=a.dtype)
    if norm_type == 2:
        return xp.sqrt(xp.sum(flat * flat))
    if norm_type == 1:
        return xp.sum(xp.abs(flat))
    return xp.sum(xp.abs(flat) ** norm_type) ** (1.0 / norm_type)


def _scalar(value: float) -> Tensor:
    from ...ops.creation import tensor

    return tensor(value)


def get_total_norm(
    tensors: Any, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach: bool | None = None
) -> Tensor:
    """The norm of the norms of ``tensors`` (the norm of all of them viewed as one vector)."""
    tensors = [t for t in _as_list(tensors) if t is not None]
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return _scalar(0.0)
    first = tensors[0]
    backend = first._backend
    xp = backend.xp
    norms = []
    for t in tensors:
        n = _vector_norm(t._backend.xp, t._data, norm_type)
        if t._backend is not backend:
            n = backend.asarray(t._backend.to_numpy(n))
        norms.append(n.astype(first._data.dtype, copy=False))
    total = _vector_norm(xp, xp.stack(norms), norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from "
            "`parameters` is non-finite, so it cannot be clipped. To disable "
            "this error and scale the gradients by the non-finite norm anyway, "
            "set `error_if_nonfinite=False`"
        )
    return Tensor._wrap(xp.asarray(total), backend)


def _scale_in_place(g: Tensor, factor: Any) -> None:
    errstate = getattr(g._backend.xp, "errstate", None)  # inf * 0 -> nan silently, as in torch
    with errstate(invalid="ignore") if errstate is not None else contextlib.nullcontext():
        if g._backend.writeable(g._data):
            g._data *= factor
        else:
            g._data = g._data * factor
    _bump_version(g)


def clip_grads_with_norm_(parameters: Any, max_norm: float, total_norm: Tensor, foreach: bool | None = None) -> None:
    """Scale the gradients by ``min(1, max_norm / (total_norm + 1e-6))``."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    xp = total_norm._backend.xp
    coef = xp.minimum(max_norm / (total_norm._data + 1e-6), 1.0)
    for g in grads:
        factor = coef if g._backend is total_norm._backend else g._backend.asarray(total_norm._backend.to_numpy(coef))
        _scale_in_place(g, factor.astype(g._data.dtype, copy=False))


def clip_grad_norm_(
    parameters: Any,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale the gradients in place so that their total ``norm_type``-norm is at most ``max_norm``;
    returns the total norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient in place to ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        g = p.grad
        if g is None:
            continue
        xp = g._backend.xp
        if g._backend.writeable(g._data):
            xp.clip(g._data, -clip_value, clip_value, out=g._data)
        else:
            g._data = xp.clip(g._data, -clip_value, clip_value)
        _bump_version(g)
