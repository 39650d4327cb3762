"""Binary and multi-label logistic losses: binary_cross_entropy[_with_logits], (multilabel_)soft_margin_loss."""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._loss_common import (
    _check_tensors,
    _float_operands,
    _no_grad_for,
    _pointwise_operands,
    _quiet,
    _reduce_array,
    _reduce_tensor,
    _reduction,
    _scale,
    _tname,
)
from .broadcast import _sum_to, broadcast_shapes, sum_to

# ----- binary cross-entropy -------------------------------------------------------------------------


class BinaryCrossEntropyWithLogits(Function):
    """``-w [pos_weight * y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x))]``, stable for any logit."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, weight: Any, pos_weight: Any, reduction: str) -> Any:
        xp = ctx.xp
        log_sig = xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))
        if pos_weight is None:
            el = (1 - y) * x - log_sig
        else:
            el = (1 - y) * x - ((pos_weight - 1) * y + 1) * log_sig
        if weight is not None:
            el = el * weight
        ctx.reduction, ctx.n = reduction, el.size
        ctx.save_for_backward(x, y, weight, pos_weight, log_sig)
        return _reduce_array(xp, el, reduction)

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        x, y, weight, pos_weight, log_sig = ctx.saved_arrays
        s = _scale(g, ctx.reduction, ctx.n, weight)
        need_x, need_y = ctx.needs_input_grad[:2]
        gx = gy = None
        if need_x:
            gx = _sum_to(xp, _bce_logits_dx(xp.exp(log_sig), y, pos_weight, s), x.shape)
        if need_y:
            gy = -x if pos_weight is None else -x - (pos_weight - 1) * log_sig
            gy = _sum_to(xp, gy * s, y.shape)
        return gx, gy, None, None, None

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y, weight, pos_weight, _ = ctx.saved_tensors
        s = _scale(g, ctx.reduction, ctx.n, weight)
        need_x, need_y = ctx.needs_input_grad[:2]
        gx = gy = None
        if need_x:
            gx = sum_to(_bce_logits_dx(x.sigmoid(), y, pos_weight, s), x.shape)
        if need_y:
            gy = -x if pos_weight is None else -x - (pos_weight - 1) * _logsigmoid(x)
            gy = sum_to(gy * s, y.shape)
        return gx, gy, None, None, None


def _bce_logits_dx(sig: Any, y: Any, pos_weight: Any, s: Any) -> Any:
    """The gradient of binary_cross_entropy_with_logits in the logits, from ``sig = sigmoid(x)`` and the
    scaled cotangent ``s`` (arrays or Tensors)."""
    if pos_weight is None:
        return (sig - y) * s
    py = pos_weight * y
    return ((py + 1 - y) * sig - py) * s


def _logsigmoid(x: Tensor) -> Tensor:
    from .activation import logsigmoid

    return logsigmoid(x)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy on logits (log-sigmoid computed stably), with per-element and positive weights."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    _check_tensors("binary_cross_entropy_with_logits", input, target)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    if target._data.dtype.kind != "f" and input._data.dtype.kind == "f":
        raise RuntimeError(
            f"result type {_tname(input._data)} can't be cast to the desired output type {_tname(target._data)}"
        )
    _no_grad_for(weight, "binary_cross_entropy_with_logits", "weight")
    _no_grad_for(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    shape = input._data.shape
    for w in (weight, pos_weight):
        if w is not None and w._data.shape != shape:
            full = broadcast_shapes(shape, w._data.shape)
            if full != shape:
                raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape {list(full)}")
    if input._data.dtype != target._data.dtype:
        input, target = _float_operands("binary_cross_entropy_with_logits", input, target)  # noqa: A001
    dt = input._data.dtype
    if weight is not None and weight._data.dtype != dt:
        weight = weight.to(input.dtype)
    if pos_weight is not None and pos_weight._data.dtype != dt:
        pos_weight = pos_weight.to(input.dtype)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


class BinaryCrossEntropy(Function):
    """``-w [y log(x) + (1 - y) log(1 - x)]`` on probabilities, each log clamped at -100 as in torch."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, weight: Any, reduction: str) -> Any:
        xp = ctx.xp
        with _quiet(xp):
            if x.size and not bool(((x >= 0) & (x <= 1)).all()):
                raise RuntimeError("all elements of input should be between 0 and 1")
            if y.size and not bool(((y >= 0) & (y <= 1)).all()):
                raise RuntimeError("all elements of target should be between 0 and 1")
            el = (y - 1) * xp.maximum(xp.log1p(-x), -100) - y * xp.maximum(xp.log(x), -100)
        if weight is not None:
            el = el * weight
        ctx.reduction, ctx.n = reduction, el.size
        ctx.save_for_backward(x, y, weight)
        return _reduce_array(xp, el, reduction)

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        x, y, weight = ctx.saved_arrays
        s = _scale(g, ctx.reduction, ctx.n, weight)
        gx = gy = None
        with _quiet(xp):
            if ctx.needs_input_grad[0]:
                gx = (x - y) / xp.maximum((1 - x) * x, 1e-12) * s
            if ctx.needs_input_grad[1]:
                gy = (xp.log1p(-x) - xp.log(x)) * s
        return gx, gy, None, None

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y, weight = ctx.saved_tensors
        s = _scale(g, ctx.reduction, ctx.n, weight)
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = (x - y) / ((1 - x) * x).clamp(min=1e-12) * s
        if ctx.needs_input_grad[1]:
            gy = ((-x).log1p() - x.log()) * s
        return gx, gy, None, None


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy between probabilities ``input`` and ``target`` (logs clamped at -100)."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    _check_tensors("binary_cross_entropy", input, target)
    if target._data.shape != input._data.shape:
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}) is "
            "deprecated. Please ensure they have the same size."
        )
    x = input._data
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"binary_cross_entropy\" not implemented for '{_tname(x)}'")
    if target._data.dtype != x.dtype:
        raise RuntimeError(f"Found dtype {_tname(target._data)} but expected {_tname(x)}")
    if weight is not None:
        _no_grad_for(weight, "binary_cross_entropy", "weight")
        if weight._data.shape != x.shape and broadcast_shapes(x.shape, weight._data.shape) != x.shape:
            raise RuntimeError(
                f"binary_cross_entropy: weight of shape {list(weight.shape)} does not broadcast to the input "
                f"shape {list(x.shape)}"
            )
        if weight._data.dtype != x.dtype:
            weight = weight.to(input.dtype)
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


# ----- soft margin: the logistic loss on {1, -1} targets --------------------------------------------


class SoftMarginLoss(Function):
    """``log(1 + exp(-target * input))`` with the reduction fused in."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, reduction: str) -> Any:
        xp = ctx.xp
        with _quiet(xp):
            el = xp.log1p(xp.exp(-y * x))
        ctx.reduction, ctx.n, ctx.shapes = reduction, el.size, (x.shape, y.shape)
        ctx.save_for_backward(x, y)
        return _reduce_array(xp, el, reduction)

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        x, y = ctx.saved_arrays
        with _quiet(xp):
            z = xp.exp(-y * x)
            r = z / (1 + z) * _scale(g, ctx.reduction, ctx.n)
        sx, sy = ctx.shapes
        gx = _sum_to(xp, -y * r, sx) if ctx.needs_input_grad[0] else None
        gy = _sum_to(xp, -x * r, sy) if ctx.needs_input_grad[1] else None
        return gx, gy, None

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y = ctx.saved_tensors
        z = (-y * x).exp()
        r = z / (z + 1) * _scale(g, ctx.reduction, ctx.n)
        sx, sy = ctx.shapes
        gx = sum_to(-y * r, sx) if ctx.needs_input_grad[0] else None
        gy = sum_to(-x * r, sy) if ctx.needs_input_grad[1] else None
        return gx, gy, None


def soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target * input))`` for targets in {1, -1}."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    _check_tensors("soft_margin_loss", input, target)
    _no_grad_for(target, "soft_margin_loss", "target")
    input, target = _pointwise_operands("soft_margin_loss", input, target)  # noqa: A001
    return SoftMarginLoss.apply(input, target, reduction)


def multilabel_soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Per-class logistic loss averaged over the classes (last dim)."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * _logsigmoid(input) + (1 - target) * _logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    return _reduce_tensor(loss, reduction)


__all__: list[str] = []
FUNCTIONAL = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "soft_margin_loss", "multilabel_soft_margin_loss",
]  # fmt: skip
TENSOR_METHODS: dict = {}
