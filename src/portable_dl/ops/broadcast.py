"""Broadcasting and its adjoint: ``broadcast_to``/``expand`` and ``sum_to_size`` (gradients of broadcasts)."""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import to_shape


def _sum_to(xp: Any, array: Any, shape: tuple) -> Any:
    """Sum ``array`` down to ``shape`` (the inverse of broadcasting ``shape`` up to array.shape)."""
    if array.shape == shape:
        return array
    lead = array.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and array.shape[i + lead] != 1)
    out = array.sum(axis=axes, keepdims=True) if axes else array
    if lead:
        out = out.reshape(shape)
    return out


class SumTo(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, shape: tuple) -> Any:
        ctx.in_shape = x.shape
        return _sum_to(ctx.xp, x, shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return BroadcastTo.apply(grad, ctx.in_shape), None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        return ctx.xp.broadcast_to(grad, ctx.in_shape), None


class BroadcastTo(Function):
    _raw = True
    _is_view = True

    def name(self) -> str:
        return "ExpandBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, shape: tuple) -> Any:
        ctx.in_shape = x.shape
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return SumTo.apply(grad, ctx.in_shape), None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        return _sum_to(ctx.xp, grad, ctx.in_shape), None


def sum_to(grad: Tensor, shape: tuple) -> Tensor:
    """The gradient of a broadcast: ``grad`` summed back to an operand's ``shape``."""
    if grad._data.shape == shape:
        return grad
    return SumTo.apply(grad, tuple(shape))


def _broadcast_shape(op: str, in_shape: tuple, target: tuple) -> tuple:
    if len(target) < len(in_shape):
        raise RuntimeError(
            f"{op}: the number of sizes provided ({len(target)}) must be greater or equal to the number "
            f"of dimensions in the tensor ({len(in_shape)})"
        )
    lead = len(target) - len(in_shape)
    out = list(target)
    for i, size in enumerate(target):
        own = in_shape[i - lead] if i >= lead else None
        if size == -1:
            if own is None:
                raise RuntimeError(f"{op}: -1 is not allowed in a leading, non-existing dimension {i}")
            out[i] = own
        elif own is not None and own != 1 and own != size:
            raise RuntimeError(
                f"{op}: the expanded size of the tensor ({size}) must match the existing size ({own}) "
                f"at non-singleton dimension {i}. Target sizes: {list(target)}. "
                f"Tensor sizes: {list(in_shape)}"
            )
    return tuple(out)


def expand(input: Tensor, *sizes: Any) -> Tensor:  # noqa: A002 - torch argument name
    shape = _broadcast_shape("expand", input._data.shape, to_shape(sizes, "expand"))
    if shape == input._data.shape:
        return input
    return BroadcastTo.apply(input, shape)


def broadcast_to(input: Tensor, size: Any) -> Tensor:  # noqa: A002
    return expand(input, tuple(size))


def expand_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    return expand(input, other._data.shape)


def sum_to_size(input: Tensor, *size: Any) -> Tensor:  # noqa: A002
    return sum_to(input, to_shape(size, "sum_to_size"))


def broadcast_shapes(*shapes: Any) -> tuple:
    result: list = []
    for shape in shapes:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        for i in range(1, len(shape) + 1):
            if i > len(result):
                result.insert(0, shape[-i])
            elif result[-i] == 1:
                result[-i] = shape[-i]
            elif shape[-i] not in (1, result[-i]):
                raise RuntimeError(f"shape mismatch: shapes {shapes} cannot be broadcast together")
    return tuple(result)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    shape = broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


__all__ = ["broadcast_to", "broadcast_shapes", "broadcast_tensors"]
TENSOR_METHODS = {
    "expand": expand,
    "expand_as": expand_as,
    "broadcast_to": broadcast_to,
    "sum_to_size": sum_to_size,
}
