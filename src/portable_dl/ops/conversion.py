"""dtype and device conversions (differentiable), ``clone`` and ``contiguous``."""

from __future__ import annotations

from typing import Any

from .. import _dtype
from .._device import device as device_cls
from ..autograd.function import Function
from ..backends import Backend, get_backend
from ..tensor import Tensor


class Cast(Function):
    _raw = True

    def name(self) -> str:
        return "ToCopyBackward0"  # torch's node for dtype and device copies

    @staticmethod
    def forward(ctx: Any, x: Any, dtype: _dtype.dtype) -> Any:
        ctx.in_dtype = _dtype.FROM_NUMPY[x.dtype]
        return x.astype(dtype.np)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        if not ctx.in_dtype.is_floating_point:
            return None, None
        return Cast.apply(grad, ctx.in_dtype), None


class ToDevice(Function):
    _raw = True
    name = Cast.name

    @staticmethod
    def forward(ctx: Any, x: Any, target: Backend) -> Any:
        ctx.source = ctx.backend
        ctx.backend = target  # outputs live on the target device
        if target.device.type == "cpu":  # the source is a GPU: to_numpy already makes a fresh host copy
            return ctx.source.to_numpy(x)
        return target.asarray(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return ToDevice.apply(grad, ctx.source), None


class Clone(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return x.copy()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return grad


class Contiguous(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return ctx.xp.ascontiguousarray(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return grad


def _parse_to_args(args: tuple, kwargs: dict) -> tuple[Any, Any, bool]:
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dev, dt = a.device, a.dtype
        elif isinstance(a, _dtype.dtype):
            dt = a
        elif isinstance(a, (str, device_cls, int)) and not isinstance(a, bool):
            dev = a
        elif isinstance(a, bool):
            pass  # non_blocking / copy given positionally
        else:
            raise TypeError(f"to(): expected a device, a dtype or a Tensor, got {a!r}")
    return dev, dt, copy


def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``; returns self when nothing changes."""
    dev, dt, copy = _parse_to_args(args, dict(kwargs))
    out = self
    if dev is not None:
        target = get_backend(dev)
        if target is not self._backend:
            out = ToDevice.apply(out, target)
    if dt is not None:
        dt = _dtype.to_dtype(dt)
        if out._data.dtype != dt.np:
            out = Cast.apply(out, dt)
    if copy and out is self:
        out = Clone.apply(self)
    return out


def _caster(dt: _dtype.dtype) -> Any:
    def convert(self: Tensor, memory_format: Any = None) -> Tensor:
        return self if self._data.dtype == dt.np else Cast.apply(self, dt)

    convert.__name__ = dt.name
    return convert


def type_(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    if dtype is None:
        prefix = "torch.cuda." if self.is_cuda else "torch."
        names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
                 "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}  # fmt: skip
        return f"{prefix}{names[self.dtype.name]}Tensor"
    return to(self, _dtype.to_dtype(dtype))


def type_as(self: Tensor, other: Tensor) -> Tensor:
    return to(self, other.dtype)


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:  # noqa: A002 - torch argument name
    return Clone.apply(input)


def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    return self if self._data.flags.c_contiguous else Contiguous.apply(self)


__all__ = ["clone"]
TENSOR_METHODS = {
    "to": to, "type": type_, "type_as": type_as, "clone": clone, "contiguous": contiguous,
    "float": _caster(_dtype.float32), "double": _caster(_dtype.float64), "half": _caster(_dtype.float16),
    "long": _caster(_dtype.int64), "int": _caster(_dtype.int32), "short": _caster(_dtype.int16),
    "char": _caster(_dtype.int8), "byte": _caster(_dtype.uint8), "bool": _caster(_dtype.bool_),
}  # fmt: skip
