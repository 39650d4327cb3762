"""Regression losses: mse, l1, smooth_l1, huber, and the Poisson and Gaussian negative log-likelihoods."""

from __future__ import annotations

import math
from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._loss_common import (
    _check_tensors,
    _ops,
    _pointwise_operands,
    _reduce_array,
    _reduce_tensor,
    _reduction,
    _scale,
    _where,
)
from .broadcast import _sum_to, sum_to

# ----- pointwise regression losses ------------------------------------------------------------------


def _diff_derivative(xp: Any, d: Any, kind: str, param: float) -> Any:
    if kind == "mse":
        return 2 * d
    if kind == "l1":
        return xp.sign(d)
    if kind == "smooth_l1":
        return xp.clip(d / param, -1, 1)
    return xp.clip(d, -param, param)


class DiffLoss(Function):
    """mse / l1 / smooth_l1 / huber of ``d = input - target`` (broadcast), with the reduction fused in."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, kind: str, param: float, reduction: str) -> Any:
        xp = ctx.xp
        d = x - y
        if kind == "mse":
            el = d * d
        elif kind == "l1":
            el = xp.abs(d)
        else:
            z = xp.abs(d)
            if kind == "smooth_l1":
                el = xp.where(z < param, 0.5 * z * z / param, z - 0.5 * param)
            else:
                el = xp.where(z < param, 0.5 * z * z, param * (z - 0.5 * param))
        ctx.kind, ctx.param, ctx.reduction, ctx.n = kind, param, reduction, el.size
        ctx.shapes = (x.shape, y.shape)
        ctx.save_for_backward(x, y)
        return _reduce_array(xp, el, reduction)

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        x, y = ctx.saved_arrays
        gd = _diff_derivative(xp, x - y, ctx.kind, ctx.param) * _scale(g, ctx.reduction, ctx.n)
        sx, sy = ctx.shapes
        gx = _sum_to(xp, gd, sx) if ctx.needs_input_grad[0] else None
        gy = _sum_to(xp, -gd, sy) if ctx.needs_input_grad[1] else None
        return gx, gy, None, None, None

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y = ctx.saved_tensors
        d = x - y
        kind, param = ctx.kind, ctx.param
        if kind == "mse":
            dd = d * 2
        elif kind == "l1":
            dd = d.sign()
        elif kind == "smooth_l1":
            # torch's second derivative is 1/beta strictly inside |d| < beta, 0 on and beyond the kink
            dd = _where(d.abs() < param, d / param, d.sign())
        else:
            dd = _where(d.abs() < param, d, d.sign() * param)
        gd = dd * _scale(g, ctx.reduction, ctx.n)
        sx, sy = ctx.shapes
        gx = sum_to(gd, sx) if ctx.needs_input_grad[0] else None
        gy = sum_to(-gd, sy) if ctx.needs_input_grad[1] else None
        return gx, gy, None, None, None


def _diff_loss(op: str, kind: str, input: Tensor, target: Tensor, param: float, reduction: str,  # noqa: A002
               weight: Any = None, weighted_mean: str = "sum") -> Tensor:  # fmt: skip
    _check_tensors(op, input, target)
    input, target = _pointwise_operands(op, input, target, warn=True)  # noqa: A001
    if weight is None:
        return DiffLoss.apply(input, target, kind, param, reduction)
    if weight._data.shape != input._data.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = DiffLoss.apply(input, target, kind, param, "none") * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / weight.sum() if weighted_mean == "sum" else loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def mse_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error (optionally weighted: the weighted mean divides by the sum of weights)."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    return _diff_loss("mse_loss", "mse", input, target, 0.0, reduction, weight)


def l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error (optionally weighted: the weighted mean divides by the sum of weights)."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    return _diff_loss("l1_loss", "l1", input, target, 0.0, reduction, weight)


def smooth_l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Squared error below ``beta`` (divided by ``beta``), absolute error above; ``beta=0`` is l1_loss."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return _diff_loss("l1_loss", "l1", input, target, 0.0, reduction)
    return _diff_loss("smooth_l1_loss", "smooth_l1", input, target, float(beta), reduction)


def huber_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """Squared error below ``delta``, ``delta``-scaled absolute error above (optionally weighted)."""
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _diff_loss("huber_loss", "huber", input, target, float(delta), reduction, weight, weighted_mean="mean")


# ----- negative log-likelihoods ---------------------------------------------------------------------


def poisson_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of a Poisson ``target`` with rate ``exp(input)`` (or ``input``)."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce_tensor(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of ``target`` under a Gaussian of mean ``input`` and variance ``var``."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _ops().full_like(input, float(var))
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim() and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # torch clamps a copy of var under no_grad: the value is clamped, the gradient passes as through identity.
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce_tensor(loss, reduction)


__all__: list[str] = []
FUNCTIONAL = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "poisson_nll_loss", "gaussian_nll_loss"]
TENSOR_METHODS: dict = {}
