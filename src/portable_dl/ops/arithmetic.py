"""Arithmetic and comparison operators with broadcasting and torch's type promotion."""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..tensor import Tensor
from ._common import assign_inplace, promote_operands
from .broadcast import _sum_to, sum_to


def _shape(v: Any) -> Any:
    return getattr(v, "shape", None)


def _reduce(grad: Tensor, shape: Any) -> Any:
    return None if shape is None else sum_to(grad, shape)


class Add(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.shapes = (_shape(a), _shape(b))
        return a + b

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        sa, sb = ctx.shapes
        return _reduce(grad, sa), _reduce(grad, sb)

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        sa, sb = ctx.shapes
        xp = ctx.xp
        return (None if sa is None else _sum_to(xp, grad, sa)), (None if sb is None else _sum_to(xp, grad, sb))


class Sub(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.shapes = (_shape(a), _shape(b))
        try:
            return a - b
        except TypeError:  # NumPy refuses bool - bool
            raise RuntimeError(_BOOL_SUB) from None

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        sa, sb = ctx.shapes
        return _reduce(grad, sa), (None if sb is None else sum_to(-grad, sb))

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        sa, sb = ctx.shapes
        xp = ctx.xp
        return (None if sa is None else _sum_to(xp, grad, sa)), (None if sb is None else _sum_to(xp, -grad, sb))


class Mul(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx._to_save = (a, b)  # save_for_backward, inlined on this hottest of paths
        return a * b

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        a, b = ctx.saved_tensors
        sa, sb = _shape(a), _shape(b)
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(grad * b, sa) if sa is not None and need_a else None
        gb = sum_to(grad * a, sb) if sb is not None and need_b else None
        return ga, gb

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        a, b = ctx.saved_arrays
        sa, sb = _shape(a), _shape(b)
        need_a, need_b = ctx.needs_input_grad
        xp = ctx.xp
        ga = _sum_to(xp, grad * b, sa) if sa is not None and need_a else None
        gb = _sum_to(xp, grad * a, sb) if sb is not None and need_b else None
        return ga, gb


class Div(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        out = a / b
        ctx.save_for_backward(b, out)
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        b, out = ctx.saved_tensors
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(grad / b, sa) if sa is not None and need_a else None
        gb = sum_to(-grad * out / b, sb) if sb is not None and need_b else None
        return ga, gb

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        b, out = ctx.saved_arrays
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        xp = ctx.xp
        ga = _sum_to(xp, grad / b, sa) if sa is not None and need_a else None
        gb = _sum_to(xp, -grad * out / b, sb) if sb is not None and need_b else None
        return ga, gb


class Neg(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        return -a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return -grad

    @staticmethod
    def backward_arrays(ctx: Any, grad: Any) -> Any:
        return -grad


class Pow(Function):
    _raw = True

    def name(self) -> str:  # torch: 0 = tensor ** scalar, 1 = tensor ** tensor, 2 = scalar ** tensor
        sa, sb = self.shapes
        return "PowBackward0" if sb is None else "PowBackward2" if sa is None else "PowBackward1"

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        xp = ctx.xp
        if (
            _shape(a) is not None
            and a.dtype.kind in "iu"
            and ((_shape(b) is None and b < 0) or (_shape(b) is not None and b.dtype.kind in "iu" and (b < 0).any()))
        ):
            raise RuntimeError("pow: Integers to negative integer powers are not allowed.")
        out = xp.power(a, b)
        if _shape(a) is None and _shape(b) is not None and out.dtype != b.dtype:
            out = out.astype(b.dtype)
        ctx.save_for_backward(a, b, out)
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        a, b, out = ctx.saved_tensors
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if sa is not None and need_a:
            if sb is None:
                ga = grad * b * a ** (b - 1) if b != 0 else grad * 0
            else:
                ga = grad * b * a ** (b - 1)
                ga = ga.masked_fill(b == 0, 0.0)
            ga = sum_to(ga, sa)
        if sb is not None and need_b:
            if sa is None:
                gb = grad * out * _log_scalar(a) if a != 0 else (grad * out * 0.0).masked_fill(b >= 0, 0.0)
            else:
                gb = (grad * out * a.log()).masked_fill((a == 0) & (b >= 0), 0.0)
            gb = sum_to(gb, sb)
        return ga, gb


def _log_scalar(value: float) -> float:
    import math

    return math.log(value) if value > 0 else float("nan")


def _binary(cls: type, name: str, float_result: bool = False, operator: bool = False) -> Any:
    """The public function (or, with ``operator``, the dunder method) for a binary Function."""
    no_bool = cls is Sub  # bool - bool raises below (CuPy would compute it, NumPy raises in Sub.forward)

    def op(input: Any, other: Any) -> Any:  # noqa: A002 - torch argument name
        if isinstance(input, Tensor):
            kind = input._data.dtype.kind
            if isinstance(other, Tensor):
                if input._data.dtype is other._data.dtype and (
                    kind == "f" or not (float_result or (no_bool and kind == "b"))
                ):
                    return cls.apply(input, other)  # the common case: same dtype, nothing to promote
            elif type(other) is float and kind == "f":
                return cls.apply(input, other)
            elif operator and not isinstance(other, (int, float, bool)):
                other = _numpy_scalar(other)
                if other is None:
                    return NotImplemented
        if cls is Sub and (_is_bool(input) or _is_bool(other)):
            raise RuntimeError(_BOOL_SUB)
        a, b = promote_operands(input, other, name, float_result)
        return cls.apply(a, b)

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` with broadcasting and torch's type promotion."
    return op


_add = _binary(Add, "add")
_sub = _binary(Sub, "sub")
mul = multiply = _binary(Mul, "mul")
div_true = _binary(Div, "div", float_result=True)
_pow = _binary(Pow, "pow")


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    return _add(input, other if alpha == 1 else other * alpha)


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    return _sub(input, other if alpha == 1 else other * alpha)


subtract = sub


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:  # noqa: A002
    if rounding_mode is None:
        return div_true(input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        a, b = promote_operands(input, other, "div")
        return _NonDiff.apply(a, b, "trunc_divide")
    raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


divide = true_divide = div


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001, A002 - torch names
    return _pow(input, exponent)


def neg(input: Tensor) -> Tensor:  # noqa: A002
    if input._data.dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return Neg.apply(input)


negative = neg


class _NonDiff(Function):
    """Integer-valued arithmetic (floor division, remainder ...) and comparisons: no gradient."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, name: str) -> Any:
        xp = ctx.xp
        if name == "trunc_divide":
            if _is_int(a) and _is_int(b):
                q = xp.floor_divide(a, b)
                r = xp.remainder(a, b)
                return q + ((r != 0) & ((xp.asarray(a) < 0) != (xp.asarray(b) < 0)))
            return xp.trunc(xp.true_divide(a, b))
        return getattr(xp, name)(a, b)


_BOOL_SUB = (
    "Subtraction, the `-` operator, with a bool tensor is not supported. "
    "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool) or (isinstance(v, Tensor) and v._data.dtype.kind == "b")


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (hasattr(v, "dtype") and v.dtype.kind in "iu")


class _Remainder(Function):
    """``remainder``/``fmod``: gradient 1 for the dividend, -floor(a/b) (or -trunc) for the divisor."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, name: str) -> Any:
        ctx.save_for_backward(a, b)
        ctx.shapes = (_shape(a), _shape(b))
        ctx.op = name
        return getattr(ctx.xp, name)(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        gb = None
        if sb is not None:
            q = (a / b).detach()
            q = q.floor() if ctx.op == "remainder" else q.trunc()
            gb = sum_to(-grad * q, sb)
        return _reduce(grad, sa), gb, None


def floor_divide(input: Any, other: Any) -> Tensor:  # noqa: A002
    a, b = promote_operands(input, other, "floor_divide")
    return _NonDiff.apply(a, b, "floor_divide")


def remainder(input: Any, other: Any) -> Tensor:  # noqa: A002
    a, b = promote_operands(input, other, "remainder")
    return _Remainder.apply(a, b, "remainder")


def fmod(input: Any, other: Any) -> Tensor:  # noqa: A002
    a, b = promote_operands(input, other, "fmod")
    return _Remainder.apply(a, b, "fmod")


def _comparison(name: str, ufunc: str) -> Any:
    def op(input: Any, other: Any) -> Any:  # noqa: A002
        if not isinstance(other, (Tensor, int, float, bool)):
            other = _numpy_scalar(other)
            if other is None:
                return NotImplemented
        if not isinstance(input, (Tensor, int, float, bool)):
            input = _numpy_scalar(input)  # noqa: A001
            if input is None:
                return NotImplemented
        a, b = promote_operands(input, other, name)
        return _NonDiff.apply(a, b, ufunc)

    op.__name__ = name
    return op


eq = _comparison("eq", "equal")
ne = not_equal = _comparison("ne", "not_equal")
lt = less = _comparison("lt", "less")
le = less_equal = _comparison("le", "less_equal")
gt = greater = _comparison("gt", "greater")
ge = greater_equal = _comparison("ge", "greater_equal")


def _logical(name: str, ufunc: str) -> Any:
    def op(input: Any, other: Any) -> Tensor:  # noqa: A002
        a = input if isinstance(input, Tensor) else input
        return _NonDiff.apply(a, other, ufunc)

    op.__name__ = name
    return op


logical_and = _logical("logical_and", "logical_and")
logical_or = _logical("logical_or", "logical_or")
logical_xor = _logical("logical_xor", "logical_xor")


class _Unary(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, a: Any, name: str) -> Any:
        return getattr(ctx.xp, name)(a)


def logical_not(input: Tensor) -> Tensor:  # noqa: A002
    return _Unary.apply(input, "logical_not")


def _bitwise(name: str, ufunc: str) -> Any:
    def op(input: Any, other: Any) -> Tensor:  # noqa: A002
        a, b = promote_operands(input, other, name)
        for v in (a, b):
            if isinstance(v, Tensor) and v._data.dtype.kind == "f":
                raise RuntimeError(f"{name}: not implemented for floating point tensors; use bool or integer tensors")
        return _NonDiff.apply(a, b, ufunc)

    op.__name__ = name
    return op


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")


def bitwise_not(input: Tensor) -> Tensor:  # noqa: A002
    if input._data.dtype.kind == "f":
        raise RuntimeError("bitwise_not: not implemented for floating point tensors")
    return _Unary.apply(input, "invert")


def _numpy_scalar(value: Any) -> Any:
    """A NumPy scalar (or 0-d array) as the Python number torch treats it as; None for anything else."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item") and not isinstance(value, Tensor):
        return value.item()
    return None


def _reflected(fn: Any) -> Any:
    def op(self: Tensor, other: Any) -> Tensor:
        if not isinstance(other, (int, float, bool)):
            other = _numpy_scalar(other)
            if other is None:
                return NotImplemented
        return fn(other, self)

    return op


def _inplace(fn: Any, name: str, ufunc: str | None = None) -> Any:
    """An in-place method. With ``ufunc``, the common no-graph case (same dtype, or a Python float on a
    float tensor) writes straight into the tensor's memory, as an optimizer step or ``x += 1`` needs."""
    no_bool = ufunc == "subtract"  # CuPy subtracts bools (NumPy and torch refuse): leave them to the general path

    def op(self: Tensor, other: Any, **kwargs: Any) -> Tensor:
        if ufunc is not None and not kwargs and not (self.requires_grad and state.enabled):
            data = self._data
            if isinstance(other, Tensor):
                fast = (
                    other._backend is self._backend
                    and other._data.dtype is data.dtype
                    and not (other.requires_grad and state.enabled)
                    and not (no_bool and data.dtype.kind == "b")
                )
                value = other._data
            else:
                fast = type(other) is float and data.dtype.kind == "f"
                value = other
            if fast and type(data) is self._backend.array_type:
                try:
                    fast = data.flags.writeable  # NumPy's read-only flag, inline: this is a hot path
                except AttributeError:  # CuPy has none: its backend looks for broadcast (zero) strides
                    fast = self._backend.writeable(data)
                if fast:
                    try:
                        getattr(self._backend.xp, ufunc)(data, value, out=data)
                    except (ValueError, TypeError):
                        pass  # not broadcastable to self's shape, or int /= int: the general path raises torch's error
                    else:
                        box = self._vbox
                        if box is None:
                            self._vbox = [1]
                        else:
                            box[0] += 1
                        return self
        return assign_inplace(self, fn(self, other, **kwargs), name)

    op.__name__ = name
    return op


def _operator(fn: Any) -> Any:
    def op(self: Tensor, other: Any) -> Any:
        if not isinstance(other, (Tensor, int, float, bool)):
            other = _numpy_scalar(other)
            if other is None:
                return NotImplemented
        return fn(self, other)

    return op


__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "neg", "negative",
    "floor_divide", "remainder", "fmod", "eq", "ne", "not_equal", "lt", "less", "le", "less_equal",
    "gt", "greater", "ge", "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
]  # fmt: skip

TENSOR_METHODS = {
    "__add__": _binary(Add, "add", operator=True), "__radd__": _reflected(add), "__iadd__": _inplace(add, "add_", "add"),
    "__sub__": _binary(Sub, "sub", operator=True), "__rsub__": _reflected(sub), "__isub__": _inplace(sub, "sub_", "subtract"),
    "__mul__": _binary(Mul, "mul", operator=True), "__rmul__": _reflected(mul), "__imul__": _inplace(mul, "mul_", "multiply"),
    "__truediv__": _binary(Div, "div", float_result=True, operator=True), "__rtruediv__": _reflected(div_true),
    "__itruediv__": _inplace(div_true, "div_", "true_divide"),
    "__floordiv__": _operator(floor_divide), "__rfloordiv__": _reflected(floor_divide),
    "__ifloordiv__": _inplace(floor_divide, "floor_divide_"),
    "__mod__": _operator(remainder), "__rmod__": _reflected(remainder),
    "__pow__": _operator(pow), "__rpow__": _reflected(pow), "__ipow__": _inplace(pow, "pow_"),
    "__neg__": neg, "__pos__": lambda self: self,
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "__and__": _operator(bitwise_and), "__or__": _operator(bitwise_or), "__xor__": _operator(bitwise_xor),
    "__rand__": _reflected(bitwise_and), "__ror__": _reflected(bitwise_or), "__rxor__": _reflected(bitwise_xor),
    "__iand__": _inplace(bitwise_and, "bitwise_and_"), "__ior__": _inplace(bitwise_or, "bitwise_or_"),
    "__invert__": bitwise_not,
    "add": add, "add_": _inplace(add, "add_", "add"), "sub": sub, "sub_": _inplace(sub, "sub_", "subtract"),
    "subtract": sub, "mul": mul, "mul_": _inplace(mul, "mul_", "multiply"), "multiply": mul,
    "div": div, "div_": _inplace(div, "div_"), "divide": div, "true_divide": div,
    "pow": pow, "pow_": _inplace(pow, "pow_"), "neg": neg, "negative": neg,
    "neg_": lambda self: assign_inplace(self, neg(self), "neg_"),
    "floor_divide": floor_divide, "remainder": remainder, "fmod": fmod,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "not_equal": ne, "less": lt,
    "less_equal": le, "greater": gt, "greater_equal": ge,
    "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor,
    "logical_not": logical_not, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or,
    "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not,
}  # fmt: skip
