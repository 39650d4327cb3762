"""``parameters_to_vector`` / ``vector_to_parameters``."""

from __future__ import annotations

from collections.abc import Iterable

from ...tensor import Tensor, _bump_version

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable, like torch's)."""
    from ...ops.shape_join import cat

    return cat([param.reshape(-1) for param in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Set each parameter's data to the next slice of ``vec`` (reshaped to the parameter's shape)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    data = vec._data
    for param in parameters:
        num_param = param.numel()
        param._data = data[pointer : pointer + num_param].reshape(tuple(param.shape))
        param._backend = vec._backend
        _bump_version(param)
        pointer += num_param
