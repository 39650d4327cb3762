"""Adamax (``torch.optim.Adamax``): Adam with the infinity norm."""

from __future__ import annotations

from typing import Any

from ..tensor import _bump_version
from .adam import _check
from .optimizer import Optimizer, _add_to_scalar, _lerp_, _scalar, _zeros_like

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax with weight decay and maximization."""

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check(lr, eps, betas, weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        for p in group["params"]:
            if p.grad is None:
                continue
            xp = p._backend.xp
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar(p, 0.0)
                state["exp_avg"] = _zeros_like(p)
                state["exp_inf"] = _zeros_like(p)
            grad = self._grad_of(p, group["maximize"])
            step = _add_to_scalar(state["step"], 1)
            if group["weight_decay"] != 0:
                grad = grad + group["weight_decay"] * p._data
            exp_avg = state["exp_avg"]._data
            exp_inf = state["exp_inf"]._data
            _lerp_(xp, exp_avg, grad, 1 - beta1)
            exp_inf *= beta2
            xp.maximum(exp_inf, xp.abs(grad) + eps, out=exp_inf)
            clr = lr / (1 - beta1**step)
            p._data += -clr * (exp_avg / exp_inf)
            _bump_version(p)
