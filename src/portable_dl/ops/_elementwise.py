"""The elementwise machinery: the ``Elementwise`` Function, branch-free ``select``, out= and in-place helpers."""

from __future__ import annotations

import contextlib
from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..tensor import Tensor
from ._common import assign_inplace, check_tensor

# Every differentiable op is a ``_raw`` Function with three pieces: ``f`` (forward on arrays), ``dfa`` (the
# gradient on arrays: the fast path used when no graph of the backward is wanted) and ``df`` (the same
# formula in Tensor ops, so that double backward works). Formulas follow PyTorch's derivatives.yaml so
# gradients agree at kinks and special values (abs'(0) = 0, clamp passes the gradient at its bounds, ...).
# NumPy's floating-point warnings are silenced inside ops (``quiet``): torch returns inf/nan silently.


_NULL = contextlib.nullcontext()

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


# ----- out= and operand checks ----------------------------------------------------------------------
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


def _binary_tensors(input: Any, other: Any, op: str) -> None:  # noqa: A002
    check_tensor(input, op, "input", 1)
    check_tensor(other, op, "other", 2)


# ----- in-place methods -----------------------------------------------------------------------------
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
