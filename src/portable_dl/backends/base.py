"""The Backend interface: an array module plus the few primitives NumPy and CuPy spell differently."""

from __future__ import annotations

from typing import Any

from .._device import device


class Backend:
    """One device's array library. Op code asks a tensor's backend for ``xp``; it never imports one."""

    name: str
    xp: Any
    array_type: type  # the backend's ndarray class
    device: device

    def asarray(self, data: Any, dtype: Any = None) -> Any:
        """Put host data (lists, scalars, NumPy arrays) on this device."""
        raise NotImplementedError

    def to_numpy(self, array: Any) -> Any:
        """Copy an array of this backend to a host NumPy array."""
        raise NotImplementedError

    def scatter_add(self, target: Any, index: Any, values: Any) -> None:
        """``target[index] += values`` with repeated indices accumulated (unbuffered)."""
        raise NotImplementedError

    def scatter_multiply(self, target: Any, index: Any, values: Any) -> None:
        """``target[index] *= values`` with repeated indices multiplied in turn (``multiply.at``)."""
        raise NotImplementedError

    def writeable(self, array: Any) -> bool:
        """Whether ``array`` may be written in place: False for broadcast (expanded) views, whose elements alias."""
        raise NotImplementedError

    def generator(self) -> Any:
        """This device's random generator (seeded by ``manual_seed``)."""
        raise NotImplementedError

    def permutation(self, n: int) -> Any:
        """A random permutation of ``0 .. n-1`` (int64) from this device's generator."""
        raise NotImplementedError

    def seed(self, seed: int) -> None:
        raise NotImplementedError

    def erf(self, x: Any) -> Any:
        """The error function, elementwise (NumPy has none, CuPy does)."""
        raise NotImplementedError

    def from_dlpack(self, capsule_owner: Any) -> Any:
        raise NotImplementedError

    def synchronize(self) -> None:
        """Wait for queued device work; a no-op on the CPU."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.device}>"
