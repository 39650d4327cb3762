"""Elementwise converters: activations, clamp/max/min/where, comparisons and logic, remainders, predicates,
atan2/hypot/lerp/nan_to_num, and dtype-correct variants of some arithmetic.py converters.

Every converter reproduces the eager (NumPy) result, NaN and infinities included: activations that eager
computes in float32 for float16 inputs do the same here, and ONNX ops whose edge cases differ from torch's
(Sign(nan), Hardshrink(nan), Mod's sign rules ...) are decomposed. Types ONNX Runtime has no kernel for
(int16 Max/Where, bool Where, int8 Pow ...) are computed in a wider type and cast back, which is exact.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..graph import GraphBuilder, to_numpy
from ..registry import converter
from ..tracer import TracedOp, TracingError, Value
from ._util import operand, out_dtype

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_BOOL, _U8, _I16, _I32 = np.dtype(np.bool_), np.dtype(np.uint8), np.dtype(np.int16), np.dtype(np.int32)
# ONNX Runtime's CPU kernels lack these types for Max/Min/Clip/Where/Less...; the wider type gives equal results
_WIDE = {_BOOL: _U8, _I16: _I32}
_WIDE_POW = {_BOOL: _I32, np.dtype(np.int8): _I32, _U8: _I32, _I16: _I32}
# Add/Sub/Mul/Div take 8- and 16-bit integers from opset 14 only; int32 arithmetic cast back wraps the same way
_SMALL_INTS = {np.dtype(t): _I32 for t in (np.int8, np.int16, np.uint8, np.uint16)}
_SQRT1_2 = math.sqrt(0.5)
_GELU_BETA = math.sqrt(2.0 / math.pi)
_GELU_KAPPA = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# ----- helpers ------------------------------------------------------------------------------------------------
def _dt(op: TracedOp) -> np.dtype:
    return np.dtype(out_dtype(op))


def _is_float(dt: Any) -> bool:
    return np.dtype(dt).kind == "f"


def _arg(g: GraphBuilder, value: Any, dtype: Any) -> str:
    """A Value, Python number or raw (0-d) array as an ONNX name of ``dtype``."""
    if isinstance(value, Value) or not hasattr(value, "dtype"):
        return operand(g, value, dtype)
    return g.const(np.asarray(to_numpy(value)).astype(dtype))


def _in_dtype(*args: Any) -> np.dtype:
    """The dtype the operands of a promoted binary op share (the first Value's, else the first array's)."""
    for a in args:
        if isinstance(a, Value):
            return np.dtype(a.dtype)
    for a in args:
        if hasattr(a, "dtype"):
            return np.dtype(a.dtype)
    raise TracingError(f"expected a tensor among the operands {args!r}")


def _wide_op(g: GraphBuilder, op_type: str, names: list, dt: Any, table: dict = _WIDE, **attrs: Any) -> str:
    """``op_type`` on ``names`` (all of dtype ``dt``), computed in ``table[dt]`` when ONNX Runtime lacks ``dt``."""
    dt = np.dtype(dt)
    wide = table.get(dt, dt)
    out = g.op(op_type, *(None if n is None else g.cast(n, dt, wide) for n in names), **attrs)
    return g.cast(out, wide, dt)


def _wide_op_bool(g: GraphBuilder, op_type: str, names: list, dt: Any) -> str:
    """A comparison in the wider type when ONNX Runtime lacks ``dt`` (the result is bool either way)."""
    dt = np.dtype(dt)
    wide = _WIDE.get(dt, dt)
    return g.op(op_type, *(g.cast(n, dt, wide) for n in names))


def _compute(dt: np.dtype, half: bool = True) -> np.dtype:
    """The dtype eager computes in: float32 for float16 when the kernel works in float32 (``_half``)."""
    return _F32 if half and dt == _F16 else dt


def _unary_float(g: GraphBuilder, op: TracedOp, build: Any, half: bool = True) -> str:
    """``build(x, cdt)`` on the first argument in its compute dtype, cast back to the output dtype."""
    dt = _dt(op)
    cdt = _compute(dt, half)
    return g.cast(build(operand(g, op.args[0], cdt), cdt), cdt, dt)


def _where(g: GraphBuilder, cond: str, a: str, b: str, dt: Any) -> str:
    dt = np.dtype(dt)
    wide = _WIDE.get(dt, dt)
    return g.cast(g.op("Where", cond, g.cast(a, dt, wide), g.cast(b, dt, wide)), wide, dt)


def _int_arith(g: GraphBuilder, op_type: str, names: list, dt: Any) -> str:
    """Add/Sub/Mul/Div/Neg, in int32 for 8- and 16-bit integers before opset 14."""
    return _wide_op(g, op_type, names, dt, _SMALL_INTS if g.opset < 14 else {})


def _isinf(g: GraphBuilder, x: str, dt: Any, **attrs: Any) -> str:
    """IsInf (float16 from opset 20 only: before, through float32)."""
    return g.op("IsInf", g.cast(x, dt, _F32) if np.dtype(dt) == _F16 and g.opset < 20 else x, **attrs)


def _to_bool(g: GraphBuilder, value: Any) -> str:
    """Truthiness as bool (nan is true, as in NumPy's logical ops)."""
    if isinstance(value, Value):
        return g.cast(g.name(value), value.dtype, _BOOL)
    if hasattr(value, "dtype"):
        return g.const(np.asarray(to_numpy(value)).astype(bool))
    return g.const(np.asarray(bool(value)))


def _softplus(g: GraphBuilder, x: str, dt: np.dtype) -> str:
    """log(1 + exp(x)); ONNX's Softplus is stable but ONNX Runtime has it for float32/float16 only."""
    if dt == _F64:
        return g.op("Log", g.op("Add", g.op("Exp", x), g.scalar(1, dt)))
    return g.op("Softplus", x)


def _clip(g: GraphBuilder, x: str, lo: Any, hi: Any, dt: np.dtype) -> str:
    """min(max(x, lo), hi) for two number bounds; nan stays nan."""
    return _wide_op(g, "Clip", [x, g.scalar(lo, dt), g.scalar(hi, dt)], dt)


# ----- relu family ---------------------------------------------------------------------------------------------
@converter("Relu")
def _relu(g: GraphBuilder, op: TracedOp) -> str:
    dt = _dt(op)
    x = operand(g, op.args[0], dt)
    if _is_float(dt):
        return g.op("Relu", x)
    return _wide_op(g, "Max", [x, g.scalar(0, dt)], dt)  # integer Relu: opset 14+ and not all types


@converter("Hardtanh")
def _hardtanh(g: GraphBuilder, op: TracedOp) -> str:
    x, lo, hi = op.args[:3]
    dt = _dt(op)
    return _clip(g, operand(g, x, dt), lo, hi, dt)


@converter("Threshold")
def _threshold(g: GraphBuilder, op: TracedOp) -> str:
    x, th, value = op.args[:3]
    dt = _dt(op)
    xn = operand(g, x, dt)
    if _is_float(dt):
        below = g.op("LessOrEqual", xn, g.scalar(th, dt))
    elif float(th).is_integer() and np.iinfo(dt).min <= th <= np.iinfo(dt).max:
        below = _wide_op_bool(g, "LessOrEqual", [xn, g.scalar(int(th), dt)], dt)
    else:  # an integer tensor against a fractional threshold: NumPy compares in float64
        below = g.op("LessOrEqual", g.cast(xn, dt, _F64), g.scalar(th, _F64))
    return _where(g, below, g.scalar(value, dt), xn, dt)


@converter("LeakyRelu")
def _leaky_relu(g: GraphBuilder, op: TracedOp) -> str:
    x, slope = op.args[:2]
    dt = _dt(op)
    xn = operand(g, x, dt)
    if dt == _F32:
        return g.op("LeakyRelu", xn, alpha=float(slope))
    pos = g.op("Greater", xn, g.scalar(0, dt))
    return g.op("Where", pos, xn, g.op("Mul", xn, g.scalar(slope, dt)))


@converter("PreluKernel")
def _prelu(g: GraphBuilder, op: TracedOp) -> str:
    x, w = op.args[:2]
    dt = _dt(op)
    xn, wn = operand(g, x, dt), _arg(g, w, dt)
    if dt in (_F16, _F32):
        return g.op("PRelu", xn, wn)
    return g.op("Where", g.op("Greater", xn, g.scalar(0, dt)), xn, g.op("Mul", wn, xn))


@converter("Hardshrink")
def _hardshrink(g: GraphBuilder, op: TracedOp) -> str:
    x, lambd = op.args[:2]
    dt = _dt(op)
    xn = operand(g, x, dt)
    inside = g.op("And", g.op("GreaterOrEqual", xn, g.scalar(-lambd, dt)), g.op("LessOrEqual", xn, g.scalar(lambd, dt)))
    return g.op("Where", inside, g.scalar(0, dt), xn)  # ONNX Hardshrink maps nan to 0


@converter("Softshrink")
def _softshrink(g: GraphBuilder, op: TracedOp) -> str:
    x, lambd = op.args[:2]
    dt = _dt(op)
    xn = operand(g, x, dt)
    lo, hi = g.scalar(-lambd, dt), g.scalar(lambd, dt)
    inner = g.op("Where", g.op("Less", xn, lo), g.op("Sub", xn, lo), g.op("Mul", xn, g.scalar(0, dt)))
    return g.op("Where", g.op("Greater", xn, hi), g.op("Sub", xn, hi), inner)


# ----- elu family ------------------------------------------------------------------------------------------------
@converter("Elu", "Celu")
def _elu(g: GraphBuilder, op: TracedOp) -> str:
    _, alpha, scale, input_scale = op.args[:4]

    def build(x: str, dt: np.dtype) -> str:
        if dt == _F32 and input_scale == 1.0 and scale == 1.0:
            return g.op("Elu", x, alpha=float(alpha))
        if dt == _F32 and input_scale == 1.0 and alpha == _SELU_ALPHA and scale == _SELU_SCALE:
            return g.op("Selu", x, alpha=float(alpha), gamma=float(scale))
        if dt == _F32 and scale == 1.0 and input_scale == 1.0 / alpha:
            return g.op("Celu", x, alpha=float(alpha))
        xs = x if input_scale == 1.0 else g.op("Mul", x, g.scalar(input_scale, dt))
        neg = g.op("Mul", g.op("Sub", g.op("Exp", xs), g.scalar(1, dt)), g.scalar(alpha * scale, dt))
        pos = x if scale == 1.0 else g.op("Mul", x, g.scalar(scale, dt))
        return g.op("Where", g.op("LessOrEqual", x, g.scalar(0, dt)), neg, pos)

    return _unary_float(g, op, build)


# ----- smooth activations -----------------------------------------------------------------------------------------
def _gelu_decomposed(g: GraphBuilder, x: str, dt: np.dtype, approximate: str) -> str:
    if approximate == "tanh":
        cube = g.op("Mul", g.op("Mul", x, x), x)
        inner = g.op("Mul", g.scalar(_GELU_BETA, dt), g.op("Add", x, g.op("Mul", g.scalar(_GELU_KAPPA, dt), cube)))
        half_x = g.op("Mul", g.scalar(0.5, dt), x)
        return g.op("Mul", half_x, g.op("Add", g.scalar(1, dt), g.op("Tanh", inner)))
    erf = g.op("Erf", g.op("Mul", x, g.scalar(_SQRT1_2, dt)))
    cdf = g.op("Mul", g.op("Add", erf, g.scalar(1, dt)), g.scalar(0.5, dt))
    return g.op("Mul", x, cdf)


@converter("Gelu")
def _gelu(g: GraphBuilder, op: TracedOp) -> str:
    approximate = str(op.args[1])
    return _unary_float(g, op, lambda x, dt: _gelu_decomposed(g, x, dt, approximate))


@converter("Gelu", since=20)
def _gelu_20(g: GraphBuilder, op: TracedOp) -> str:
    approximate = str(op.args[1])

    def build(x: str, dt: np.dtype) -> str:
        if dt == _F32:
            return g.op("Gelu", x, approximate=approximate)
        return _gelu_decomposed(g, x, dt, approximate)

    return _unary_float(g, op, build)


@converter("Silu")
def _silu(g: GraphBuilder, op: TracedOp) -> str:
    return _unary_float(g, op, lambda x, dt: g.op("Mul", x, g.op("Sigmoid", x)))


@converter("Mish")
def _mish(g: GraphBuilder, op: TracedOp) -> str:
    def build(x: str, dt: np.dtype) -> str:
        if dt == _F32 and g.opset >= 18:
            return g.op("Mish", x)
        return g.op("Mul", x, g.op("Tanh", _softplus(g, x, dt)))

    return _unary_float(g, op, build)


@converter("Softplus")
def _softplus_op(g: GraphBuilder, op: TracedOp) -> str:
    _, beta, threshold = op.args[:3]

    def build(x: str, dt: np.dtype) -> str:
        xb = x if beta == 1.0 else g.op("Mul", x, g.scalar(beta, dt))
        soft = _softplus(g, xb, dt)
        if beta != 1.0:
            soft = g.op("Div", soft, g.scalar(beta, dt))
        return g.op("Where", g.op("Greater", xb, g.scalar(threshold, dt)), x, soft)  # linear above the threshold

    return _unary_float(g, op, build)


@converter("Hardswish")
def _hardswish(g: GraphBuilder, op: TracedOp) -> str:
    def build(x: str, dt: np.dtype) -> str:
        if dt == _F32 and g.opset >= 14:
            return g.op("HardSwish", x)
        relu6 = _clip(g, g.op("Add", x, g.scalar(3, dt)), 0, 6, dt)
        return g.op("Div", g.op("Mul", x, relu6), g.scalar(6, dt))

    return _unary_float(g, op, build)


@converter("Hardsigmoid")
def _hardsigmoid(g: GraphBuilder, op: TracedOp) -> str:
    def build(x: str, dt: np.dtype) -> str:
        return g.op("Div", _clip(g, g.op("Add", x, g.scalar(3, dt)), 0, 6, dt), g.scalar(6, dt))

    return _unary_float(g, op, build)


@converter("LogSigmoid")
def _logsigmoid(g: GraphBuilder, op: TracedOp) -> str:
    def build(x: str, dt: np.dtype) -> str:
        tail = _softplus(g, g.op("Neg", g.op("Abs", x)), dt)
        return g.op("Sub", g.op("Min", x, g.scalar(0, dt)), tail)

    return _unary_float(g, op, build)


# ----- selection -------------------------------------------------------------------------------------------------
@converter("Clamp")
def _clamp(g: GraphBuilder, op: TracedOp) -> str:
    x, lo, hi = op.args[:3]
    dt = _dt(op)
    xn = operand(g, x, dt)
    if lo is not None and hi is not None and not isinstance(lo, Value) and not isinstance(hi, Value):
        return _clip(g, xn, lo, hi, dt)  # one node; a missing Clip bound would clip +-inf to the dtype's limits
    if lo is not None:
        xn = _wide_op(g, "Max", [xn, _arg(g, lo, dt)], dt)
    if hi is not None:
        xn = _wide_op(g, "Min", [xn, _arg(g, hi, dt)], dt)
    return xn


@converter("_ClampStraight")
def _clamp_straight(g: GraphBuilder, op: TracedOp) -> str:
    x, lo = op.args[:2]
    dt = _dt(op)
    return _wide_op(g, "Max", [operand(g, x, dt), g.scalar(lo, dt)], dt)


def _max_min(onnx_op: str) -> Any:
    def convert(g: GraphBuilder, op: TracedOp) -> str:
        a, b = op.args[:2]
        dt = _dt(op)
        return _wide_op(g, onnx_op, [_arg(g, a, dt), _arg(g, b, dt)], dt)

    return convert


converter("Maximum")(_max_min("Max"))
converter("Minimum")(_max_min("Min"))


@converter("Where")
def _where_op(g: GraphBuilder, op: TracedOp) -> str:
    cond, a, b = op.args[:3]
    dt = _dt(op)
    return _where(g, _to_bool(g, cond), _arg(g, a, dt), _arg(g, b, dt), dt)


# ----- comparisons, logic, integer division ------------------------------------------------------------------
_COMPARE = {"equal": "Equal", "less": "Less", "less_equal": "LessOrEqual", "greater": "Greater",
            "greater_equal": "GreaterOrEqual", "not_equal": "Equal"}  # fmt: skip
_LOGICAL = {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}
_BITWISE = {"bitwise_and": "And", "bitwise_or": "Or", "bitwise_xor": "Xor"}


@converter("_NonDiff")
def _non_diff(g: GraphBuilder, op: TracedOp) -> str:
    a, b, name = op.args[:3]
    if name in _LOGICAL:
        return g.op(_LOGICAL[name], _to_bool(g, a), _to_bool(g, b))
    if name in _COMPARE:
        dt = _in_dtype(a, b)
        an, bn = _arg(g, a, dt), _arg(g, b, dt)
        if name in ("equal", "not_equal"):
            eq = g.op("Equal", an, bn)
            return g.op("Not", eq) if name == "not_equal" else eq
        return _wide_op_bool(g, _COMPARE[name], [an, bn], dt)
    dt = _dt(op)
    an, bn = _arg(g, a, dt), _arg(g, b, dt)
    if name in _BITWISE:
        if dt == _BOOL:
            return g.op(_BITWISE[name], an, bn)
        if g.opset < 18:
            raise TracingError(
                f"{name} on {dt} tensors needs ONNX's Bitwise ops (opset 18 or later); export with opset_version >= 18"
            )
        return g.op("Bitwise" + _BITWISE[name].capitalize(), an, bn)
    if name == "floor_divide":
        return _floor_divide(g, an, bn, dt)
    if name == "trunc_divide":
        if not _is_float(dt):
            return _int_arith(g, "Div", [an, bn], dt)  # ONNX's integer Div truncates
        q = g.op("Div", an, bn)
        return g.op("Where", g.op("Less", q, g.scalar(0, dt)), g.op("Ceil", q), g.op("Floor", q))
    raise TracingError(f"no ONNX conversion for the comparison/integer op {name!r}")


def _floor_divide(g: GraphBuilder, a: str, b: str, dt: np.dtype) -> str:
    """torch/NumPy floor division: exact for integers; for floats NumPy's divmod algorithm (1 // 0.1 == 9)."""
    if not _is_float(dt):
        rest = _int_arith(g, "Sub", [a, g.op("Mod", a, b, fmod=0)], dt)  # a - a mod b: a multiple of b
        return _int_arith(g, "Div", [rest, b], dt)
    cdt = _compute(dt)
    a, b = g.cast(a, dt, cdt), g.cast(b, dt, cdt)
    zero = g.scalar(0, cdt)
    mod = g.op("Mod", a, b, fmod=1)
    div = g.op("Div", g.op("Sub", a, mod), b)
    fix = g.op(
        "And", g.op("Not", g.op("Equal", mod, zero)), g.op("Xor", g.op("Less", b, zero), g.op("Less", mod, zero))
    )
    div = g.op("Where", fix, g.op("Sub", div, g.scalar(1, cdt)), div)
    floor = g.op("Floor", div)
    up = g.op("Greater", g.op("Sub", div, floor), g.scalar(0.5, cdt))
    floor = g.op("Where", up, g.op("Add", floor, g.scalar(1, cdt)), floor)
    out = g.op("Where", g.op("Equal", b, zero), g.op("Div", a, b), floor)
    return g.cast(out, cdt, dt)


@converter("_Remainder")
def _remainder(g: GraphBuilder, op: TracedOp) -> str:
    a, b, name = op.args[:3]
    dt = _dt(op)
    an, bn = _arg(g, a, dt), _arg(g, b, dt)
    if not _is_float(dt):
        return g.op("Mod", an, bn, fmod=int(name == "fmod"))
    cdt = _compute(dt)
    an, bn = g.cast(an, dt, cdt), g.cast(bn, dt, cdt)
    mod = g.op("Mod", an, bn, fmod=1)
    if name == "remainder":  # the sign of the divisor
        zero = g.scalar(0, cdt)
        fix = g.op(
            "And", g.op("Not", g.op("Equal", mod, zero)), g.op("Xor", g.op("Less", bn, zero), g.op("Less", mod, zero))
        )
        mod = g.op("Where", fix, g.op("Add", mod, bn), mod)
    return g.cast(mod, cdt, dt)


@converter("_Unary")
def _unary_logic(g: GraphBuilder, op: TracedOp) -> str:
    a, name = op.args[:2]
    if name == "logical_not":
        return g.op("Not", _to_bool(g, a))
    if name != "invert":
        raise TracingError(f"no ONNX conversion for the unary op {name!r}")
    dt = _dt(op)
    an = operand(g, a, dt)
    if dt == _BOOL:
        return g.op("Not", an)
    if g.opset >= 18 and dt != _I16:
        return g.op("BitwiseNot", an)
    ones = np.iinfo(dt).max if dt.kind == "u" else -1  # ~x == -1 - x (two's complement), MAX - x (unsigned)
    return _int_arith(g, "Sub", [g.scalar(ones, dt), an], dt)


# ----- float predicates ------------------------------------------------------------------------------------------
@converter("_Predicate")
def _predicate(g: GraphBuilder, op: TracedOp) -> str:
    x, name = op.args[:2]
    xn = g.name(x)
    if not _is_float(x.dtype):  # integers are never nan/inf
        same = g.op("Equal", xn, xn)
        return same if name == "isfinite" else g.op("Not", same)
    if name == "isnan":
        return g.op("IsNaN", xn)
    if name == "isinf":
        return _isinf(g, xn, x.dtype)
    if name == "isposinf":
        return _isinf(g, xn, x.dtype, detect_negative=0)
    if name == "isneginf":
        return _isinf(g, xn, x.dtype, detect_positive=0)
    if name == "isfinite":
        return g.op("Not", g.op("Or", g.op("IsNaN", xn), _isinf(g, xn, x.dtype)))
    raise TracingError(f"no ONNX conversion for the predicate {name!r}")


# ----- unary math -----------------------------------------------------------------------------------------------
def _sign(g: GraphBuilder, op: TracedOp) -> str:
    """torch's sign: 0 for nan (ONNX Sign gives nan); bool stays bool."""
    dt = _dt(op)
    x = operand(g, op.args[0], dt)
    if dt == _BOOL:
        return g.op("Identity", x)
    s = _wide_op(g, "Sign", [x], dt)
    if not _is_float(dt):
        return s
    return g.op("Where", g.op("IsNaN", x), g.scalar(0, dt), s)


converter("Sign", "Sgn", "_Sign")(_sign)


def _float_or_identity(onnx_op: str) -> Any:
    def convert(g: GraphBuilder, op: TracedOp) -> str:
        dt = _dt(op)
        x = operand(g, op.args[0], dt)
        return g.op(onnx_op, x) if _is_float(dt) else g.op("Identity", x)

    return convert


converter("Floor")(_float_or_identity("Floor"))
converter("Ceil")(_float_or_identity("Ceil"))


@converter("Round")
def _round(g: GraphBuilder, op: TracedOp) -> str:
    dt = _dt(op)
    x = operand(g, op.args[0], dt)
    decimals = int(op.args[1]) if len(op.args) > 1 else 0
    if not _is_float(dt):
        return g.op("Identity", x)
    if decimals == 0:
        return g.op("Round", x)
    ten = g.scalar(10.0 ** abs(decimals), dt)  # as eager: rint(x * 10^d) / 10^d, rint(x / 10^-d) * 10^-d
    if decimals > 0:
        return g.op("Div", g.op("Round", g.op("Mul", x, ten)), ten)
    return g.op("Mul", g.op("Round", g.op("Div", x, ten)), ten)


@converter("Tan")
def _tan(g: GraphBuilder, op: TracedOp) -> str:
    return g.op("Tan", operand(g, op.args[0], _dt(op)))


@converter("NanToNum")
def _nan_to_num(g: GraphBuilder, op: TracedOp) -> str:
    x, nan, posinf, neginf = op.args[:4]
    dt = _dt(op)
    xn = operand(g, x, dt)
    if not _is_float(dt):
        return g.op("Identity", xn)
    info = np.finfo(dt)
    pos = info.max if posinf is None else posinf
    neg = info.min if neginf is None else neginf
    with np.errstate(over="ignore"):  # a replacement too large for float16 becomes inf, as in NumPy
        consts = [g.scalar(v, dt) for v in (nan, pos, neg)]
    out = g.op("Where", _isinf(g, xn, dt, detect_positive=0), consts[2], xn)
    out = g.op("Where", _isinf(g, xn, dt, detect_negative=0), consts[1], out)
    return g.op("Where", g.op("IsNaN", xn), consts[0], out)


# ----- binary math ------------------------------------------------------------------------------------------------
@converter("Atan2")
def _atan2(g: GraphBuilder, op: TracedOp) -> str:
    """atan(a / b) with the quadrant, signed-zero and infinity rules of C's atan2."""
    a, b = op.args[:2]
    dt = _dt(op)
    cdt = _compute(dt)
    an, bn = operand(g, a, cdt), operand(g, b, cdt)

    def c(v: float) -> str:
        return g.scalar(v, cdt)

    zero = c(0)
    neg_a = g.op("Or", g.op("Less", an, zero), g.op("Less", g.op("Div", c(1), an), zero))  # sign bit, -0.0 too
    neg_b = g.op("Or", g.op("Less", bn, zero), g.op("Less", g.op("Div", c(1), bn), zero))
    signed_pi = g.op("Where", neg_a, c(-math.pi), c(math.pi))
    q = g.op("Atan", g.op("Div", an, bn))
    q = g.op("Where", g.op("Less", bn, zero), g.op("Add", q, signed_pi), q)
    # b == 0: +-pi/2 by the sign of a; a == 0 too: a itself (b = +0) or +-pi (b = -0); nan stays nan
    on_axis = g.op(
        "Where", g.op("Greater", an, zero), c(math.pi / 2), g.op("Where", g.op("Less", an, zero), c(-math.pi / 2), an)
    )
    origin = g.op("Where", neg_b, signed_pi, an)
    q = g.op("Where", g.op("Equal", bn, zero), g.op("Where", g.op("Equal", an, zero), origin, on_axis), q)
    # both infinite: +-pi/4 or +-3pi/4
    corner = g.op("Where", g.op("Greater", bn, zero), c(math.pi / 4), c(3 * math.pi / 4))
    corner = g.op("Where", neg_a, g.op("Neg", corner), corner)
    q = g.op("Where", g.op("And", g.op("IsInf", an), g.op("IsInf", bn)), corner, q)
    return g.cast(q, cdt, dt)


@converter("Hypot")
def _hypot(g: GraphBuilder, op: TracedOp) -> str:
    """max * sqrt(1 + (min / max)^2): no overflow where a^2 + b^2 would; inf wins over nan, as in C."""
    a, b = op.args[:2]
    dt = _dt(op)
    cdt = _compute(dt)
    an, bn = operand(g, a, cdt), operand(g, b, cdt)
    aa, ab = g.op("Abs", an), g.op("Abs", bn)
    a_big = g.op("Greater", aa, ab)
    big, small = g.op("Where", a_big, aa, ab), g.op("Where", a_big, ab, aa)
    zero = g.scalar(0, cdt)
    ratio = g.op("Div", small, g.op("Where", g.op("Equal", big, zero), g.scalar(1, cdt), big))
    core = g.op("Mul", big, g.op("Sqrt", g.op("Add", g.scalar(1, cdt), g.op("Mul", ratio, ratio))))
    inf = g.op("Or", g.op("IsInf", an), g.op("IsInf", bn))
    return g.cast(g.op("Where", inf, g.scalar(np.inf, cdt), core), cdt, dt)


@converter("Lerp")
def _lerp(g: GraphBuilder, op: TracedOp) -> str:
    """x + w (end - x) for |w| < 0.5, else end - (end - x)(1 - w): eager's formula, exact at w = 1."""
    x, end, w = op.args[:3]
    dt = _dt(op)
    xn, en = operand(g, x, dt), operand(g, end, dt)
    diff = g.op("Sub", en, xn)
    if not isinstance(w, Value) and not hasattr(w, "dtype"):
        if -0.5 < w < 0.5:
            return g.op("Add", xn, g.op("Mul", g.scalar(w, dt), diff))
        return g.op("Sub", en, g.op("Mul", diff, g.scalar(1 - w, dt)))
    wn = _arg(g, w, dt)
    near = g.op("Add", xn, g.op("Mul", wn, diff))
    far = g.op("Sub", en, g.op("Mul", diff, g.op("Sub", g.scalar(1, dt), wn)))
    return g.op("Where", g.op("Less", g.op("Abs", wn), g.scalar(0.5, dt)), near, far)


# ----- arithmetic with bool and small integer dtypes -------------------------------------------------------------------
def _arith(onnx_op: str, bool_op: str | None) -> Any:
    def convert(g: GraphBuilder, op: TracedOp) -> str:
        a, b = op.args[:2]
        dt = _dt(op)
        an, bn = _arg(g, a, dt), _arg(g, b, dt)
        if dt == _BOOL and bool_op is not None:
            return g.op(bool_op, an, bn)  # NumPy: bool + bool is or, bool * bool is and
        return _int_arith(g, onnx_op, [an, bn], dt)

    return convert


converter("Add", symints=True)(_arith("Add", "Or"))
converter("Sub", symints=True)(_arith("Sub", None))
converter("Mul", symints=True)(_arith("Mul", "And"))
converter("Div", symints=True)(_arith("Div", None))


@converter("Neg")
def _neg(g: GraphBuilder, op: TracedOp) -> str:
    dt = _dt(op)
    x = operand(g, op.args[0], dt)
    if dt.kind == "u":  # unsigned negation wraps around; ONNX Neg has no unsigned types
        return _int_arith(g, "Sub", [g.scalar(0, dt), x], dt)
    return _int_arith(g, "Neg", [x], dt)


@converter("Pow", symints=True)
def _pow(g: GraphBuilder, op: TracedOp) -> str:
    """x * x for squares, Sqrt for a 0.5 power (NumPy's shortcut: sqrt(-inf) is nan), else Pow (small ints in int32)."""
    dt = _dt(op)
    if len(op.args) == 1 or (
        not hasattr(op.args[1], "dtype") and not g.is_dynamic(op.args[1]) and float(op.args[1]) == 2.0
    ):
        x = operand(g, op.args[0], dt)
        return _int_arith(g, "Mul", [x, x], dt)
    a, b = op.args[:2]
    if not hasattr(b, "dtype") and not g.is_dynamic(b) and float(b) == 0.5 and _is_float(dt):
        return g.op("Sqrt", operand(g, a, dt))
    return _wide_op(g, "Pow", [_arg(g, a, dt), _arg(g, b, dt)], dt, _WIDE_POW)
