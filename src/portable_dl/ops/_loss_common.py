"""Helpers shared by the loss modules: reduction arguments, operand checks and casts."""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

from ..autograd.grad_mode import state
from ..tensor import Tensor
from ._common import cast, check_tensor, result_type
from .broadcast import broadcast_shapes

# The losses training loops lean on (cross_entropy, nll_loss, binary_cross_entropy[_with_logits],
# mse/l1/smooth_l1/huber, kl_div, soft_margin) are single Functions: one forward over arrays with the
# reduction fused in, a ``backward_arrays`` fast path, and a ``backward`` written with Tensor ops so that
# it is differentiable again (double backward). The rarer losses are compositions of Tensor ops, as in torch.


_TORCH_NAMES = {
    "float16": "Half", "float32": "Float", "float64": "Double", "bfloat16": "BFloat16", "int8": "Char",
    "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool",
}  # fmt: skip


def _tname(array: Any) -> str:
    name = array.dtype.name
    return _TORCH_NAMES.get(name, name)


def _quiet(xp: Any) -> Any:
    """Silence NumPy's floating-point warnings (torch gives inf/nan without a word)."""
    errstate = getattr(xp, "errstate", None)
    return errstate(all="ignore") if errstate is not None else contextlib.nullcontext()


# ----- reductions ----------------------------------------------------------------------------------


def _reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    """torch's rules: the legacy ``size_average``/``reduce`` pair overrides ``reduction`` (with a warning)."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
            stacklevel=3,
        )
        return reduction
    if reduction in ("mean", "sum", "none"):
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=3)
        return "mean"
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce_array(xp: Any, el: Any, reduction: str) -> Any:
    if reduction == "none":
        return el
    if reduction == "sum":
        return xp.asarray(el.sum())
    if el.size == 0:
        return xp.full((), float("nan"), dtype=el.dtype)
    return xp.asarray(el.mean())


def _reduce_tensor(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


def _scale(g: Any, reduction: str, n: int, weight: Any = None) -> Any:
    """The cotangent of each element of a reduced loss (a 0-d value for mean/sum: it broadcasts), times the
    per-element ``weight`` if there is one (arrays or Tensors)."""
    s = g / n if reduction == "mean" and n else g
    return s if weight is None else s * weight


def _check_tensors(op: str, input: Any, target: Any) -> None:  # noqa: A002 - torch argument name
    """torch's TypeError when ``input`` (position 1) or ``target`` (position 2) is not a Tensor."""
    check_tensor(input, op)
    check_tensor(target, op, "target", 2)


def _no_grad_for(weight: Any, op: str, name: str) -> None:
    if weight is not None and weight.requires_grad and state.enabled:
        raise RuntimeError(
            f"The function '{op}' is not differentiable with respect to argument '{name}'. "
            "This input cannot have requires_grad True."
        )


def _float_operands(op: str, *tensors: Tensor) -> list:
    """Cast the operands of a pointwise loss to their promoted floating dtype (torch's promotion)."""
    dt = result_type(*tensors)
    if not dt.is_floating_point:
        raise NotImplementedError(f"\"{op}\" not implemented for '{_tname(tensors[0]._data)}'")
    return [cast(t, dt) for t in tensors]


def _pointwise_operands(op: str, input: Tensor, target: Tensor, warn: bool = False) -> tuple:  # noqa: A002
    """``input`` and ``target`` of a pointwise loss: checked to broadcast (with torch's size warning when
    ``warn``), cast to their promoted floating dtype."""
    if target._data.shape != input._data.shape:
        if warn:
            warnings.warn(
                f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
                "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same "
                "size.",
                stacklevel=4,
            )
        broadcast_shapes(input._data.shape, target._data.shape)
    if input._data.dtype != target._data.dtype or input._data.dtype.kind != "f":
        input, target = _float_operands(op, input, target)  # noqa: A001
    return input, target


def _ops() -> Any:
    from .. import ops

    return ops


def _where(condition: Tensor, a: Any, b: Any) -> Tensor:
    return _ops().where(condition, a, b)
