"""Elementwise math: exp/log/trig families, rounding, abs/sign, erf, float predicates, atan2, hypot, lerp."""

from __future__ import annotations

import builtins
import math
from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..backends import backend_of_array
from ..tensor import Tensor
from ._common import cast, check_tensor, promote_operands
from ._elementwise import (
    TORCH_TYPE_NAMES,
    _binary_tensors,
    _const,
    _shape,
    _write_out,
    inplace,
    not_implemented,
    pointwise,
    quiet,
    select,
)
from .broadcast import _sum_to, sum_to
from .selection import where

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _zeros_t(g: Tensor) -> Tensor:
    return _const(g._backend.xp.zeros_like(g._data), g)


def sign_array(xp: Any, x: Any) -> Any:
    """torch.sign on arrays: 0 for nan and for -0.0 (NumPy gives nan and -0.0)."""
    kind = x.dtype.kind
    if kind == "b":
        return x.copy()
    if kind == "u":
        return (x > 0).astype(x.dtype)
    if kind == "i":
        return xp.sign(x)
    return (x > 0).astype(x.dtype) - (x < 0)


def _zero_grad(xp: Any, g: Any, v: Any) -> Any:
    return xp.zeros_like(g)


def _zero_grad_t(g: Tensor, v: Tensor) -> Tensor:
    return _zeros_t(g)


def _sgn_t(x: Tensor) -> Tensor:
    return _const(sign_array(x._backend.xp, x._data), x)


def _rsqrt(xp: Any, x: Any) -> Any:
    return 1.0 / xp.sqrt(x)


def sigmoid_array(xp: Any, x: Any) -> Any:
    """1 / (1 + exp(-x)): exact 0 and 1 in the tails, no overflow warning (inside ``quiet``)."""
    if x.ndim == 0:
        return 1.0 / (1.0 + xp.exp(-x))
    t = xp.negative(x)
    xp.exp(t, out=t)
    t += 1
    return xp.reciprocal(t, out=t)


def _frac(xp: Any, x: Any) -> Any:
    return x - xp.trunc(x)


Exp = pointwise("Exp", lambda xp, x: xp.exp(x), lambda g, y: g * y, lambda xp, g, y: g * y, out=True)
Exp2 = pointwise("Exp2", lambda xp, x: xp.exp2(x), lambda g, y: g * y * _LN2, lambda xp, g, y: g * y * _LN2, out=True)
Expm1 = pointwise("Expm1", lambda xp, x: xp.expm1(x), lambda g, y: g * (y + 1), lambda xp, g, y: g * (y + 1), out=True)
Log = pointwise("Log", lambda xp, x: xp.log(x), lambda g, x: g / x, lambda xp, g, x: g / x)
Log2 = pointwise("Log2", lambda xp, x: xp.log2(x), lambda g, x: g / (x * _LN2), lambda xp, g, x: g / (x * _LN2))
Log10 = pointwise("Log10", lambda xp, x: xp.log10(x), lambda g, x: g / (x * _LN10), lambda xp, g, x: g / (x * _LN10))
Log1P = pointwise("Log1P", lambda xp, x: xp.log1p(x), lambda g, x: g / (x + 1), lambda xp, g, x: g / (x + 1))
Sqrt = pointwise("Sqrt", lambda xp, x: xp.sqrt(x), lambda g, y: g / (2 * y), lambda xp, g, y: g / (2 * y), out=True)
Rsqrt = pointwise("Rsqrt", _rsqrt, lambda g, y: -0.5 * g * y.pow(3), lambda xp, g, y: -0.5 * g * (y * y * y), out=True)
Sin = pointwise("Sin", lambda xp, x: xp.sin(x), lambda g, x: g * x.cos(), lambda xp, g, x: g * xp.cos(x))
Cos = pointwise("Cos", lambda xp, x: xp.cos(x), lambda g, x: g * -x.sin(), lambda xp, g, x: g * -xp.sin(x))
Tan = pointwise(
    "Tan", lambda xp, x: xp.tan(x), lambda g, y: g * (1 + y * y), lambda xp, g, y: g * (1 + y * y), out=True
)
Tanh = pointwise("Tanh", lambda xp, x: xp.tanh(x), lambda g, y: g * (1 - y * y), lambda xp, g, y: g * (1 - y * y),
           out=True, warns=False)  # fmt: skip
Sigmoid = pointwise("Sigmoid", sigmoid_array, lambda g, y: g * (1 - y) * y, lambda xp, g, y: g * (1 - y) * y, out=True)
Reciprocal = pointwise("Reciprocal", lambda xp, x: xp.reciprocal(x), lambda g, y: -g * (y * y),
                 lambda xp, g, y: -g * (y * y), out=True)  # fmt: skip
Asin = pointwise("Asin", lambda xp, x: xp.arcsin(x), lambda g, x: g * (1 - x * x).rsqrt(),
           lambda xp, g, x: g * (1.0 / xp.sqrt(1 - x * x)))  # fmt: skip
Acos = pointwise("Acos", lambda xp, x: xp.arccos(x), lambda g, x: g * -((1 - x * x).rsqrt()),
           lambda xp, g, x: g * -(1.0 / xp.sqrt(1 - x * x)))  # fmt: skip
Atan = pointwise("Atan", lambda xp, x: xp.arctan(x), lambda g, x: g / (x * x + 1), lambda xp, g, x: g / (x * x + 1),
           warns=False)  # fmt: skip
Sinh = pointwise("Sinh", lambda xp, x: xp.sinh(x), lambda g, x: g * x.cosh(), lambda xp, g, x: g * xp.cosh(x))
Cosh = pointwise("Cosh", lambda xp, x: xp.cosh(x), lambda g, x: g * x.sinh(), lambda xp, g, x: g * xp.sinh(x))
Asinh = pointwise("Asinh", lambda xp, x: xp.arcsinh(x), lambda g, x: g * (x * x + 1).rsqrt(),
            lambda xp, g, x: g * (1.0 / xp.sqrt(x * x + 1)))  # fmt: skip
Acosh = pointwise("Acosh", lambda xp, x: xp.arccosh(x), lambda g, x: g * (x * x - 1).rsqrt(),
            lambda xp, g, x: g * (1.0 / xp.sqrt(x * x - 1)))  # fmt: skip
Atanh = pointwise("Atanh", lambda xp, x: xp.arctanh(x), lambda g, x: g * (1 / (1 - x * x)),
            lambda xp, g, x: g * (1 / (1 - x * x)))  # fmt: skip
Frac = pointwise("Frac", _frac, lambda g, x: g, lambda xp, g, x: g)
Abs = pointwise("Abs", lambda xp, x: xp.abs(x), lambda g, x: g * _sgn_t(x), lambda xp, g, x: g * sign_array(xp, x),
          to_float=False, warns=False)  # fmt: skip
Sign = pointwise("Sign", sign_array, _zero_grad_t, _zero_grad, to_float=False, warns=False)
Sgn = pointwise("Sgn", sign_array, _zero_grad_t, _zero_grad, to_float=False, warns=False)
Square = pointwise("Pow", lambda xp, x: x * x, lambda g, x: g * (2 * x), lambda xp, g, x: g * (2 * x), to_float=False)


def _int_identity(ufunc: str) -> Any:
    def f(xp: Any, x: Any) -> Any:
        return getattr(xp, ufunc)(x) if x.dtype.kind == "f" else x.copy()

    return f


Floor = pointwise("Floor", _int_identity("floor"), _zero_grad_t, _zero_grad, to_float=False, warns=False)
Ceil = pointwise("Ceil", _int_identity("ceil"), _zero_grad_t, _zero_grad, to_float=False, warns=False)
Trunc = pointwise("Trunc", _int_identity("trunc"), _zero_grad_t, _zero_grad, to_float=False, warns=False)
Round = pointwise("Round", _int_identity("rint"), _zero_grad_t, _zero_grad, to_float=False, warns=False)


def _round_decimals(xp: Any, x: Any, decimals: int) -> Any:
    # torch: nearbyint(x * 10^d) / 10^d, or nearbyint(x / 10^-d) * 10^-d for d < 0, 10^|d| in x's dtype
    ten = xp.asarray(10.0 ** builtins.abs(decimals), dtype=x.dtype)
    if decimals < 0:
        return xp.rint(x / ten) * ten
    return xp.rint(x * ten) / ten


RoundDecimals = pointwise("Round", _round_decimals, lambda g, x, d: _zeros_t(g), lambda xp, g, x, d: xp.zeros_like(g),
                    to_float=False)  # fmt: skip
RoundDecimals.name = lambda self: "RoundBackward1"


def erf_array(x: Any) -> Any:
    """erf of a raw array, from its backend (NumPy has none: see backends/erf.py)."""
    if (
        x.dtype.kind == "f" and x.dtype.itemsize == 2
    ):  # float16: through float32 (CuPy's erf has no half kernel to rely on)
        return erf_array(x.astype("float32")).astype(x.dtype)
    out = backend_of_array(x).erf(x)
    return out if out.dtype == x.dtype else out.astype(x.dtype)


Erf = pointwise("Erf", lambda xp, x: erf_array(x), lambda g, x: g * _TWO_OVER_SQRT_PI * (-(x * x)).exp(),
                lambda xp, g, x: g * _TWO_OVER_SQRT_PI * xp.exp(-(x * x)))  # fmt: skip


def _nan_to_num(xp: Any, x: Any, nan: Any, posinf: Any, neginf: Any) -> Any:
    if x.dtype.kind != "f":
        return x.copy()
    return xp.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)


NanToNum = pointwise("NanToNum", _nan_to_num, lambda g, x, *p: g * x.isfinite(),
               lambda xp, g, x, *p: g * xp.isfinite(x), to_float=False, warns=False)  # fmt: skip


class _Predicate(Function):
    """isnan, isinf ...: bool results, no gradient."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, name: str) -> Any:
        xp = ctx.xp
        if name == "isnan":
            return xp.isnan(x) if x.dtype.kind == "f" else xp.zeros(x.shape, dtype=bool)
        if name == "isinf":
            return xp.isinf(x) if x.dtype.kind == "f" else xp.zeros(x.shape, dtype=bool)
        if name == "isfinite":
            return xp.isfinite(x) if x.dtype.kind == "f" else xp.ones(x.shape, dtype=bool)
        if x.dtype.kind != "f":
            return xp.zeros(x.shape, dtype=bool)
        return x == (xp.inf if name == "isposinf" else -xp.inf)


# ----- public unary functions -----------------------------------------------------------------------
def _unary(cls: type, name: str, reject: str = "", kernel: str | None = None) -> Any:
    """The public function of a one-input op; ``reject``: dtype kinds torch has no kernel for."""

    def op(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002 - torch argument name
        if not isinstance(input, Tensor):
            check_tensor(input, name)
        if reject and input._data.dtype.kind in reject:
            raise not_implemented(kernel or f"{name}_cpu", input)
        result = cls.apply(input)
        return result if out is None else _write_out(out, result, name)

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}``, like ``torch.{name}``."
    return op


exp = _unary(Exp, "exp")
exp2 = _unary(Exp2, "exp2")
expm1 = _unary(Expm1, "expm1")
log = _unary(Log, "log")
log2 = _unary(Log2, "log2")
log10 = _unary(Log10, "log10")
log1p = _unary(Log1P, "log1p")
sqrt = _unary(Sqrt, "sqrt")
rsqrt = _unary(Rsqrt, "rsqrt")
sin = _unary(Sin, "sin")
cos = _unary(Cos, "cos")
tan = _unary(Tan, "tan")
tanh = _unary(Tanh, "tanh")
sigmoid = _unary(Sigmoid, "sigmoid")
erf = _unary(Erf, "erf")
reciprocal = _unary(Reciprocal, "reciprocal")
asin = arcsin = _unary(Asin, "asin")
acos = arccos = _unary(Acos, "acos")
atan = arctan = _unary(Atan, "atan")
sinh = _unary(Sinh, "sinh")
cosh = _unary(Cosh, "cosh")
asinh = arcsinh = _unary(Asinh, "asinh")
acosh = arccosh = _unary(Acosh, "acosh")
atanh = arctanh = _unary(Atanh, "atanh")
abs = absolute = _unary(Abs, "abs", reject="b")  # noqa: A001 - torch name
sign = _unary(Sign, "sign")
sgn = _unary(Sgn, "sgn")
floor = _unary(Floor, "floor", reject="b", kernel="floor_vml_cpu")
ceil = _unary(Ceil, "ceil", reject="b", kernel="ceil_vml_cpu")
trunc = fix = _unary(Trunc, "trunc", reject="b", kernel="trunc_vml_cpu")
frac = _unary(Frac, "frac", reject="biu")
_square = _unary(Square, "square")


def square(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """``input * input`` (torch.square; bool becomes int64)."""
    if isinstance(input, Tensor) and input._data.dtype.kind == "b":
        input = cast(input, _dtype.int64)  # noqa: A001
    return _square(input, out=out)


def round(input: Tensor, *, decimals: int = 0, out: Any = None) -> Tensor:  # noqa: A001, A002
    """Round half to even; with ``decimals``, to that many decimal places (torch.round)."""
    check_tensor(input, "round")
    kind = input._data.dtype.kind
    if decimals == 0:
        if kind == "b":
            raise not_implemented("round_vml_cpu", input)
        result = Round.apply(input)
    else:
        if kind != "f":
            raise not_implemented("round_cpu", input)
        result = RoundDecimals.apply(input, int(decimals))
    return result if out is None else _write_out(out, result, "round")


def _predicate(name: str) -> Any:
    def op(input: Tensor) -> Tensor:  # noqa: A002
        check_tensor(input, name)
        return _Predicate.apply(input, name)

    op.__name__ = name
    return op


isnan = _predicate("isnan")
isinf = _predicate("isinf")
isfinite = _predicate("isfinite")
isposinf = _predicate("isposinf")
isneginf = _predicate("isneginf")


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None,  # noqa: A002
               *, out: Any = None) -> Tensor:  # fmt: skip
    """Replace nan, +inf and -inf (defaults: 0, the dtype's largest and lowest finite values)."""
    check_tensor(input, "nan_to_num")
    posinf = None if posinf is None else float(posinf)
    neginf = None if neginf is None else float(neginf)
    result = NanToNum.apply(input, 0.0 if nan is None else float(nan), posinf, neginf)
    return result if out is None else _write_out(out, result, "nan_to_num")


# ----- atan2 / hypot --------------------------------------------------------------------------------
class Atan2(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        with quiet(ctx.xp):
            return ctx.xp.arctan2(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        a, b = ctx.saved_tensors
        denom = a * a + b * b
        recip = where(denom == 0, 0.0, denom.reciprocal())  # torch: no gradient at the origin
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(grad * b * recip, a.shape) if need_a else None
        gb = sum_to(grad * -a * recip, b.shape) if need_b else None
        return ga, gb

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        a, b = ctx.saved_arrays
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad
        with quiet(xp):
            denom = a * a + b * b
            recip = xp.where(denom == 0, 0, 1 / denom)
            ga = _sum_to(xp, grad * b * recip, a.shape) if need_a else None
            gb = _sum_to(xp, grad * -a * recip, b.shape) if need_b else None
        return ga, gb


class Hypot(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        out = ctx.xp.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(grad * a / out, a.shape) if need_a else None
        gb = sum_to(grad * b / out, b.shape) if need_b else None
        return ga, gb

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        a, b, out = ctx.saved_arrays
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad
        with quiet(xp):
            ga = _sum_to(xp, grad * a / out, a.shape) if need_a else None
            gb = _sum_to(xp, grad * b / out, b.shape) if need_b else None
        return ga, gb


def atan2(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """The angle of (other, input), i.e. atan(input / other) in the right quadrant."""
    _binary_tensors(input, other, "atan2")
    a, b = promote_operands(input, other, "atan2", float_result=True)
    result = Atan2.apply(a, b)
    return result if out is None else _write_out(out, result, "atan2")


arctan2 = atan2


def hypot(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """sqrt(input**2 + other**2) without overflow."""
    _binary_tensors(input, other, "hypot")
    a, b = promote_operands(input, other, "hypot")
    if a._data.dtype.kind != "f":
        raise not_implemented("hypot_cpu", a)
    result = Hypot.apply(a, b)
    return result if out is None else _write_out(out, result, "hypot")


# ----- lerp -----------------------------------------------------------------------------------------
class Lerp(Function):
    """``x + w * (end - x)``, computed as torch does (from the nearer end for |w| >= 0.5)."""

    _raw = True

    def name(self) -> str:
        return "LerpBackward0" if self.shapes[2] is None else "LerpBackward1"

    @staticmethod
    def forward(ctx: Any, x: Any, end: Any, w: Any) -> Any:
        xp = ctx.xp
        diff = end - x
        if _shape(w) is None:
            out = x + w * diff if -0.5 < w < 0.5 else end - diff * (1 - w)
        else:
            small = xp.abs(w) < 0.5
            out = select(xp, small, x + w * diff, end - diff * (1 - w))
        ctx.save_for_backward(x, end, w)
        ctx.shapes = (x.shape, end.shape, _shape(w))
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, end, w = ctx.saved_tensors
        sx, se, sw = ctx.shapes
        need = ctx.needs_input_grad
        gx = sum_to(grad * (1 - w), sx) if need[0] else None
        ge = sum_to(grad * w, se) if need[1] else None
        gw = sum_to(grad * (end - x), sw) if sw is not None and need[2] else None
        return gx, ge, gw

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        x, end, w = ctx.saved_arrays
        sx, se, sw = ctx.shapes
        need = ctx.needs_input_grad
        xp = ctx.xp
        gx = _sum_to(xp, grad * (1 - w), sx) if need[0] else None
        ge = _sum_to(xp, grad * w, se) if need[1] else None
        gw = _sum_to(xp, grad * (end - x), sw) if sw is not None and need[2] else None
        return gx, ge, gw


def lerp(input: Tensor, end: Tensor, weight: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """Linear interpolation ``input + weight * (end - input)``; ``weight`` a number or a tensor."""
    check_tensor(input, "lerp")
    check_tensor(end, "lerp", "end", 2)
    dt = input._data.dtype
    if dt.kind != "f":
        raise not_implemented("lerp_kernel_scalar" if not isinstance(weight, Tensor) else "lerp_kernel_tensor", input)
    own = TORCH_TYPE_NAMES[dt.name]
    if end._data.dtype != dt:
        raise RuntimeError(f"expected dtype {own.lower()} for `end` but got dtype {_torch_dtype(end)}")
    if isinstance(weight, Tensor):
        if weight._data.dtype != dt:
            raise RuntimeError(f"expected dtype {own.lower()} for `weight` but got dtype {_torch_dtype(weight)}")
        w = weight
    else:
        w = float(weight)
    result = Lerp.apply(input, end, w)
    return result if out is None else _write_out(out, result, "lerp")


def _torch_dtype(t: Tensor) -> str:
    name = t._data.dtype.name
    return {"float32": "float", "float64": "double", "float16": "c10::Half"}.get(name, name)


_UNARY = {
    "exp": exp, "exp2": exp2, "expm1": expm1, "log": log, "log2": log2, "log10": log10, "log1p": log1p,
    "sqrt": sqrt, "rsqrt": rsqrt, "sin": sin, "cos": cos, "tan": tan, "tanh": tanh, "sigmoid": sigmoid,
    "erf": erf, "reciprocal": reciprocal, "asin": asin, "arcsin": arcsin, "acos": acos, "arccos": arccos,
    "atan": atan, "arctan": arctan, "sinh": sinh, "cosh": cosh, "asinh": asinh, "arcsinh": arcsinh,
    "acosh": acosh, "arccosh": arccosh, "atanh": atanh, "arctanh": arctanh, "abs": abs, "absolute": absolute,
    "sign": sign, "sgn": sgn, "floor": floor, "ceil": ceil, "trunc": trunc, "fix": fix, "frac": frac,
    "square": square, "round": round, "nan_to_num": nan_to_num, "lerp": lerp, "atan2": atan2, "arctan2": arctan2,
    "hypot": hypot,
}  # fmt: skip

_NOT_IN_TORCH_NAMESPACE = ("sign_", "sgn_", "absolute_", "lerp_", "atan2_", "arctan2_", "hypot_")
__all__ = [
    *_UNARY, "isnan", "isinf", "isfinite", "isposinf", "isneginf",
    *[name + "_" for name in _UNARY if name + "_" not in _NOT_IN_TORCH_NAMESPACE],
]  # fmt: skip
FUNCTIONAL = ["sigmoid", "tanh"]
TENSOR_METHODS: dict = {
    **_UNARY, "isnan": isnan, "isinf": isinf, "isfinite": isfinite, "isposinf": isposinf, "isneginf": isneginf,
    **{name + "_": inplace(fn, name + "_") for name, fn in _UNARY.items()},
}  # fmt: skip
for _name in __all__:
    if _name.endswith("_"):
        globals()[_name] = TENSOR_METHODS[_name]
