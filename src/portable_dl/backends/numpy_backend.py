"""The CPU backend: NumPy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._device import device
from .base import Backend
from .erf import erf_numpy


class NumpyBackend(Backend):
    name = "numpy"
    array_type = np.ndarray

    def __init__(self) -> None:
        self.xp = np
        self.device = device("cpu")
        self._rng = np.random.default_rng()

    def asarray(self, data: Any, dtype: Any = None) -> Any:
        if hasattr(data, "__cuda_array_interface__"):  # a CuPy array: copy to host
            data = data.get()
        return np.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> Any:
        return array

    def scatter_add(self, target: Any, index: Any, values: Any) -> None:
        np.add.at(target, index, values)

    def generator(self) -> Any:
        return self._rng

    def seed(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def erf(self, x: Any) -> Any:
        return erf_numpy(x)

    def from_dlpack(self, obj: Any) -> Any:
        return np.from_dlpack(obj)
