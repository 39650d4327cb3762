"""Backends: one object per device, owning the array module (NumPy or CuPy)."""

from __future__ import annotations

from typing import Any

from .._device import device
from .base import Backend
from .blas_threads import get_num_threads, set_num_threads
from .numpy_backend import NumpyBackend

CPU = NumpyBackend()
_BACKENDS: dict[Any, Backend] = {"cpu": CPU, None: CPU, CPU.device: CPU}
_seed: int | None = None


def get_backend(where: Any = None) -> Backend:
    """The backend for a device given as None, a string, a ``device`` or an int (a CUDA index)."""
    backend = _BACKENDS.get(where) if isinstance(where, (str, device)) or where is None else None
    if backend is not None:
        return backend
    if isinstance(where, Backend):
        return where
    if isinstance(where, int) and not isinstance(where, bool):
        where = device("cuda", where)
    dev = device(where)
    if dev.type == "cpu":
        return CPU
    index = 0 if dev.index is None else dev.index
    key = device("cuda", index)
    backend = _BACKENDS.get(key)
    if backend is None:
        from .cupy_backend import CupyBackend

        backend = CupyBackend(index)
        if _seed is not None:
            backend.seed(_seed)
        _BACKENDS[key] = backend
    _BACKENDS[where if isinstance(where, str) else dev] = backend
    return backend


def seed_all(seed: int) -> None:
    """Seed every backend created so far, and those created later."""
    global _seed
    _seed = seed
    for backend in set(_BACKENDS.values()):
        backend.seed(seed)


def backend_of_array(array: Any) -> Backend:
    """The backend that owns a raw array (NumPy or CuPy)."""
    if type(array).__module__.startswith("cupy"):
        return get_backend(device("cuda", array.device.id))
    return CPU


def cuda_is_available() -> bool:
    try:
        get_backend("cuda")
    except RuntimeError:
        return False
    return True


def cuda_device_count() -> int:
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:
        return 0


__all__ = [
    "Backend", "CPU", "get_backend", "seed_all", "backend_of_array", "cuda_is_available", "get_num_threads",
    "set_num_threads",
]  # fmt: skip
