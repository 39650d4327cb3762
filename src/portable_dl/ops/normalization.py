"""Normalisation layers as functions: layer_norm, batch_norm, group_norm, instance_norm, rms_norm,
plus normalize, cosine_similarity and pairwise_distance.

The first five share one fused Function (``_Norm``): ``(x - mean) * rstd * weight + bias`` with the
statistics taken over some axes (optionally of a reshaped view, for groups), or given (eval-mode
batch norm). Its array backward is analytic; its Tensor backward recomputes the statistics with
Tensor ops, so second derivatives are exact.
"""

from __future__ import annotations

import math
from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import assign_inplace, cast, check_tensor, result_type, wrap_dim
from .broadcast import _sum_to, broadcast_tensors, sum_to

_NONES = (None,) * 7  # gradients of _Norm's non-tensor arguments


def _count(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _mean(a: Any, axes: tuple, n: int) -> Any:
    """``a.mean(axes, keepdims=True)`` without NumPy's slower mean wrapper."""
    m = a.sum(axis=axes, keepdims=True)
    m /= n
    return m


def _keep_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


class _Norm(Function):
    """``xhat * weight + bias``, ``xhat = (x - mean) * rstd`` over ``axes`` of x viewed as ``stat_shape``.

    ``fixed``: given ``(mean, rstd)`` arrays (no statistics of x, e.g. eval-mode batch norm).
    ``center=False``: RMS normalisation (no mean). ``update(mean, var)`` receives the batch statistics
    (for running averages). ``wshape``: weight and bias reshaped to broadcast against x.
    """

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, weight: Any, bias: Any, stat_shape: Any, axes: tuple, wshape: tuple,
                eps: float, center: bool = True, fixed: Any = None, update: Any = None) -> Any:  # fmt: skip
        xp = ctx.xp
        ctx.cfg = (stat_shape, axes, wshape, eps, center, fixed is not None)
        ctx.bshape = None if bias is None else bias.shape
        xs = x if stat_shape is None else x.reshape(stat_shape)
        if fixed is not None:
            mean, rstd = fixed
            xhat = xs * rstd if mean is None else (xs - mean) * rstd
        elif x.size == 0:
            mean = xp.zeros(_keep_shape(xs.shape, axes), dtype=x.dtype) if center else None
            rstd = xp.ones(_keep_shape(xs.shape, axes), dtype=x.dtype)
            xhat = xs.copy()
        else:
            n = _count(xs.shape, axes)
            if center:
                mean = _mean(xs, axes, n)
                xhat = xs - mean
                var = _mean(xhat * xhat, axes, n)
            else:
                mean = None
                var = _mean(xs * xs, axes, n)
            if update is not None:
                update(mean, var)
            var += eps
            rstd = xp.sqrt(var, out=var)
            rstd = xp.reciprocal(rstd, out=rstd)
            if center:
                xhat *= rstd
            else:
                xhat = xs * rstd
        y = xhat if stat_shape is None else xhat.reshape(x.shape)
        if weight is not None:
            y *= weight.reshape(wshape)
        if bias is not None:
            y += bias.reshape(wshape)
        ctx.save_for_backward(x, weight, mean, rstd)
        return y

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        x, w, mean, rstd = ctx.saved_arrays
        stat_shape, axes, wshape, _, center, fixed = ctx.cfg
        xp = ctx.xp
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xs = x if stat_shape is None else x.reshape(stat_shape)
        xhat = xs * rstd if mean is None else (xs - mean) * rstd
        gx = gw = gb = None
        if need_x:
            gs = g if w is None else g * w.reshape(wshape)
            if stat_shape is not None:
                gs = gs.reshape(stat_shape)
            if fixed:
                gx = gs * rstd
            else:
                n = _count(xs.shape, axes)
                gx = gs - xhat * _mean(gs * xhat, axes, n)
                if center:
                    gx -= _mean(gs, axes, n)
                gx *= rstd
            gx = gx.reshape(x.shape)
        if need_w:
            xh = xhat if stat_shape is None else xhat.reshape(x.shape)
            gw = _sum_to(xp, g * xh, wshape).reshape(w.shape)
        if need_b:
            gb = _sum_to(xp, g, wshape).reshape(ctx.bshape)
        return (gx, gw, gb) + _NONES

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, w, mean, rstd = ctx.saved_tensors
        stat_shape, axes, wshape, eps, center, fixed = ctx.cfg
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xs = x if stat_shape is None else x.reshape(stat_shape)
        if fixed:
            xhat = xs * rstd if mean is None else (xs - mean) * rstd
        else:  # recompute the statistics with Tensor ops: their dependence on x matters for double backward
            xc = xs - xs.mean(axes, keepdim=True) if center else xs
            rstd = ((xc * xc).mean(axes, keepdim=True) + eps) ** -0.5
            xhat = xc * rstd
        gx = gw = gb = None
        if need_x:
            gs = g if w is None else g * _reshape(w, wshape)
            if stat_shape is not None:
                gs = gs.reshape(stat_shape)
            if fixed:
                gx = gs * rstd
            else:
                gx = gs - xhat * (gs * xhat).mean(axes, keepdim=True)
                if center:
                    gx = gx - gs.mean(axes, keepdim=True)
                gx = gx * rstd
            if stat_shape is not None:
                gx = gx.reshape(x.shape)
        if need_w:
            xh = xhat if stat_shape is None else xhat.reshape(x.shape)
            gw = _reshape(sum_to(g * xh, wshape), w.shape)
        if need_b:
            gb = _reshape(sum_to(g, wshape), ctx.bshape)
        return (gx, gw, gb) + _NONES


def _reshape(t: Tensor, shape: tuple) -> Tensor:
    return t if tuple(t.shape) == tuple(shape) else t.reshape(shape)


def _check_float(input: Tensor, name: str) -> None:  # noqa: A002
    check_tensor(input, name)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"{name}: not implemented for {input.dtype} input; expected a floating point tensor")


def _check_params(input: Tensor, name: str, **params: Any) -> None:  # noqa: A002
    for pname, p in params.items():
        if p is not None and p._data.dtype != input._data.dtype:
            raise RuntimeError(
                f"{name}: expected {pname} to have the same dtype as input ({input.dtype}), but got {p.dtype}"
            )


def _half_wrap(fn: Any, input: Tensor, *params: Any) -> Any:  # noqa: A002
    """Run a float16 normalisation in float32 (as torch's CPU kernels accumulate), result in float16."""
    up = [None if p is None else cast(p, _dtype.float32) for p in params]
    return cast(fn(cast(input, _dtype.float32), *up), _dtype.float16)


def _normalized_axes(input: Tensor, normalized_shape: Any, name: str) -> tuple:  # noqa: A002
    if isinstance(normalized_shape, int) or not hasattr(normalized_shape, "__len__"):
        raise TypeError(
            f"{name}(): argument 'normalized_shape' (position 2) must be tuple of ints, "
            f"not {type(normalized_shape).__name__}"
        )
    shape = tuple(int(s) for s in normalized_shape)
    k = len(shape)
    ishape = tuple(input._data.shape)
    if k == 0 and name == "layer_norm":
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, "
            "but got normalized_shape = []"
        )
    if len(ishape) < k or ishape[len(ishape) - k :] != shape:
        sep = ", " if name == "layer_norm" else ""
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*{sep}{', '.join(str(s) for s in shape)}], but got input of size{list(ishape)}"
        )
    return shape, tuple(range(len(ishape) - k, len(ishape)))


def _check_shaped(p: Any, shape: tuple, what: str) -> None:
    if p is not None and tuple(p._data.shape) != shape:
        raise RuntimeError(
            f"Expected {what} to be of same shape as normalized_shape, but got {what} of shape "
            f"{list(p._data.shape)} and normalized_shape = {list(shape)}"
        )


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,  # noqa: A002
               eps: float = 1e-5, cudnn_enable: bool = True) -> Tensor:  # fmt: skip
    """Normalise over the trailing ``normalized_shape`` dims, then scale by weight and shift by bias."""
    _check_float(input, "layer_norm")
    shape, axes = _normalized_axes(input, normalized_shape, "layer_norm")
    _check_shaped(weight, shape, "weight")
    _check_shaped(bias, shape, "bias")
    if input._data.dtype.kind == "f" and input._data.dtype.itemsize == 2:
        return _half_wrap(lambda x, w, b: layer_norm(x, shape, w, b, eps), input, weight, bias)
    _check_params(input, "layer_norm", weight=weight, bias=bias)
    return _Norm.apply(input, weight, bias, None, axes, shape, float(eps))


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,  # noqa: A002
             eps: float | None = None) -> Tensor:  # fmt: skip
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dims (no centring, no bias)."""
    _check_float(input, "rms_norm")
    shape, axes = _normalized_axes(input, normalized_shape, "rms_norm")
    _check_shaped(weight, shape, "weight")
    if eps is None:
        eps = float(input._backend.xp.finfo(input._data.dtype).eps)
    if input._data.dtype.itemsize == 2:
        return _half_wrap(lambda x, w: rms_norm(x, shape, w, eps), input, weight)
    _check_params(input, "rms_norm", weight=weight)
    if not axes:
        return input if weight is None else input * weight
    return _Norm.apply(input, weight, None, None, axes, shape, float(eps), False)


def _channel_checks(input: Tensor, name: str, **params: Any) -> int:  # noqa: A002
    if input._data.ndim < 2:
        raise RuntimeError(
            f"{name}: expected input of shape (N, C, *) with at least 2 dims, got shape {list(input._data.shape)}"
        )
    c = input._data.shape[1]
    for pname, p in params.items():
        if p is not None and p._data.size != c:
            raise RuntimeError(f"{pname} should contain {c} elements not {p._data.size}")
    return c


def _fixed_stats(input: Tensor, mean: Tensor, var: Tensor, wshape: tuple, eps: float) -> tuple:  # noqa: A002
    xp = input._backend.xp
    dt = input._data.dtype
    m = mean._data.reshape(wshape).astype(dt)
    rstd = (1.0 / xp.sqrt(var._data.reshape(wshape).astype(dt) + eps)).astype(dt)
    return m, rstd


def _running_update(running_mean: Any, running_var: Any, momentum: float, n: int, c: int, batch_axis: bool) -> Any:
    """A callback for ``_Norm``: fold batch statistics into the running averages, in place (unbiased var)."""
    if running_mean is None and running_var is None:
        return None
    correction = n / (n - 1) if n > 1 else float("nan")

    def update(mean: Any, var: Any) -> None:
        if running_mean is not None:
            m = mean.reshape(-1, c).mean(axis=0) if batch_axis else mean.reshape(c)
            data = running_mean._data
            data[...] = data * (1 - momentum) + m * momentum
        if running_var is not None:
            v = (var.reshape(-1, c).mean(axis=0) if batch_axis else var.reshape(c)) * correction
            data = running_var._data
            data[...] = data * (1 - momentum) + v * momentum

    return update


def _running_stats_norm(name: str, input: Tensor, running_mean: Any, running_var: Any,  # noqa: A002
                        weight: Any, bias: Any, use_input_stats: bool, momentum: float, eps: float,
                        c: int, n: int, per_sample: bool) -> Tensor:  # fmt: skip
    """The shared end of batch_norm and instance_norm (``per_sample``): normalise each channel with the running
    statistics, or with the input's own over the batch (or per sample) and spatial dims, ``n`` values each,
    folding those into the running averages."""
    _check_params(input, name, weight=weight, bias=bias)
    nd = input._data.ndim
    wshape = (c,) + (1,) * (nd - 2)
    if not use_input_stats:
        fixed = _fixed_stats(input, running_mean, running_var, wshape, eps)
        return _Norm.apply(input, weight, bias, None, (), wshape, float(eps), True, fixed)
    axes = tuple(range(2, nd)) if per_sample else (0, *range(2, nd))
    update = _running_update(running_mean, running_var, momentum, n, c, per_sample)
    return _Norm.apply(input, weight, bias, None, axes, wshape, float(eps), True, None, update)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:  # fmt: skip
    """Batch normalisation over (N, C, *) inputs: batch statistics (and running-average updates, in place)
    when ``training``, else the running statistics."""
    _check_float(input, "batch_norm")
    if momentum is None:
        raise TypeError("batch_norm(): argument 'momentum' must be float, not NoneType")
    c = _channel_checks(input, "batch_norm", running_mean=running_mean, running_var=running_var,
                        weight=weight, bias=bias)  # fmt: skip
    n = input._data.size // c if c else 0
    if training and n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.size()}")
    if not training:
        for name, t in (("running_mean", running_mean), ("running_var", running_var)):
            if t is None:
                raise RuntimeError(f"{name} must be defined in evaluation mode")
    if input._data.dtype.itemsize == 2:

        def run(x: Tensor, w: Any, b: Any) -> Tensor:
            return batch_norm(x, running_mean, running_var, w, b, training, momentum, eps)

        return _half_wrap(run, input, weight, bias)
    return _running_stats_norm("batch_norm", input, running_mean, running_var, weight, bias, training, momentum, eps,
                               c, n, False)  # fmt: skip


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,  # noqa: A002
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:  # fmt: skip
    """Normalise each (sample, channel) over its spatial dims; running stats are averaged over the batch."""
    _check_float(input, "instance_norm")
    c = _channel_checks(input, "instance_norm", running_mean=running_mean, running_var=running_var,
                        weight=weight, bias=bias)  # fmt: skip
    shape = input._data.shape
    spatial = math.prod(shape[2:])
    if use_input_stats and spatial == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.size()}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    if input._data.dtype.itemsize == 2:

        def run(x: Tensor, w: Any, b: Any) -> Tensor:
            return instance_norm(x, running_mean, running_var, w, b, use_input_stats, momentum, eps)

        return _half_wrap(run, input, weight, bias)
    return _running_stats_norm("instance_norm", input, running_mean, running_var, weight, bias, use_input_stats,
                               momentum, eps, c, spatial, True)  # fmt: skip


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,  # noqa: A002
               eps: float = 1e-5, cudnn_enabled: bool = True) -> Tensor:  # fmt: skip
    """Normalise each sample over groups of ``C // num_groups`` channels (and all spatial positions)."""
    _check_float(input, "group_norm")
    shape = tuple(input._data.shape)
    if len(shape) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {len(shape)}")
    c = shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(shape)} and num_groups={num_groups}"
        )
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and (p._data.ndim != 1 or p._data.size != c):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, but got "
                f"{name} of shape {list(p._data.shape)} and input of shape {list(shape)}"
            )
    if input._data.dtype.itemsize == 2:
        return _half_wrap(lambda x, w, b: group_norm(x, num_groups, w, b, eps), input, weight, bias)
    _check_params(input, "group_norm", weight=weight, bias=bias)
    stat_shape = (shape[0], num_groups, (c // num_groups) * math.prod(shape[2:]))
    wshape = (c,) + (1,) * (len(shape) - 2)
    return _Norm.apply(input, weight, bias, stat_shape, (2,), wshape, float(eps))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out: Tensor | None = None) -> Tensor:  # fmt: skip
    """``input / max(||input||_p, eps)`` along ``dim``."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps)
    result = input / denom
    if out is not None:
        return assign_inplace(out, result, "normalize")
    return result


class _ClampStraight(Function):
    """``max(x, lo)`` whose gradient passes straight through (torch clamps the norms under no_grad)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, lo: float) -> Any:
        return ctx.xp.maximum(x, x.dtype.type(lo))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return g, None

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        return g, None


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (broadcasting), norms clamped at ``eps``."""
    dt = result_type(x1, x2)
    if not dt.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {dt}")
    x1, x2 = broadcast_tensors(cast(x1, dt), cast(x2, dt))
    dim = wrap_dim(dim, x1._data.ndim, "cosine_similarity")
    n1 = _ClampStraight.apply(x1.norm(2, dim, keepdim=True), eps)
    n2 = _ClampStraight.apply(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim (of the broadcast shape)."""
    ndim = max(x1.ndim if isinstance(x1, Tensor) else 0, x2.ndim if isinstance(x2, Tensor) else 0)
    return (x1 - x2 + eps).norm(p, ndim - 1 if ndim else -1, keepdim=keepdim)


__all__ = ["layer_norm", "rms_norm", "group_norm", "cosine_similarity", "pairwise_distance"]
FUNCTIONAL = [
    "layer_norm", "rms_norm", "batch_norm", "instance_norm", "group_norm", "normalize",
    "cosine_similarity", "pairwise_distance",
]  # fmt: skip
TENSOR_METHODS: dict = {}
