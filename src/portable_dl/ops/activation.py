"""Activation functions (``portable_dl.nn.functional``): relu family, elu family, gelu, silu, mish, softplus ...

Each is an ``Elementwise`` Function (see _elementwise.py): forward on arrays, a fast array gradient, and the same
gradient in Tensor ops for double backward; formulas and kinks follow PyTorch's kernels
(relu'(0) = 0, hardtanh passes no gradient at its bounds, softplus is linear above ``threshold`` ...).
``inplace=True`` writes the result into the input and returns it, as in torch.
"""

from __future__ import annotations

import math
from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._common import assign_inplace, check_tensor
from ._elementwise import Elementwise, inplace_source, not_implemented, pointwise, quiet, select
from .broadcast import _sum_to, sum_to
from .selection import where
from .unary import erf_array, sigmoid, sigmoid_array

_SQRT1_2 = math.sqrt(0.5)
_GELU_K = 1.0 / math.sqrt(2.0 * math.pi)  # the normal pdf's constant
_GELU_BETA = math.sqrt(2.0 / math.pi)
_GELU_KAPPA = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# ----- relu family (integer inputs allowed) --------------------------------------------------------------
Relu = pointwise("Relu", lambda xp, x: xp.maximum(x, 0), lambda g, y: where(y <= 0, 0.0, g),
                 lambda xp, g, y: select(xp, y <= 0, 0, g), out=True, to_float=False, warns=False)  # fmt: skip


def _inside(x: Any, lo: Any, hi: Any) -> Any:
    """Strictly between the bounds (false for nan): where hardtanh and the shrinks pass the gradient."""
    return (x > lo) & (x < hi)


Hardtanh = pointwise(
    "Hardtanh",
    lambda xp, x, lo, hi: xp.minimum(xp.maximum(x, lo), hi),
    lambda g, x, lo, hi: where(_inside(x, lo, hi), g, 0.0),
    lambda xp, g, x, lo, hi: select(xp, _inside(x, lo, hi), g, 0),
    to_float=False, warns=False,
)  # fmt: skip
Threshold = pointwise(
    "Threshold",
    lambda xp, x, th, value: select(xp, x <= th, value, x),
    lambda g, x, th, value: where(x <= th, 0.0, g),
    lambda xp, g, x, th, value: select(xp, x <= th, 0, g),
    to_float=False, warns=False,
)  # fmt: skip
LeakyRelu = pointwise(
    "LeakyRelu",
    lambda xp, x, slope: select(xp, x > 0, x, x * slope),
    lambda g, x, slope: where(x > 0, g, g * slope),
    lambda xp, g, x, slope: select(xp, x > 0, g, g * slope),
    warns=False,
)  # fmt: skip


def _outside(x: Any, lambd: float) -> Any:
    """|x| > lambd (false for nan): where the shrinks pass the gradient."""
    return (x < -lambd) | (x > lambd)


Hardshrink = pointwise(
    "Hardshrink",
    lambda xp, x, lambd: select(xp, (x >= -lambd) & (x <= lambd), 0, x),
    lambda g, x, lambd: where(_outside(x, lambd), g, 0.0),
    lambda xp, g, x, lambd: select(xp, _outside(x, lambd), g, 0),
    warns=False,
)  # fmt: skip
Softshrink = pointwise(
    "Softshrink",
    lambda xp, x, lambd: select(xp, x > lambd, x - lambd, select(xp, x < -lambd, x + lambd, x * 0)),
    lambda g, x, lambd: where(_outside(x, lambd), g, 0.0),
    lambda xp, g, x, lambd: select(xp, _outside(x, lambd), g, 0),
)  # fmt: skip


# ----- elu family: scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1)) -----------------------------
def _elu(xp: Any, x: Any, alpha: float, scale: float, input_scale: float) -> Any:
    return select(xp, x <= 0, xp.expm1(x * input_scale) * (alpha * scale), x * scale)


def _elu_grad(xp: Any, g: Any, x: Any, alpha: float, scale: float, input_scale: float) -> Any:
    return select(xp, x <= 0, g * (input_scale * alpha * scale) * xp.exp(x * input_scale), g * scale)


def _elu_grad_t(g: Tensor, x: Tensor, alpha: float, scale: float, input_scale: float) -> Tensor:
    # exp of min(x, 0): no overflow in the branch where() drops, so second derivatives stay finite
    neg = g * (input_scale * alpha * scale) * (x.clamp(max=0.0) * input_scale).exp()
    return where(x <= 0, neg, g * scale)


Elu = pointwise("Elu", _elu, _elu_grad_t, _elu_grad, half=True)
Celu = pointwise("Celu", _elu, _elu_grad_t, _elu_grad, half=True)


# ----- smooth activations ---------------------------------------------------------------------------------
def _gelu(xp: Any, x: Any, approximate: str) -> Any:
    if approximate == "tanh":
        inner = _GELU_BETA * (x + _GELU_KAPPA * (x * x * x))
        return 0.5 * x * (1 + xp.tanh(inner))
    return x * 0.5 * (1 + erf_array(x * _SQRT1_2))


def _gelu_grad(xp: Any, g: Any, x: Any, approximate: str) -> Any:
    if approximate == "tanh":
        x_sq = x * x
        t = xp.tanh(_GELU_BETA * (x + _GELU_KAPPA * x_sq * x))
        left_derivative = 0.5 * (1 + t)
        right_derivative = 0.5 * x * (1 - t * t) * (_GELU_BETA * (1 + 3 * _GELU_KAPPA * x_sq))
        return g * (left_derivative + right_derivative)
    cdf = 0.5 * (1 + erf_array(x * _SQRT1_2))
    pdf = xp.exp(-0.5 * (x * x)) * _GELU_K
    return g * (cdf + x * pdf)


def _gelu_grad_t(g: Tensor, x: Tensor, approximate: str) -> Tensor:
    if approximate == "tanh":
        x_sq = x * x
        t = (_GELU_BETA * (x + _GELU_KAPPA * x_sq * x)).tanh()
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_GELU_BETA * (1 + 3 * _GELU_KAPPA * x_sq)))
    cdf = 0.5 * (1 + (x * _SQRT1_2).erf())
    pdf = (-0.5 * (x * x)).exp() * _GELU_K
    return g * (cdf + x * pdf)


class Gelu(pointwise("Gelu", _gelu, _gelu_grad_t, _gelu_grad, half=True)):
    """Exact gelu keeps the normal cdf it computed for backward: erf is the costly part on NumPy."""

    @staticmethod
    def forward(ctx: Any, x: Any, approximate: str) -> Any:
        if approximate == "tanh":
            return Elementwise.forward(ctx, x, approximate)
        xf = x.astype("float32") if x.dtype.itemsize == 2 else x
        cdf = erf_array(xf * _SQRT1_2)
        cdf += 1
        cdf *= 0.5
        with quiet(ctx.xp):  # -inf * 0
            out = xf * cdf
        ctx.params = (approximate,)
        ctx.save_for_backward(x, cdf)
        return out.astype(x.dtype) if xf is not x else out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x = ctx.saved_tensors[0]
        return _gelu_grad_t(grad, x, *ctx.params), None

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        saved = ctx.saved_arrays
        if ctx.params[0] == "tanh":
            return Elementwise.backward_arrays(ctx, grad)
        x, cdf = saved
        xp = ctx.xp
        xf = x.astype("float32") if x.dtype.itemsize == 2 else x
        with quiet(xp):
            pdf = xp.exp(-0.5 * (xf * xf)) * _GELU_K
            out = grad * (cdf + xf * pdf)
        return (out.astype(x.dtype) if xf is not x else out), None


def _silu_grad(xp: Any, g: Any, x: Any) -> Any:
    s = sigmoid_array(xp, x)
    return g * s * (1 + x * (1 - s))


def _silu_grad_t(g: Tensor, x: Tensor) -> Tensor:
    s = x.sigmoid()
    return g * s * (1 + x * (1 - s))


def _silu(xp: Any, x: Any) -> Any:
    s = sigmoid_array(xp, x)
    if x.ndim == 0:
        return x * s
    s *= x
    return s


Silu = pointwise("Silu", _silu, _silu_grad_t, _silu_grad, half=True)


def _mish_grad(xp: Any, g: Any, x: Any) -> Any:
    t = xp.tanh(xp.log1p(xp.exp(x)))
    return g * (t + x * sigmoid_array(xp, x) * (1 - t * t))


def _mish_grad_t(g: Tensor, x: Tensor) -> Tensor:
    t = softplus(x).tanh()
    return g * (t + x * x.sigmoid() * (1 - t * t))


Mish = pointwise("Mish", lambda xp, x: x * xp.tanh(xp.log1p(xp.exp(x))), _mish_grad_t, _mish_grad, half=True)


def _softplus(xp: Any, x: Any, beta: float, threshold: float) -> Any:
    xb = x * beta
    return select(xp, xb > threshold, x, xp.log1p(xp.exp(xb)) / beta)


def _softplus_grad(xp: Any, g: Any, x: Any, beta: float, threshold: float) -> Any:
    xb = x * beta
    z = xp.exp(xb)
    return select(xp, xb > threshold, g, g * z / (z + 1))


def _softplus_grad_t(g: Tensor, x: Tensor, beta: float, threshold: float) -> Tensor:
    xb = x * beta
    return where(xb > threshold, g, g * xb.sigmoid())


Softplus = pointwise("Softplus", _softplus, _softplus_grad_t, _softplus_grad, half=True)


def _hardswish(xp: Any, x: Any) -> Any:
    return x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6


Hardswish = pointwise(
    "Hardswish",
    _hardswish,
    lambda g, x: where(x <= -3, 0.0, where(x < 3, g * (x / 3 + 0.5), g)),
    lambda xp, g, x: select(xp, x <= -3, 0, select(xp, x < 3, g * (x / 3 + 0.5), g)),
    half=True,
)  # fmt: skip
Hardsigmoid = pointwise(
    "Hardsigmoid",
    lambda xp, x: xp.minimum(xp.maximum(x + 3, 0), 6) / 6,
    lambda g, x: where((x > -3) & (x < 3), g / 6, 0.0),
    lambda xp, g, x: select(xp, (x > -3) & (x < 3), g / 6, 0),
    half=True, warns=False,
)  # fmt: skip


def _logsigmoid_grad(xp: Any, g: Any, x: Any) -> Any:
    z = xp.exp(-xp.abs(x))
    zz = z / (1 + z)
    return g * select(xp, x < 0, 1 - zz, zz)


LogSigmoid = pointwise(
    "LogSigmoid",
    lambda xp, x: xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x))),
    lambda g, x: g * (-x).sigmoid(),
    _logsigmoid_grad,
    half=True,
)  # fmt: skip


class PreluKernel(Function):
    """``x if x > 0 else w * x`` with ``w`` broadcast over the channel dim."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any) -> Any:
        ctx.save_for_backward(x, w)
        return select(ctx.xp, x > 0, x, w * x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, w = ctx.saved_tensors
        pos = x > 0
        need_x, need_w = ctx.needs_input_grad
        gx = where(pos, grad, w * grad) if need_x else None
        gw = sum_to(where(pos, 0.0, x * grad), w.shape) if need_w else None
        return gx, gw

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        x, w = ctx.saved_arrays
        xp = ctx.xp
        pos = x > 0
        need_x, need_w = ctx.needs_input_grad
        with quiet(xp):
            gx = select(xp, pos, grad, w * grad) if need_x else None
            gw = _sum_to(xp, select(xp, pos, 0, x * grad), w.shape) if need_w else None
        return gx, gw


# ----- public functions ----------------------------------------------------------------------------------------
def _run(cls: type, input: Tensor, params: tuple, inplace: bool, name: str) -> Tensor:  # noqa: A002
    if inplace:
        return assign_inplace(input, cls.apply(inplace_source(input), *params), name + "_")
    return cls.apply(input, *params)


def _floats_only(input: Tensor, name: str, kernel: str) -> None:  # noqa: A002
    check_tensor(input, name)
    if input._data.dtype.kind != "f":
        raise not_implemented(kernel, input)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002 - torch argument name
    """max(input, 0); relu'(0) = 0. Integer tensors stay integer."""
    check_tensor(input, "relu")
    if input._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return _run(Relu, input, (), inplace, "relu")


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    return relu(input, inplace=True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """Clamp into [min_val, max_val]; no gradient at or beyond the bounds."""
    check_tensor(input, "hardtanh")
    kind = input._data.dtype.kind
    if kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    conv = float if kind == "f" else int
    if kind == "u" and (min_val < 0 or max_val < 0):
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    return _run(Hardtanh, input, (conv(min_val), conv(max_val)), inplace, "hardtanh")


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(input, 0), 6) (hardtanh(input, 0, 6))."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """input if input > 0 else negative_slope * input."""
    _floats_only(input, "leaky_relu", "leaky_relu_cpu")
    return _run(LeakyRelu, input, (float(negative_slope),), inplace, "leaky_relu")


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """input if input > 0 else alpha * (exp(input) - 1)."""
    _floats_only(input, "elu", "elu_cpu")
    return _run(Elu, input, (float(alpha), 1.0, 1.0), inplace, "elu")


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale * elu(input, alpha) with the self-normalising constants."""
    _floats_only(input, "selu", "elu_cpu")
    return _run(Elu, input, (_SELU_ALPHA, _SELU_SCALE, 1.0), inplace, "selu")


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(0, input) + min(0, alpha * (exp(input / alpha) - 1))."""
    _floats_only(input, "celu", "elu_cpu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _run(Celu, input, (float(alpha), 1.0, 1.0 / alpha), inplace, "celu")


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return celu(input, alpha, inplace=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """input * Phi(input) (Phi the normal cdf), or its tanh approximation with ``approximate='tanh'``."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _floats_only(input, "gelu", "GeluKernelImpl")
    return Gelu.apply(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """input * sigmoid(input)."""
    _floats_only(input, "silu", "silu_cpu")
    return _run(Silu, input, (), inplace, "silu")


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """input * tanh(softplus(input))."""
    _floats_only(input, "mish", "mish_cpu")
    return _run(Mish, input, (), inplace, "mish")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(beta * input)) / beta, and input itself where beta * input > threshold."""
    _floats_only(input, "softplus", "softplus_cpu")
    return Softplus.apply(input, float(beta), float(threshold))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """input * relu6(input + 3) / 6."""
    _floats_only(input, "hardswish", "hardswish_cpu")
    return _run(Hardswish, input, (), inplace, "hardswish")


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """relu6(input + 3) / 6."""
    _floats_only(input, "hardsigmoid", "hardsigmoid_cpu")
    return _run(Hardsigmoid, input, (), inplace, "hardsigmoid")


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log(sigmoid(input)), computed as min(input, 0) - log1p(exp(-|input|))."""
    _floats_only(input, "logsigmoid", "log_sigmoid_cpu")
    return LogSigmoid.apply(input)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """input / (1 + |input|)."""
    check_tensor(input, "softsign")
    with quiet(input._backend.xp):  # inf / inf
        return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """input - tanh(input)."""
    check_tensor(input, "tanhshrink")
    return input - input.tanh()


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:  # noqa: A002
    """``value`` where input <= threshold, else input."""
    check_tensor(input, "threshold")
    if input._data.dtype.kind == "b":
        raise not_implemented("threshold_cpu", input)
    value = float(value) if input._data.dtype.kind == "f" else int(value)
    return _run(Threshold, input, (threshold, value), inplace, "threshold")


_threshold = threshold


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    return _threshold(input, threshold, value, inplace=True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """0 where |input| <= lambd, else input."""
    _floats_only(input, "hardshrink", "hardshrink_cpu")
    return Hardshrink.apply(input, float(lambd))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """input - lambd above lambd, input + lambd below -lambd, 0 between."""
    _floats_only(input, "softshrink", "softshrink_cpu")
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return Softshrink.apply(input, float(lambd))


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """input if input > 0 else weight * input, ``weight`` having 1 or (channels = dim 1) elements."""
    check_tensor(input, "prelu")
    check_tensor(weight, "prelu", "weight", 2)
    if input._data.dtype.kind != "f":
        raise not_implemented("prelu_cpu", input)
    if weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {_type_name(input)} and {_type_name(weight)}")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    count = weight.numel()
    if count == 1:
        weight = weight.reshape(())
    else:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if count != channels:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                f"{count} and channel size = {channels}."
            )
        weight = weight.reshape((count,) + (1,) * (input.ndim - 2))
    return PreluKernel.apply(input, weight)


def _type_name(t: Tensor) -> str:
    from ._elementwise import TORCH_TYPE_NAMES

    return TORCH_TYPE_NAMES[t._data.dtype.name]


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,  # noqa: A002
          inplace: bool = False) -> Tensor:  # fmt: skip
    """Randomised leaky relu: slope ~ U(lower, upper) per element when training, (lower + upper) / 2 otherwise."""
    _floats_only(input, "rrelu", "rrelu_with_noise_cpu")
    if not training:
        return _run(LeakyRelu, input, ((lower + upper) / 2.0,), inplace, "rrelu")
    backend = input._backend
    x = input._data
    slopes = (lower + (upper - lower) * backend.generator().random(x.shape)).astype(x.dtype)
    noise = Tensor._wrap(backend.xp.where(x <= 0, slopes, backend.xp.ones((), dtype=x.dtype)), backend)
    if inplace:
        return assign_inplace(input, inplace_source(input) * noise, "rrelu_")
    return input * noise


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
           training: bool = False) -> Tensor:  # fmt: skip
    return rrelu(input, lower, upper, training, inplace=True)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """a * sigmoid(b), with a and b the two halves of ``input`` along ``dim``."""
    check_tensor(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} is size {size}")
    a, b = input.chunk(2, dim)
    return a * sigmoid(b)


_FUNCTIONS = [
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu",
    "selu_", "celu", "celu_", "gelu", "silu", "mish", "softplus", "hardswish", "hardsigmoid", "logsigmoid",
    "softsign", "tanhshrink", "threshold", "threshold_", "hardshrink", "softshrink", "prelu", "rrelu", "rrelu_",
    "glu",
]  # fmt: skip
__all__ = [
    "relu", "relu_", "selu", "selu_", "celu", "celu_", "prelu", "threshold", "threshold_", "rrelu", "rrelu_",
    "hardshrink",
]  # fmt: skip
FUNCTIONAL = _FUNCTIONS
TENSOR_METHODS = {"relu": relu, "relu_": relu_, "prelu": prelu, "hardshrink": hardshrink}
