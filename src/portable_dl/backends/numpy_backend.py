"""The CPU backend: NumPy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._device import device
from .base import Backend
from .erf import erf_numpy
from .malloc_tuning import tune_malloc


class NumpyBackend(Backend):
    name = "numpy"
    array_type = np.ndarray

    def __init__(self) -> None:
        self.xp = np
        self.device = device("cpu")
        self._rng = np.random.default_rng()
        tune_malloc()

    def asarray(self, data: Any, dtype: Any = None) -> Any:
        if hasattr(data, "__cuda_array_interface__"):  # a CuPy array: copy to host
            data = data.get()
        return np.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> Any:
        return array

    def scatter_add(self, target: Any, index: Any, values: Any) -> None:
        if (
            type(index) is np.ndarray
            and index.ndim == 1
            and index.dtype.kind in "iu"
            and target.ndim > 1
            and index.size > 256
            and values.shape == index.shape + target.shape[1:]
        ):
            _scatter_add_rows(target, index, values)
        else:
            np.add.at(target, index, values)

    def scatter_multiply(self, target: Any, index: Any, values: Any) -> None:
        np.multiply.at(target, index, values)

    def writeable(self, array: Any) -> bool:
        return array.flags.writeable

    def generator(self) -> Any:
        return self._rng

    def permutation(self, n: int) -> Any:
        return self._rng.permutation(n)

    def seed(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def erf(self, x: Any) -> Any:
        return erf_numpy(x)

    def from_dlpack(self, obj: Any) -> Any:
        return np.from_dlpack(obj)


def _scatter_add_rows(target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` for whole rows: sort the rows by index and sum each run with one
    ``add.reduceat``; about twice as fast as ``np.add.at`` for embedding-sized gradients."""
    if index.min() < 0:
        index = np.where(index < 0, index + target.shape[0], index)
    order = np.argsort(index, kind="stable")
    ordered = index[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    target[ordered[starts]] += np.add.reduceat(values[order], starts, axis=0)
