"""Margin, ranking and embedding losses: multi_margin, margin_ranking, hinge/cosine embedding, triplet."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from ._loss_common import _ops, _reduce_tensor, _reduction, _tname, _where
from .broadcast import broadcast_shapes


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} "
        )
    return _reduce_tensor((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``input`` where target is 1, ``max(0, margin - input)`` where it is -1."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    zero = input.new_zeros(())
    output_margin = _where(target != 1, (margin - input).clamp(min=0), zero)
    output_self = _where(target != -1, input, zero)
    return _reduce_tensor(output_margin + output_self, reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos(x1, x2) - margin)`` where it is -1."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    targ_dim = target.dim()
    if targ_dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if targ_dim == 1 and (input1.dim() != 2 or input2.dim() != 2):
        raise RuntimeError(
            f"1D target tensor expects 2D input tensors, but found inputs with sizes {list(input1.shape)} and "
            f"{list(input2.shape)}."
        )
    if targ_dim == 0 and (input1.dim() != 1 or input2.dim() != 1):
        raise RuntimeError(
            f"0D target tensor expects 1D input tensors, but found inputs with sizes {list(input1.shape)} and "
            f"{list(input2.shape)}."
        )
    if input1.shape != input2.shape:
        broadcast_shapes(input1._data.shape, input2._data.shape)
    eps = 1e-12
    dim = targ_dim
    prod_sum = (input1 * input2).sum(dim)
    mag_square1 = (input1 * input1).sum(dim) + eps
    mag_square2 = (input2 * input2).sum(dim) + eps
    cos = prod_sum / (mag_square1 * mag_square2).sqrt()
    zero = cos.new_zeros(())
    pos = _where(target == 1, 1 - cos, zero)
    neg = _where(target == -1, (cos - margin).clamp(min=0), zero)
    return _reduce_tensor(pos + neg, reduction)


def multi_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss: ``sum_j max(0, margin - x[y] + x[j])^p / C`` over the classes ``j != y``."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    x, t = input._data, target._data
    if x.ndim > 2 or x.size == 0 and x.ndim != 2:
        raise RuntimeError(
            f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(x.shape)}"
        )
    n_classes = x.shape[-1]
    n = 1 if x.ndim < 2 else x.shape[0]
    if t.ndim > 1 or t.size != n:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples "
            f"(batch size). Expected target size [{n}], but got {list(t.shape)}. Input has shape {list(x.shape)}."
        )
    if t.dtype.name != "int64":
        raise RuntimeError(f"expected scalar type Long but found {_tname(t)}")
    if t.size and (int(t.min()) < 0 or int(t.max()) >= n_classes):
        raise RuntimeError("target out of range")
    if weight is not None and weight.numel() != n_classes:
        raise RuntimeError(f"inconsistent weight size, expected {n_classes} but got {list(weight.shape)}")
    x2 = input.reshape(n, n_classes)
    t2 = target.reshape(n, 1)
    z = (margin - x2.gather(1, t2) + x2).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.index_select(0, target.reshape(n)).reshape(n, 1)
    z = z.masked_fill(t2 == _ops().arange(n_classes, device=input.device), 0)
    loss = z.sum(1) / n_classes
    if x.ndim < 2:
        loss = loss.reshape(t.shape)
    return _reduce_tensor(loss, reduction)


def _distance(x1: Tensor, x2: Tensor, p: float, eps: float) -> Tensor:
    from .normalization import pairwise_distance

    return pairwise_distance(x1, x2, p, eps)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with p-norm distances."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pos, neg = anchor.dim(), positive.dim(), negative.dim()
    if not a == pos == neg:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {a}D, positive {pos}D, and negative {neg}D inputs"
        )
    dist_pos = _distance(anchor, positive, p, eps)
    dist_neg = _distance(anchor, negative, p, eps)
    if swap:
        dist_neg = _ops().minimum(dist_neg, _distance(positive, negative, p, eps))
    return _reduce_tensor((margin + dist_pos - dist_neg).clamp(min=0), reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Any = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """Triplet loss with a custom ``distance_function`` (default: pairwise L2 distance)."""
    if margin <= 0:
        raise ValueError(
            f"triplet_margin_with_distance_loss: expected margin to be greater than 0, got {margin} instead"
        )
    reduction = _reduction(None, None, reduction)
    a, pos, neg = anchor.dim(), positive.dim(), negative.dim()
    if not a == pos == neg:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {a}D, positive {pos}D, and negative {neg}D inputs"
        )
    dist = distance_function if distance_function is not None else lambda x, y: _distance(x, y, 2.0, 1e-6)
    dist_pos = dist(anchor, positive)
    dist_neg = dist(anchor, negative)
    if swap:
        dist_neg = _ops().minimum(dist_neg, dist(positive, negative))
    return _reduce_tensor((margin + dist_pos - dist_neg).clamp(min=0), reduction)


__all__: list[str] = []
FUNCTIONAL = [
    "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss", "multi_margin_loss",
    "triplet_margin_loss", "triplet_margin_with_distance_loss",
]  # fmt: skip
TENSOR_METHODS: dict = {}
