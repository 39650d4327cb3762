"""Elementwise math: exp/log/trig families, rounding, float predicates, clamp, maximum/minimum, where, lerp.

Every differentiable op is a ``_raw`` Function with three pieces: ``f`` (forward on arrays), ``dfa`` (the
gradient on arrays: the fast path used when no graph of the backward is wanted) and ``df`` (the same
formula in Tensor ops, so that double backward works). Formulas follow PyTorch's derivatives.yaml so
gradients agree at kinks and special values (abs'(0) = 0, clamp passes the gradient at its bounds, ...).
NumPy's floating-point warnings are silenced inside ops (``quiet``): torch returns inf/nan silently.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import warnings
from typing import Any

from .. import _dtype
from .._dtype import FROM_NUMPY
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..backends import backend_of_array
from ..tensor import Tensor
from ._common import assign_inplace, cast, check_tensor, promote_operands, result_type
from .broadcast import _sum_to, sum_to

_NULL = contextlib.nullcontext()
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# torch's scalar type names, for "not implemented for 'Long'" errors
TORCH_TYPE_NAMES = {
    "float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "uint8": "Byte",
    "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool",
}  # fmt: skip


def quiet(xp: Any) -> Any:
    """Silence NumPy's floating-point warnings (torch gives inf/nan silently); a no-op for CuPy."""
    return xp.errstate(all="ignore") if xp.__name__ == "numpy" else _NULL


_BLEND_MIN = 8192  # below this, np.where's per-call cost wins
_INT_VIEW = {2: "int16", 4: "int32", 8: "int64"}


def select(xp: Any, mask: Any, a: Any, b: Any) -> Any:
    """``xp.where(mask, a, b)``; on NumPy, large float arrays are blended branch-free through their bits.

    (np.where is ~6x slower than arithmetic on unpredictable masks, and relu's gradient is exactly
    that.) The blend handles ``a``/``b`` arrays of the mask's shape and dtype, or the number 0.
    """
    if xp.__name__ != "numpy" or type(mask) is not xp.ndarray or mask.size < _BLEND_MIN:
        return xp.where(mask, a, b)
    shape = mask.shape
    a_arr, b_arr = type(a) is xp.ndarray, type(b) is xp.ndarray
    ref = a if a_arr and a.ndim else b
    if not (a_arr or b_arr) or type(ref) is not xp.ndarray or ref.shape != shape or ref.dtype.kind != "f":
        return xp.where(mask, a, b)
    it = _INT_VIEW[ref.dtype.itemsize]
    if a_arr and b_arr and a.ndim and b.ndim:
        if b.shape != shape or b.dtype != a.dtype:
            return xp.where(mask, a, b)
        keep = mask.astype(it)
        xp.negative(keep, out=keep)  # all ones where mask
        out = xp.bitwise_and(a.view(it), keep)
        xp.invert(keep, out=keep)
        keep &= b.view(it)
        out |= keep
        return out.view(a.dtype)
    other = b if ref is a else a
    if type(other) is xp.ndarray:
        if other.ndim or other.dtype != ref.dtype:
            return xp.where(mask, a, b)
        other = other.item()
    if not isinstance(other, (int, float)) or other != 0:
        return xp.where(mask, a, b)
    keep = mask.astype(it)
    if ref is a:
        xp.negative(keep, out=keep)  # keep a where mask
    else:
        keep -= 1  # keep b where not mask
    keep &= ref.view(it)
    return keep.view(ref.dtype)


def not_implemented(kernel: str, t: Tensor) -> NotImplementedError:
    return NotImplementedError(f"\"{kernel}\" not implemented for '{TORCH_TYPE_NAMES[t._data.dtype.name]}'")


def _shape(v: Any) -> Any:
    return v.shape if hasattr(v, "shape") else None


def _const(array: Any, like: Tensor) -> Tensor:
    """A constant (no graph) Tensor on ``like``'s device."""
    return Tensor._wrap(array, like._backend)


def _zeros_t(g: Tensor) -> Tensor:
    return _const(g._backend.xp.zeros_like(g._data), g)


# ----- the elementwise Function ---------------------------------------------------------------------
class Elementwise(Function):
    """``y = f(x, *params)`` elementwise.

    Subclasses set ``f(xp, x, *params)``, ``dfa(xp, g, v, *params)`` (arrays) and ``df(g, v, *params)``
    (Tensors), where ``v`` is the output when ``_out`` is True, else the input. ``_to_float``: integer
    inputs become the default float dtype first (exp, sin ...). ``_half``: float16 is computed in float32
    (formulas of several steps), like torch's CPU kernels.
    """

    _raw = True
    _out = False
    _to_float = True
    _half = False
    _quiet = True

    @staticmethod
    def f(xp: Any, x: Any, *params: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def forward(ctx: Any, x: Any, *params: Any) -> Any:
        xp = ctx.xp
        if x.dtype.kind != "f":
            if ctx._to_float:
                x = x.astype(_dtype.get_default_dtype().np)
            xf = x
        else:
            xf = x.astype("float32") if ctx._half and x.dtype.itemsize == 2 else x
        if ctx._quiet and xp.__name__ == "numpy":
            with xp.errstate(all="ignore"):
                out = ctx.f(xp, xf, *params)
        else:
            out = ctx.f(xp, xf, *params)
        if xf is not x:
            out = out.astype(x.dtype)
        ctx.params = params
        ctx.save_for_backward(out if ctx._out else x)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        (v,) = ctx.saved_tensors
        params = ctx.params
        g = ctx.df(grad, v, *params)
        return (g, *(None for _ in params)) if params else g

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        (v,) = ctx.saved_arrays
        params = ctx.params
        xp = ctx.xp
        with quiet(xp):
            if ctx._half and v.dtype.itemsize == 2:
                g = ctx.dfa(xp, grad.astype("float32"), v.astype("float32"), *params).astype(v.dtype)
            else:
                g = ctx.dfa(xp, grad, v, *params)
        return (g, *(None for _ in params)) if params else g


def pointwise(name: str, f: Any, df: Any, dfa: Any, *, out: bool = False, to_float: bool = True,
        warns: bool = True, half: bool = False) -> type:  # fmt: skip
    return type(name, (Elementwise,), {
        "f": staticmethod(f), "df": staticmethod(df), "dfa": staticmethod(dfa),
        "_out": out, "_to_float": to_float, "_quiet": warns, "_half": half,
    })  # fmt: skip


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
def _write_out(out: Any, result: Tensor, name: str) -> Tensor:
    """``out=``: copy the result into ``out`` (resized when its shape differs), like torch."""
    check_tensor(out, name, "out")
    if state.enabled and (result.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad."
        )
    if out._data.shape != result._data.shape:
        out._data = out._backend.xp.empty(result._data.shape, dtype=out._data.dtype)
    return assign_inplace(out, result, name)


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


# ----- clamp ------------------------------------------------------------------------------------------
class Clamp(Function):
    """``min(max(x, lo), hi)``; ``lo``/``hi`` are arrays (tensors), numbers or None."""

    _raw = True

    def name(self) -> str:
        return self._name

    @staticmethod
    def forward(ctx: Any, x: Any, lo: Any, hi: Any, name: str) -> Any:
        xp = ctx.xp
        out = x if lo is None else xp.maximum(x, lo)
        if hi is not None:
            out = xp.minimum(out, hi)
        ctx._name = name
        ctx.save_for_backward(x, lo, hi)
        return out

    @staticmethod
    def _masks(xp: Any, x: Any, lo: Any, hi: Any, need: tuple) -> tuple:
        """Where each input gets the gradient (torch's clamp_backward_min_max)."""
        mx = mlo = mhi = None
        if lo is not None and hi is not None:
            if need[0]:
                mx = (x >= lo) & (x <= hi)
            if need[1]:
                mlo = (x < lo) & (lo < hi)
            if need[2]:
                mhi = (x > hi) | (hi < lo)
        elif lo is not None:
            mx = x >= lo if need[0] else None
            mlo = x < lo if need[1] else None
        else:
            mx = x <= hi if need[0] else None
            mhi = x > hi if need[2] else None
        return mx, mlo, mhi

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, lo, hi = ctx.saved_arrays
        need = ctx.needs_input_grad
        masks = Clamp._masks(ctx.xp, x, lo, hi, need)
        grads = []
        for mask, v in zip(masks, (x, lo, hi)):
            if mask is None:
                grads.append(None)
            else:
                grads.append(sum_to(where(_const(mask, grad), grad, 0.0), v.shape))
        return (*grads, None)

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        x, lo, hi = ctx.saved_arrays
        xp = ctx.xp
        masks = Clamp._masks(xp, x, lo, hi, ctx.needs_input_grad)
        grads = []
        for mask, v in zip(masks, (x, lo, hi)):
            grads.append(None if mask is None else _sum_to(xp, select(xp, mask, grad, 0), v.shape))
        return (*grads, None)


def _wrap_int(value: int, dt: _dtype.dtype) -> int:
    span = 1 << (8 * dt.itemsize)
    low = -(span >> 1) if dt.is_signed else 0
    return value if low <= value < low + span else (value - low) % span + low


def _bound(value: Any, dt: _dtype.dtype, op: str) -> Any:
    """A clamp bound in the result dtype: a Tensor cast to it, or a number converted to it."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        return cast(value, dt)
    if not isinstance(value, (int, float, bool)):
        raise TypeError(f"{op}(): min and max must be Tensors or numbers, got {type(value).__name__}")
    if dt.is_floating_point:
        return float(value)
    if dt is _dtype.bool_:
        return bool(value)
    return dt.np.type(_wrap_int(int(value), dt))


def _clamp(input: Tensor, min: Any, max: Any, op: str, kind: str) -> Tensor:  # noqa: A002
    check_tensor(input, op)
    if min is None and max is None:
        raise RuntimeError(f"torch.{op}: At least one of 'min' or 'max' must not be None")
    tensors = isinstance(min, Tensor) or isinstance(max, Tensor)
    if type(min) is float and max is None and input._data.dtype.kind == "f":
        dt = FROM_NUMPY[input._data.dtype]  # the common case, fast
    else:
        dt = result_type(input, *[v for v in (min, max) if v is not None])
    x = cast(input, dt)
    suffix = ("Backward0" if tensors else "Backward1") if kind == "Clamp" else ("Backward1" if tensors else "Backward0")
    return Clamp.apply(x, _bound(min, dt, op), _bound(max, dt, op), kind + suffix)


def clamp(input: Tensor, min: Any = None, max: Any = None, *, out: Any = None) -> Tensor:  # noqa: A002
    """Clamp into ``[min, max]`` (numbers or broadcastable tensors); the gradient passes at the bounds."""
    result = _clamp(input, min, max, "clamp", "Clamp")
    return result if out is None else _write_out(out, result, "clamp")


clip = clamp


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return _clamp(input, min, None, "clamp_min", "ClampMin")


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return _clamp(input, None, max, "clamp_max", "ClampMax")


# ----- binary ops ---------------------------------------------------------------------------------------
class _MaxMin(Function):
    """maximum/minimum: the gradient goes to the larger (smaller) input; ties share it half and half."""

    _raw = True
    _ufunc = "maximum"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return getattr(ctx.xp, ctx._ufunc)(a, b)

    @staticmethod
    def _masks(ctx: Any, a: Any, b: Any) -> tuple:
        """(tie mask, where a loses, where b loses), as torch's masked_fill_ conditions."""
        if ctx._ufunc == "maximum":
            return a == b, a < b, a > b
        return a == b, a > b, a < b

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        a, b = ctx.saved_arrays
        tie, a_loses, b_loses = _MaxMin._masks(ctx, a, b)
        shared = where(_const(tie, grad), grad / 2, grad)
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(where(_const(a_loses, grad), 0.0, shared), a.shape) if need_a else None
        gb = sum_to(where(_const(b_loses, grad), 0.0, shared), b.shape) if need_b else None
        return ga, gb

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        a, b = ctx.saved_arrays
        xp = ctx.xp
        tie, a_loses, b_loses = _MaxMin._masks(ctx, a, b)
        shared = select(xp, tie, grad / 2, grad)
        need_a, need_b = ctx.needs_input_grad
        ga = _sum_to(xp, select(xp, a_loses, 0, shared), a.shape) if need_a else None
        gb = _sum_to(xp, select(xp, b_loses, 0, shared), b.shape) if need_b else None
        return ga, gb


class Maximum(_MaxMin):
    _ufunc = "maximum"


class Minimum(_MaxMin):
    _ufunc = "minimum"


def _binary_tensors(input: Any, other: Any, op: str) -> None:  # noqa: A002
    check_tensor(input, op, "input", 1)
    check_tensor(other, op, "other", 2)


def maximum(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """Elementwise maximum of two tensors (nan propagates)."""
    _binary_tensors(input, other, "maximum")
    a, b = promote_operands(input, other, "maximum")
    result = Maximum.apply(a, b)
    return result if out is None else _write_out(out, result, "maximum")


def minimum(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """Elementwise minimum of two tensors (nan propagates)."""
    _binary_tensors(input, other, "minimum")
    a, b = promote_operands(input, other, "minimum")
    result = Minimum.apply(a, b)
    return result if out is None else _write_out(out, result, "minimum")


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


# ----- where ----------------------------------------------------------------------------------------------
class Where(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, cond: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(cond)
        ctx.shapes = (_shape(a), _shape(b))
        return select(ctx.xp, cond, a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        (cond,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        _, need_a, need_b = ctx.needs_input_grad
        ga = sum_to(Where.apply(cond, grad, 0.0), sa) if need_a else None
        gb = sum_to(Where.apply(cond, 0.0, grad), sb) if need_b else None
        return None, ga, gb

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        (cond,) = ctx.saved_arrays
        sa, sb = ctx.shapes
        xp = ctx.xp
        _, need_a, need_b = ctx.needs_input_grad
        ga = _sum_to(xp, select(xp, cond, grad, 0), sa) if need_a else None
        gb = _sum_to(xp, select(xp, cond, 0, grad), sb) if need_b else None
        return None, ga, gb


def _scalar_as(value: Any, dt: _dtype.dtype, like: Tensor) -> Any:
    """A number as a 0-d array of dtype ``dt`` on ``like``'s device."""
    return like._backend.asarray(float(value) if dt.is_floating_point else value, dtype=dt.np)


def where(condition: Tensor, input: Any = None, other: Any = None, *, out: Any = None) -> Any:  # noqa: A002
    """``input`` where ``condition`` holds, else ``other`` (tensors or numbers, broadcast and promoted).

    With only ``condition``: the indices of its nonzero elements, as a tuple (``nonzero(as_tuple=True)``).
    """
    check_tensor(condition, "where", "condition")
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if input is None or other is None:
        raise TypeError("where(): expected both input and other, or neither")
    kind = condition._data.dtype.kind
    if kind != "b":
        if condition._data.dtype.name != "uint8":
            raise RuntimeError(
                "where expected condition to be a boolean tensor, but got a tensor with dtype "
                f"{TORCH_TYPE_NAMES[condition._data.dtype.name]}"
            )
        warnings.warn(
            "where received a uint8 condition tensor. This behavior is deprecated and will be removed in a "
            "future version of PyTorch. Use a boolean condition instead.",
            UserWarning,
            stacklevel=2,
        )
        condition = cast(condition, _dtype.bool_)
    ta, tb = isinstance(input, Tensor), isinstance(other, Tensor)
    if ta and tb and input._data.dtype == other._data.dtype:
        a, b = input, other
    else:
        dt = result_type(input, other)
        a = cast(input, dt) if ta else _scalar_as(input, dt, condition)
        b = cast(other, dt) if tb else _scalar_as(other, dt, condition)
    result = Where.apply(condition, a, b)
    return result if out is None else _write_out(out, result, "where")


# ----- lerp -------------------------------------------------------------------------------------------------
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


# ----- in-place methods -------------------------------------------------------------------------------------
def inplace_source(self: Tensor) -> Tensor:
    """The tensor an in-place op reads: ``self``, or under autograd a fresh alias of it.

    Under grad mode ``assign_inplace`` rebinds ``self`` to the new array, so the old one stays intact;
    reading it through an alias keeps the version check of a backward that saved it from tripping
    (torch saves a copy of ``self`` for these ops).
    """
    if self.grad_fn is None or not state.enabled:
        return self  # no history (a leaf that requires grad is refused by assign_inplace)
    alias = Tensor._wrap(self._data, self._backend)
    alias.requires_grad = True
    alias.grad_fn = self.grad_fn
    alias._output_nr = self._output_nr
    return alias


def inplace(fn: Any, name: str) -> Any:
    """``x.op_(...)``: ``op`` computed out of place, then written back into ``x``."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return assign_inplace(self, fn(inplace_source(self), *args, **kwargs), name)

    method.__name__ = name
    return method


def _tensor_where(self: Tensor, condition: Tensor, y: Any) -> Tensor:
    return where(condition, self, y)


_UNARY = {
    "exp": exp, "exp2": exp2, "expm1": expm1, "log": log, "log2": log2, "log10": log10, "log1p": log1p,
    "sqrt": sqrt, "rsqrt": rsqrt, "sin": sin, "cos": cos, "tan": tan, "tanh": tanh, "sigmoid": sigmoid,
    "erf": erf, "reciprocal": reciprocal, "asin": asin, "arcsin": arcsin, "acos": acos, "arccos": arccos,
    "atan": atan, "arctan": arctan, "sinh": sinh, "cosh": cosh, "asinh": asinh, "arcsinh": arcsinh,
    "acosh": acosh, "arccosh": arccosh, "atanh": atanh, "arctanh": arctanh, "abs": abs, "absolute": absolute,
    "sign": sign, "sgn": sgn, "floor": floor, "ceil": ceil, "trunc": trunc, "fix": fix, "frac": frac,
    "square": square, "round": round, "nan_to_num": nan_to_num, "clamp": clamp, "clip": clip,
    "clamp_min": clamp_min, "clamp_max": clamp_max, "lerp": lerp, "atan2": atan2, "arctan2": arctan2,
    "hypot": hypot,
}  # fmt: skip

_NOT_IN_TORCH_NAMESPACE = ("sign_", "sgn_", "absolute_", "lerp_", "atan2_", "arctan2_", "hypot_")
__all__ = [
    *_UNARY, "isnan", "isinf", "isfinite", "isposinf", "isneginf", "maximum", "minimum", "where",
    *[name + "_" for name in _UNARY if name + "_" not in _NOT_IN_TORCH_NAMESPACE],
]  # fmt: skip
FUNCTIONAL = ["sigmoid", "tanh"]
TENSOR_METHODS: dict = {
    **_UNARY, "isnan": isnan, "isinf": isinf, "isfinite": isfinite, "isposinf": isposinf,
    "isneginf": isneginf, "maximum": maximum, "minimum": minimum, "where": _tensor_where,
    **{name + "_": inplace(fn, name + "_") for name, fn in _UNARY.items()},
}  # fmt: skip
for _name in __all__:
    if _name.endswith("_"):
        globals()[_name] = TENSOR_METHODS[_name]
