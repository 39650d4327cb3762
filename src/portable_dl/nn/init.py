"""``nn.init``: in-place initialisation schemes with torch's names, arguments and distributions.

Each function writes into ``tensor``'s array directly (no autograd graph, as under ``no_grad``), draws from
the tensor's backend generator (``tensor._backend.generator()``) and returns ``tensor``. A ``generator``
argument is accepted for torch compatibility; a NumPy/CuPy ``Generator`` passed there is used, anything
else falls back to the backend generator.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from ..tensor import Tensor, _bump_version

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "sparse_",
]


# ----- helpers -----------------------------------------------------------------------------------


def _rng(tensor: Tensor, generator: Any) -> Any:
    if generator is not None and hasattr(generator, "standard_normal") and hasattr(generator, "random"):
        return generator
    return tensor._backend.generator()


def _gen_dtype(tensor: Tensor) -> str:
    name = str(tensor._data.dtype)
    return name if name in ("float32", "float64") else "float32"


def _check_float(tensor: Tensor, op: str) -> None:
    if not tensor.is_floating_point():
        raise NotImplementedError(f"\"{op}\" not implemented for '{str(tensor.dtype).split('.')[-1]}'")


def _write(tensor: Tensor, values: Any) -> Tensor:
    """Store ``values`` (an array or scalar) into ``tensor`` in place and mark the change."""
    tensor._data[...] = values
    _bump_version(tensor)
    return tensor


def _uniform(tensor: Tensor, low: float, high: float, generator: Any) -> Any:
    shape = tuple(tensor._data.shape)
    draw = _rng(tensor, generator).random(shape, dtype=_gen_dtype(tensor))
    return draw * (high - low) + low


def _normal(tensor: Tensor, mean: float, std: float, generator: Any, shape: Any = None) -> Any:
    shape = tuple(tensor._data.shape) if shape is None else shape
    draw = _rng(tensor, generator).standard_normal(shape, dtype=_gen_dtype(tensor))
    return draw * std + mean


# ----- gains and fans ----------------------------------------------------------------------------


def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (torch's table: 1, 5/3, sqrt(2), sqrt(2/(1+slope^2)), 3/4)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    dimensions = tensor.dim()
    if dimensions < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    num_input_fmaps = tensor.shape[1]
    num_output_fmaps = tensor.shape[0]
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return num_input_fmaps * receptive_field_size, num_output_fmaps * receptive_field_size


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ----- simple fills ------------------------------------------------------------------------------


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with U(a, b)."""
    _check_float(tensor, "uniform_")
    return _write(tensor, _uniform(tensor, a, b, generator))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with N(mean, std^2)."""
    _check_float(tensor, "normal_")
    return _write(tensor, _normal(tensor, mean, std, generator))


def trunc_normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, generator: Any = None
) -> Tensor:
    """Fill with N(mean, std^2) truncated to [a, b] (rejection sampling: the same distribution as torch's)."""
    _check_float(tensor, "trunc_normal_")
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    xp = tensor._backend.xp
    values = _normal(tensor, mean, std, generator).astype("float64")
    for _ in range(1000):
        bad = (values < a) | (values > b)
        count = int(bad.sum())
        if count == 0:
            break
        values[bad] = _normal(tensor, mean, std, generator, shape=(count,))
    return _write(tensor, xp.clip(values, a, b))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _write(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    return _write(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    return _write(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    return _write(tensor, tensor._backend.xp.eye(rows, cols, dtype=tensor._data.dtype))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a {3,4,5}-D conv weight with the Dirac delta (identity convolution), per group."""
    dimensions = tensor.dim()
    if dimensions not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    data = tensor._data
    data[...] = 0
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            data[(g * out_chans_per_grp + d, d, *centre)] = 1
    _bump_version(tensor)
    return tensor


# ----- fan-scaled schemes ------------------------------------------------------------------------


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(
    tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator: Any = None
) -> Tensor:
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan)."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator: Any = None
) -> Tensor:
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: Any = None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian matrix, scaled by ``gain``."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    xp = tensor._backend.xp
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flattened = _normal(tensor, 0.0, 1.0, generator, shape=(rows, cols)).astype("float64")
    if rows < cols:
        flattened = flattened.T
    q, r = xp.linalg.qr(flattened)
    q = q * xp.sign(xp.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tensor._data.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Any = None) -> Tensor:
    """N(0, std^2) entries with ``ceil(sparsity * rows)`` zeros per column, at random rows."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    xp = tensor._backend.xp
    values = _normal(tensor, 0.0, std, generator)
    if num_zeros:
        # each column's zero rows: the first num_zeros of an independent random permutation of the rows
        keys = _rng(tensor, generator).random((rows, cols))
        zero_rows = xp.argsort(keys, axis=0)[:num_zeros]
        values[zero_rows, xp.arange(cols)[None, :]] = 0
    return _write(tensor, values)
