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
            if isinstance(data, self.array_type) and data.device.id != self.index:
                data = data.copy()  # asarray leaves an array on its own GPU; copy() brings it to this one
            return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> Any:
        return array.get()

    def scatter_add(self, target: Any, index: Any, values: Any) -> None:
        import cupyx

        scatter_add_any(self.xp, cupyx.scatter_add, target, index, values)

    def scatter_multiply(self, target: Any, index: Any, values: Any) -> None:
        scatter_multiply_rounds(self.xp, target, index, values)

    def writeable(self, array: Any) -> bool:
        # CuPy has no read-only flag: a broadcast view is recognised by a zero stride on a dim of size > 1
        return all(st != 0 or n < 2 for st, n in zip(array.strides, array.shape))

    def generator(self) -> Any:
        return self._rng

    def permutation(self, n: int) -> Any:
        # cupy.random.Generator has no permutation(): the order that sorts n uniform draws is a uniform permutation
        with self._cuda_device:
            return self.xp.argsort(self._rng.random(n))

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


# Array-level algorithms, written against ``xp`` so the tests can check them with NumPy.

# dtype chars cupyx.scatter_add takes (those of CUDA's atomicAdd): int32, uint32, uint64, float16/32/64
_ATOMIC_ADD = frozenset("iILQefd")


def scatter_add_any(xp: Any, add_at: Any, target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` for every dtype, given ``add_at`` (cupyx.scatter_add) that only takes
    atomicAdd's dtypes: int64 is added as uint64 (two's complement sums have the same bits); narrower
    ints and bool accumulate in int32 (the same sums modulo 2**8 or 2**16), then are added once."""
    dt = target.dtype
    if dt.char in _ATOMIC_ADD:
        add_at(target, index, values)
    elif dt.kind == "i" and dt.itemsize == 8:
        add_at(target.view("uint64"), index, xp.asarray(values, dtype="int64").view("uint64"))
    else:
        acc = xp.zeros(target.shape, dtype="int32")
        add_at(acc, index, xp.asarray(values).astype("int32"))
        if dt.kind == "b":
            target |= acc != 0
        else:
            target += acc.astype(dt)


def scatter_multiply_rounds(xp: Any, target: Any, index: Any, values: Any) -> None:
    """``multiply.at(target, index, values)`` for an integer array (or a tuple of them, addressing the
    leading dims) without it: the k-th occurrence of each position is multiplied in round k, so the
    positions of a round are distinct and each product is formed in index order, as multiply.at does."""
    parts = xp.broadcast_arrays(*(index if type(index) is tuple else (index,)))
    lead = len(parts)
    shape = parts[0].shape
    n = parts[0].size
    if n == 0:
        return
    trailing = target.shape[lead:]
    flat = [p.reshape(-1) for p in parts]
    vals = xp.broadcast_to(xp.asarray(values, dtype=target.dtype), shape + trailing).reshape((n,) + trailing)
    key = xp.ravel_multi_index(tuple(flat), target.shape[:lead], mode="wrap")  # negative indices wrap, as in indexing
    order = xp.argsort(key, kind="stable")
    ordered = key[order]
    rank = xp.arange(n) - xp.searchsorted(ordered, ordered, side="left")  # occurrence number, in sorted order
    for k in range(int(rank.max()) + 1):
        sel = order[rank == k]
        target[tuple(f[sel] for f in flat)] *= vals[sel]
