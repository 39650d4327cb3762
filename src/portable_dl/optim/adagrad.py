"""Adagrad (``torch.optim.Adagrad``)."""

from __future__ import annotations

from typing import Any

from ..tensor import _bump_version
from .optimizer import Optimizer, _add_to_scalar, _full_like, _scalar

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad with learning-rate decay, an initial accumulator value, weight decay and maximization."""

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)
        # Like torch, the state is created eagerly at construction.
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _scalar(p, 0.0)
                state["sum"] = _full_like(p, group["initial_accumulator_value"])

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        for p in group["params"]:
            if p.grad is None:
                continue
            xp = p._backend.xp
            state = self.state[p]
            step = _add_to_scalar(state["step"], 1)
            grad = self._grad_of(p, group["maximize"])
            if group["weight_decay"] != 0:
                grad = grad + group["weight_decay"] * p._data
            clr = lr / (1 + (step - 1) * group["lr_decay"])
            state_sum = state["sum"]._data
            state_sum += grad * grad
            std = xp.sqrt(state_sum) + group["eps"]
            p._data += -clr * (grad / std)
            _bump_version(p)
