"""Adadelta (``torch.optim.Adadelta``)."""

from __future__ import annotations

from typing import Any

from ..tensor import _bump_version
from .optimizer import Optimizer, _add_to_scalar, _scalar, _zeros_like

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta with weight decay and maximization."""

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr,
            rho=rho,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,
            foreach=foreach,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        rho = group["rho"]
        eps = group["eps"]
        for p in group["params"]:
            if p.grad is None:
                continue
            xp = p._backend.xp
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar(p, 0.0)
                state["square_avg"] = _zeros_like(p)
                state["acc_delta"] = _zeros_like(p)
            _add_to_scalar(state["step"], 1)
            grad = self._grad_of(p, group["maximize"])
            if group["weight_decay"] != 0:
                grad = grad + group["weight_decay"] * p._data
            square_avg = state["square_avg"]._data
            acc_delta = state["acc_delta"]._data
            square_avg *= rho
            square_avg += (1 - rho) * grad * grad
            std = xp.sqrt(square_avg + eps)
            delta = xp.sqrt(acc_delta + eps)
            delta /= std
            delta *= grad
            acc_delta *= rho
            acc_delta += (1 - rho) * delta * delta
            p._data -= lr * delta
            _bump_version(p)
