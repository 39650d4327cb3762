"""Tensor creation: from data, filled, ranges, random; each with ``dtype=``, ``device=``, ``requires_grad=``."""

from __future__ import annotations

import math
from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..backends import CPU, get_backend, seed_all
from ..tensor import Tensor, trace_observer
from ._common import to_shape


def _finish(data: Any, backend: Any, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(data, backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


class FilledOfSize(Function):
    """``full(size, value)`` as an op, used only while the ONNX exporter traces and a size came from a tensor's
    shape: the export then computes the size in the graph instead of freezing the traced one."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, size: tuple, value: Any, np_dtype: Any, backend: Any) -> Any:
        ctx.backend = backend
        return backend.xp.full(tuple(int(n) for n in size), value, dtype=np_dtype)


class FilledLike(Function):
    """``full_like(x, value)`` as an op while tracing (the export follows ``x``'s runtime shape)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, value: Any, np_dtype: Any) -> Any:
        return ctx.xp.full(x.shape, value, dtype=np_dtype)


def _traced_fill(shape: tuple, value: Any, dt: Any, backend: Any, requires_grad: bool) -> Tensor:
    t = FilledOfSize.apply(shape, value, dt.np, backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _raw_size(size: tuple) -> tuple:
    """``f(2, 3)`` / ``f((2, 3))`` sizes as given (symbolic ints kept: ``to_shape`` makes plain ints)."""
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def _traced_size(size: tuple) -> bool:
    """While tracing: does the size hold a symbolic int read from a tensor's shape?"""
    return trace_observer() is not None and any(type(n) is not int for n in _raw_size(size))


def _host_data(data: Any) -> Any:
    """Python data with any Tensors inside it turned into host arrays."""
    if isinstance(data, Tensor):
        return data._backend.to_numpy(data._data)
    if isinstance(data, (list, tuple)) and any(isinstance(d, (Tensor, list, tuple)) for d in data):
        return [_host_data(d) for d in data]
    return data


def _infer_dtype(data: Any, array: Any) -> _dtype.dtype:
    """torch.tensor's inference: Python floats take the default dtype, arrays keep theirs."""
    dt = _dtype.FROM_NUMPY.get(array.dtype)
    if dt is None:
        raise TypeError(f"tensor(): can't convert data of NumPy dtype {array.dtype} to a tensor")
    if dt is _dtype.float64 and not hasattr(data, "dtype"):
        return _dtype.get_default_dtype()
    return dt


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:  # fmt: skip
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or tensors)."""
    backend = get_backend(device if device is not None else _source_device(data))
    if isinstance(data, Tensor) and data._backend is backend:
        array = data._data
    else:
        array = CPU.asarray(_host_data(data)) if not _is_device_array(data) else data
    dt = _infer_dtype(data, array) if dtype is None else _dtype.to_dtype(dtype)
    return _finish(backend.asarray(array, dtype=dt.np).copy(), backend, requires_grad)


def _source_device(data: Any) -> Any:
    if isinstance(data, Tensor):
        return data._backend
    return None


def _is_device_array(data: Any) -> bool:
    return hasattr(data, "__cuda_array_interface__")


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with ``data`` when dtype and device already match."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    backend = get_backend(device)
    array = data if _is_device_array(data) and backend is not CPU else CPU.asarray(_host_data(data))
    dt = _infer_dtype(data, array) if dtype is None else _dtype.to_dtype(dtype)
    return Tensor._wrap(backend.asarray(array, dtype=dt.np), backend)


asarray = as_tensor


def from_numpy(ndarray: Any) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array."""
    if type(ndarray).__name__ != "ndarray" or not hasattr(ndarray, "__array_interface__"):
        raise TypeError(f"from_numpy(): expected a numpy.ndarray, got {type(ndarray).__name__}")
    if ndarray.dtype not in _dtype.FROM_NUMPY:
        raise TypeError(f"from_numpy(): NumPy dtype {ndarray.dtype} has no portable_dl equivalent")
    return Tensor._wrap(ndarray, CPU)


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor sharing memory with any object that speaks DLPack (NumPy, CuPy, PyTorch ...)."""
    kind, index = ext_tensor.__dlpack_device__()
    backend = CPU if int(kind) == 1 else get_backend(f"cuda:{index}")
    return Tensor._wrap(backend.from_dlpack(ext_tensor), backend)


def _float_dtype(dtype: Any, op: str) -> _dtype.dtype:
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point dtype, got {dt}")
    return dt


def _filled(op: str, fill: str) -> Any:
    def create(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               out: Any = None, layout: Any = None, pin_memory: bool = False) -> Tensor:  # fmt: skip
        backend = get_backend(device)
        dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
        shape = to_shape(size, op)
        if shape and min(shape) < 0:
            raise RuntimeError(f"{op}: Dimension size must be non-negative, got {list(shape)}")
        if _traced_size(size):
            return _traced_fill(_raw_size(size), 1 if fill == "ones" else 0, dt, backend, requires_grad)
        data = getattr(backend.xp, fill)(shape, dtype=dt.np)
        return _finish(data, backend, requires_grad)

    create.__name__ = op
    create.__doc__ = f"A tensor of the given size filled by ``{fill}``."
    return create


zeros = _filled("zeros", "zeros")
ones = _filled("ones", "ones")
empty = _filled("empty", "empty")


def full(size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:  # fmt: skip
    backend = get_backend(device)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dt = _dtype.scalar_dtype(fill_value) if dtype is None else _dtype.to_dtype(dtype)
    shape = to_shape((size,), "full")
    if shape and min(shape) < 0:
        raise RuntimeError(f"full: Dimension size must be non-negative, got {list(shape)}")
    if _traced_size((size,)):
        return _traced_fill(_raw_size((size,)), fill_value, dt, backend, requires_grad)
    data = backend.xp.full(shape, fill_value, dtype=dt.np)
    return _finish(data, backend, requires_grad)


def _like(op: str, maker: Any, fill: Any = None) -> Any:
    def create(input: Tensor, *args: Any, dtype: Any = None, device: Any = None,  # noqa: A002
               requires_grad: bool = False, memory_format: Any = None, layout: Any = None) -> Tensor:  # fmt: skip
        dt = input.dtype if dtype is None else dtype
        dev = input._backend if device is None else device
        result = maker(input._data.shape, *args, dtype=dt, device=dev, requires_grad=requires_grad)
        if fill is not None and device is None and trace_observer() is not None:  # the export follows input's shape
            value = args[0] if fill == "value" else fill
            traced = FilledLike.apply(input, value.item() if isinstance(value, Tensor) else value, result._data.dtype)
            return traced.requires_grad_(True) if requires_grad else traced
        return result

    create.__name__ = op
    return create


zeros_like = _like("zeros_like", zeros, 0)
ones_like = _like("ones_like", ones, 1)
empty_like = _like("empty_like", empty, 0)
full_like = _like("full_like", full, "value")


def arange(start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 if all are ints, else float."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if dtype is None:
        all_int = all(isinstance(v, int) for v in values)
        dt = _dtype.int64 if all_int else _dtype.get_default_dtype()
    else:
        dt = _dtype.to_dtype(dtype)
        if dt is _dtype.int64:  # torch truncates the bounds and step to integers first for int64
            start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange: upper bound and larger bound inconsistent with step sign (start={start}, end={end}, step={step})"
        )
    backend = get_backend(device)
    length = max(math.ceil((end - start) / step), 0)
    if dt.is_floating_point:
        data = (backend.xp.arange(length, dtype="float64") * step + start).astype(dt.np)
    else:
        data = backend.xp.arange(length, dtype="int64") * int(step) + int(start)
        data = data.astype(dt.np)
    return _finish(data, backend, requires_grad)


def linspace(start: Any, end: Any, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    backend = get_backend(device)
    if dt.is_floating_point:
        data = backend.xp.linspace(float(start), float(end), int(steps), dtype="float64").astype(dt.np)
    else:  # torch: integer bounds, then start + i*step for the first half and end - (steps-1-i)*step after
        xp, start, end, steps = backend.xp, int(start), int(end), int(steps)
        step = (end - start) / (steps - 1) if steps > 1 else 0.0
        i = xp.arange(steps, dtype="float64")
        data = xp.where(i < max(steps // 2, 1), start + step * i, end - step * (steps - 1 - i))
        data = xp.trunc(data).astype(dt.np)
    return _finish(data, backend, requires_grad)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    backend = get_backend(device)
    data = backend.xp.logspace(float(start), float(end), int(steps), base=base, dtype="float64").astype(dt.np)
    return _finish(data, backend, requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:  # fmt: skip
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    backend = get_backend(device)
    return _finish(backend.xp.eye(n, n if m is None else m, dtype=dt.np), backend, requires_grad)


# ----- random -----------------------------------------------------------------------------------


class _Generator:
    """What ``manual_seed`` returns: enough of torch.Generator to call ``manual_seed`` again."""

    def manual_seed(self, seed: int) -> _Generator:
        return manual_seed(seed)

    def seed(self) -> int:
        import random

        value = random.randrange(2**63)
        manual_seed(value)
        return value


default_generator = _Generator()


def manual_seed(seed: int) -> _Generator:
    """Seed the random generators of every device."""
    seed_all(int(seed))
    return default_generator


seed = default_generator.seed


def _random_float(op: str, method: str) -> Any:
    def create(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, out: Any = None, layout: Any = None,
               pin_memory: bool = False) -> Tensor:  # fmt: skip
        backend = get_backend(device)
        dt = _float_dtype(dtype, op)
        gen_dtype = dt.np if dt.name in ("float32", "float64") else "float32"
        data = getattr(backend.generator(), method)(to_shape(size, op), dtype=gen_dtype)
        return _finish(data.astype(dt.np, copy=False), backend, requires_grad)

    create.__name__ = op
    return create


rand = _random_float("rand", "random")
randn = _random_float("randn", "standard_normal")
rand_like = _like("rand_like", rand)
randn_like = _like("randn_like", randn)


def randint(low: int = 0, high: Any = None, size: Any = None, *, generator: Any = None, dtype: Any = None,
            device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Integers uniformly drawn from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if high is None:
            raise TypeError("randint(): missing required argument 'size'")
        low, high, size = 0, low, high
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    backend = get_backend(device)
    dt = _dtype.int64 if dtype is None else _dtype.to_dtype(dtype)
    data = backend.generator().integers(low, high, size=tuple(size), dtype="int64")
    return _finish(data.astype(dt.np, copy=False), backend, requires_grad)


def randint_like(input: Tensor, low: int = 0, high: Any = None, *, dtype: Any = None,  # noqa: A002
                 device: Any = None) -> Tensor:  # fmt: skip
    if high is None:
        low, high = 0, low
    dt = input.dtype if dtype is None else dtype
    return randint(low, high, input._data.shape, dtype=dt, device=device or input._backend)


def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    backend = get_backend(device)
    dt = _dtype.int64 if dtype is None else _dtype.to_dtype(dtype)
    data = backend.permutation(int(n)).astype(dt.np)
    return _finish(data, backend, requires_grad)


# ----- Tensor.new_* --------------------------------------------------------------------------------


def _new(maker: Any, name: str) -> Any:
    def method(self: Tensor, *args: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **kwargs: Any) -> Tensor:  # fmt: skip
        dt = self.dtype if dtype is None else dtype
        dev = self._backend if device is None else device
        return maker(*args, dtype=dt, device=dev, requires_grad=requires_grad, **kwargs)

    method.__name__ = name
    return method


def _new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
                requires_grad: bool = False) -> Tensor:  # fmt: skip
    dt = self.dtype if dtype is None else dtype
    return tensor(data, dtype=dt, device=self._backend if device is None else device, requires_grad=requires_grad)


__all__ = [
    "tensor", "as_tensor", "asarray", "from_numpy", "from_dlpack", "zeros", "ones", "empty", "full",
    "zeros_like", "ones_like", "empty_like", "full_like", "arange", "linspace", "logspace", "eye",
    "manual_seed", "seed", "default_generator", "rand", "randn", "rand_like", "randn_like", "randint",
    "randint_like", "randperm",
]  # fmt: skip
TENSOR_METHODS = {
    "new_zeros": _new(zeros, "new_zeros"), "new_ones": _new(ones, "new_ones"),
    "new_empty": _new(empty, "new_empty"), "new_full": _new(full, "new_full"), "new_tensor": _new_tensor,
}  # fmt: skip
