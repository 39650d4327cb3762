"""The CUDA backend: CuPy arrays on one GPU. CuPy is imported only when a CUDA device is asked for."""

from __future__ import annotations

from typing import Any

from .._device import device
from .base import Backend


def _import_cupy() -> Any:
    try:
        import cupy
    except ImportError as err:
        raise RuntimeError(
            "device 'cuda' needs CuPy, which is not installed; install the GPU extra: pip install 'portable-dl[gpu]'"
        ) from err
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDA driver missing or broken
        raise RuntimeError(f"device 'cuda' is not available: CuPy found no usable GPU ({err})") from err
    if count == 0:
        raise RuntimeError("device 'cuda' is not available: CuPy sees no GPU")
    return cupy


class CupyBackend(Backend):
    name = "cupy"

    def __init__(self, index: int) -> None:
        cupy = _import_cupy()
        count = cupy.cuda.runtime.getDeviceCount()
        if index >= count:
            raise RuntimeError(f"device 'cuda:{index}' does not exist; this machine has {count} GPU(s)")
        self.xp = cupy
        self.array_type = cupy.ndarray
        self.index = index
        self.device = device("cuda", index)
        self._cuda_device = cupy.cuda.Device(index)
        with self._cuda_device:
            self._rng = cupy.random.default_rng()

    def asarray(self, data: Any, dtype: Any = None) -> Any:
        with self._cuda_device:
            return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> Any:
        return array.get()

    def scatter_add(self, target: Any, index: Any, values: Any) -> None:
        import cupyx

        cupyx.scatter_add(target, index, values)

    def generator(self) -> Any:
        return self._rng

    def seed(self, seed: int) -> None:
        with self._cuda_device:
            self._rng = self.xp.random.default_rng(seed)

    def erf(self, x: Any) -> Any:
        import cupyx.scipy.special

        return cupyx.scipy.special.erf(x)

    def from_dlpack(self, obj: Any) -> Any:
        with self._cuda_device:
            return self.xp.from_dlpack(obj)

    def synchronize(self) -> None:
        self._cuda_device.synchronize()
