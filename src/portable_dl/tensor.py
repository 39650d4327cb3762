"""The Tensor data structure: one backend array plus autograd bookkeeping.

Math methods (``x + y``, ``x.exp()``, ``x.sum(dim)``) are bound to this class by
``portable_dl.ops``, so this module imports nothing from the op layer.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any

from . import _dtype
from ._device import device
from .backends import CPU, Backend, get_backend

# The ONNX export tracer, while it runs (see ``export/tracer.py``): sizes read from tensors become symbolic
# ints, and reading a traced tensor's values as Python numbers is reported.
_observer: Any = None


def set_trace_observer(observer: Any) -> Any:
    """Install (or remove, with None) the export tracer's observer; returns the previous one."""
    global _observer
    previous, _observer = _observer, observer
    return previous


def trace_observer() -> Any:
    return _observer


class Size(tuple):
    """A tensor shape: a tuple of ints with ``numel()``, like ``torch.Size``."""

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"portable_dl.Size({list(self)})"

    def __getitem__(self, item: Any) -> Any:
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other: Any) -> Size:
        return Size(tuple.__add__(self, other))

    def __radd__(self, other: Any) -> Size:
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n: Any) -> Size:
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` takes the hook out again."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _bump_version(t: Tensor) -> None:
    """Mark an in-place change, so a backward that saved the old value can refuse to run."""
    box = t._vbox
    if box is None:
        t._vbox = [1]
    else:
        box[0] += 1


class Tensor:
    """An n-dimensional array on a device, with define-by-run autograd."""

    # Class-level defaults keep construction cheap: an instance stores only what differs.
    requires_grad = False
    grad: Tensor | None = None
    grad_fn: Any = None
    _output_nr = 0
    _vbox: list | None = None
    _hooks: list | None = None
    _retains_grad = False
    _base: Tensor | None = None
    __array_priority__ = 1000  # NumPy defers `ndarray * tensor` to Tensor.__rmul__

    def __init__(self, *args: Any, device: Any = None, dtype: Any = None) -> None:
        """``Tensor(data)`` copies data as float32 (like torch.Tensor); ``Tensor(2, 3)`` is uninitialised."""
        backend = get_backend(device)
        dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
        if args and all(isinstance(a, int) for a in args):
            self._data = backend.xp.empty(args, dtype=dt.np)
        elif len(args) == 1 and isinstance(args[0], (tuple, Size)) and all(isinstance(a, int) for a in args[0]):
            self._data = backend.xp.empty(tuple(args[0]), dtype=dt.np)
        elif len(args) == 1:
            data = args[0]._data if isinstance(args[0], Tensor) else args[0]
            self._data = backend.asarray(data, dtype=dt.np)
        elif not args:
            self._data = backend.xp.empty((0,), dtype=dt.np)
        else:
            raise TypeError(f"Tensor(): expected data or integer sizes, got {args!r}")
        self._backend = backend

    # ----- construction used by the op layer -------------------------------------------------
    @classmethod
    def _wrap(cls, data: Any, backend: Backend) -> Tensor:
        t = object.__new__(Tensor)
        t._data = data
        t._backend = backend
        return t

    # ----- metadata ----------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        if _observer is not None:
            return Size(_observer.sizes(self))
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        if _observer is not None:
            sizes = _observer.sizes(self)
            return Size(sizes) if dim is None else sizes[_wrap_dim(dim, self._data.ndim, "size")]
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.FROM_NUMPY[self._data.dtype]

    @property
    def device(self) -> device:
        return self._backend.device

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def ndimension(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    @property
    def is_cuda(self) -> bool:
        return self._backend.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._backend.device.type == "cpu"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return False

    def get_device(self) -> int:
        return -1 if self.is_cpu else self._backend.device.index

    def stride(self, dim: int | None = None) -> Any:
        item = self._data.itemsize
        strides = tuple(s // item for s in self._data.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self._data.ndim, "stride")]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        if self.is_cpu:
            return int(self._data.__array_interface__["data"][0])
        return int(self._data.data.ptr)

    @property
    def _version(self) -> int:
        return 0 if self._vbox is None else self._vbox[0]

    # ----- autograd bookkeeping ----------------------------------------------------------------
    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def data(self) -> Tensor:
        """The same storage without autograd history."""
        return Tensor._wrap(self._data, self._backend)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}")
        self._data = value._data
        self._backend = value._backend

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not (self._data.dtype.kind == "f"):
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got {self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; use detach() for a non-leaf")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """A tensor sharing storage (and version counter) with this one, cut from the graph."""
        out = Tensor._wrap(self._data, self._backend)
        if self._vbox is None:
            self._vbox = [0]
        out._vbox = self._vbox
        return out

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        self._output_nr = 0
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def store(grad: Tensor) -> None:
            t = ref()
            if t is not None:
                t.grad = grad if t.grad is None else t.grad + grad

        self.grad_fn._output_hooks(self._output_nr).append(_RetainGradHook(store))

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            hooks = self.grad_fn._output_hooks(self._output_nr)
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        from .autograd.engine import backward

        backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph, inputs)

    # ----- conversion to host values -----------------------------------------------------------
    def numpy(self, *, force: bool = False) -> Any:
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if not self.is_cpu and not force:
            raise TypeError(
                f"can't convert {self.device} tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first."
            )
        if _observer is not None:
            _observer.read_values(self, "numpy()")
        return self._backend.to_numpy(self._data)

    def item(self) -> Any:
        if _observer is not None:
            _observer.read_values(self, "item()")
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item() if self.is_cpu else self._backend.to_numpy(self._data).item()

    def tolist(self) -> Any:
        if _observer is not None:
            _observer.read_values(self, "tolist()")
        return self._backend.to_numpy(self._data).tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        array = self._backend.to_numpy(self._data)
        return array if dtype is None else array.astype(dtype, copy=False)

    def __dlpack__(self, **kwargs: Any) -> Any:
        if self.requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> Any:
        return self._data.__dlpack_device__()

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.item())

    def __float__(self) -> float:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        from ._format import format_tensor

        return format_tensor(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self)

    def __deepcopy__(self, memo: dict) -> Tensor:
        out = Tensor._wrap(self._data.copy(), self._backend)
        if self.requires_grad:
            out.requires_grad = True
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol: int) -> Any:
        raise TypeError("portable_dl tensors are not picklable; save them with portable_dl.save (safetensors)")

    # ----- device / dtype conversions (differentiable ops live in portable_dl.ops) -------------
    def cpu(self) -> Tensor:
        return self.to("cpu")  # type: ignore[attr-defined]

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        target = "cuda" if device is None else (device if not isinstance(device, int) else f"cuda:{device}")
        return self.to(target)  # type: ignore[attr-defined]


class _RetainGradHook:
    """A grad hook that stores the gradient; kept apart from user hooks so it never alters grads."""

    __slots__ = ("store",)

    def __init__(self, store: Callable) -> None:
        self.store = store

    def __call__(self, grad: Tensor) -> None:
        self.store(grad)


def _wrap_dim(dim: int, ndim: int, op: str) -> int:
    """Turn a possibly negative dim into a positive one, with torch's error for out-of-range dims."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


__all__ = ["Tensor", "Size", "is_tensor", "CPU"]
