"""Helpers shared by op modules: dtype promotion of operands, dim normalisation, scalar wrapping."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import _dtype
from .._dtype import FROM_NUMPY, promote_types
from ..tensor import Tensor, _bump_version, _wrap_dim, trace_observer

wrap_dim = _wrap_dim


def result_type(*operands: Any) -> _dtype.dtype:
    """torch.result_type: dimensioned tensors > 0-d tensors > Python scalars, a higher category wins."""
    dims = zeros = scalars = None
    for v in operands:
        if isinstance(v, Tensor):
            dt = FROM_NUMPY[v._data.dtype]
            if v._data.ndim:
                dims = dt if dims is None else promote_types(dims, dt)
            else:
                zeros = dt if zeros is None else promote_types(zeros, dt)
        else:
            dt = _dtype.scalar_dtype(v)
            scalars = dt if scalars is None else promote_types(scalars, dt)
    result = dims
    for candidate in (zeros, scalars):
        if candidate is None:
            continue
        if result is None:
            result = candidate
        elif candidate.category > result.category:
            result = candidate if candidate is zeros else _category_default(candidate)
    return result


def _category_default(dt: _dtype.dtype) -> _dtype.dtype:
    if dt.category == _dtype.FLOAT:
        return _dtype.get_default_dtype()
    return dt


def check_tensor(value: Any, op: str, arg: str = "input", position: int = 1) -> None:
    """torch's TypeError for a non-Tensor argument: ``op(): argument 'arg' (position n) must be Tensor, not T``."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' (position {position}) must be Tensor, not {type(value).__name__}")


def check_number(value: Any, op: str) -> None:
    if not isinstance(value, (int, float, bool)):
        raise TypeError(f"{op}(): expected a Tensor or a Python number, got {type(value).__name__}")


def cast(t: Tensor, dt: _dtype.dtype) -> Tensor:
    """``t`` in dtype ``dt``, differentiably (no copy when it already is)."""
    if t._data.dtype == dt.np:
        return t
    from .conversion import Cast

    return Cast.apply(t, dt)


def promote_operands(a: Any, b: Any, op: str, float_result: bool = False) -> tuple:
    """Cast tensor operands to their common dtype (Python scalars stay scalars: they never upcast)."""
    ta = isinstance(a, Tensor)
    tb = isinstance(b, Tensor)
    if ta and tb:
        if a._data.dtype == b._data.dtype and not (float_result and a._data.dtype.kind != "f"):
            return a, b
    elif ta:
        if type(b) is float and a._data.dtype.kind == "f":
            return a, b
        check_number(b, op)
    elif tb:
        if type(a) is float and b._data.dtype.kind == "f":
            return a, b
        check_number(a, op)
    else:
        raise TypeError(f"{op}(): expected at least one Tensor argument")
    dt = result_type(a, b)
    if float_result and not dt.is_floating_point:
        dt = _dtype.get_default_dtype()
    if ta:
        a = cast(a, dt)
    elif float_result or dt.is_floating_point:
        a = float(a)
    elif dt.itemsize < 8 and type(a) is int:
        a = _wrap_int(a, dt)
    if tb:
        b = cast(b, dt)
    elif float_result or dt.is_floating_point:
        b = float(b)
    elif dt.itemsize < 8 and type(b) is int:
        b = _wrap_int(b, dt)
    return a, b


def _wrap_int(value: int, dt: _dtype.dtype) -> int:
    """A Python int converted to a small integer dtype the way torch does: wrapping around (uint8: -1 -> 255)."""
    span = 1 << (8 * dt.itemsize)
    low = -(span >> 1) if dt.is_signed else 0
    if low <= value < low + span:
        return value
    return (value - low) % span + low


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """``dim`` (None, an int, or a sequence of ints) as a sorted tuple of positive dims."""
    if dim is None:
        return None
    if isinstance(dim, int):
        return (wrap_dim(dim, ndim, op),)
    dims = tuple(sorted(wrap_dim(d, ndim, op) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
    return dims


def to_shape(size: Any, op: str) -> tuple[int, ...]:
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or a Size; return a tuple of ints."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:
        return tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"{op}(): size must be a sequence of ints, got {size!r}") from None


def as_tensor_like(value: Any, like: Tensor) -> Tensor:
    """A Python number or array as a tensor on ``like``'s device (for ops that need tensors)."""
    if isinstance(value, Tensor):
        return value
    dt = result_type(like, value)
    return Tensor._wrap(like._backend.xp.asarray(value, dtype=dt.np), like._backend)


def shape_of(value: Any) -> tuple | None:
    return value.shape if hasattr(value, "shape") else None


def tensors_in(values: Iterable) -> list[Tensor]:
    return [v for v in values if isinstance(v, Tensor)]


def assign_inplace(self: Tensor, result: Tensor, op: str) -> Tensor:
    """Finish an in-place op: write ``result`` into ``self`` and bump its version counter.

    Under grad mode with history involved, ``self`` takes over ``result``'s graph node
    (the old value stays intact for any backward that saved it).
    """
    from ..autograd.grad_mode import state

    if result._data.dtype != self._data.dtype:
        res_dt, own_dt = FROM_NUMPY[result._data.dtype], FROM_NUMPY[self._data.dtype]
        if res_dt.category > own_dt.category:
            raise RuntimeError(f"{op}: result type {res_dt} can't be cast to the desired output type {own_dt}")
    if result._data.shape != self._data.shape:
        raise RuntimeError(
            f"{op}: output with shape {list(self._data.shape)} doesn't match the broadcast shape "
            f"{list(result._data.shape)}"
        )
    if state.enabled and (result.requires_grad or self.requires_grad):
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation.")
        if self.grad_fn is not None and type(self.grad_fn)._is_view:
            raise RuntimeError(
                f"{op}: in-place modification of a view ({self.grad_fn.name()}) of a tensor that requires grad "
                "is not supported; apply the op out of place (e.g. torch.cat / torch.where) instead"
            )
        # Rebase: self takes over the result's node. Its old array is left intact, so every backward that
        # saved the old value still sees it; the new array gets a version counter of its own.
        result = cast(result, FROM_NUMPY[self._data.dtype])
        version = self._version
        self._data = result._data
        self.requires_grad = result.requires_grad
        self.grad_fn = result.grad_fn
        self._output_nr = result._output_nr
        self._vbox = [version + 1]
        return self
    if not isinstance(self._data, self._backend.xp.ndarray):  # a NumPy scalar: no memory to share
        self._data = self._backend.xp.asarray(result._data).astype(self._data.dtype)
    elif not self._backend.writeable(self._data):
        raise RuntimeError(f"{op}: this tensor is a broadcast (expanded) view and cannot be written in place")
    else:
        self._backend.xp.copyto(self._data, result._data, casting="unsafe")
    observer = trace_observer()
    if observer is not None:
        observer.wrote_in_place(self, result)
    _bump_version(self)
    return self
