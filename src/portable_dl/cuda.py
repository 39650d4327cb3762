"""``portable_dl.cuda``: is a GPU usable (through CuPy), how many, wait for it."""

from __future__ import annotations

from .backends import cuda_device_count, cuda_is_available, get_backend


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return cuda_is_available()


def device_count() -> int:
    return cuda_device_count()


def synchronize(device: object = None) -> None:
    get_backend("cuda" if device is None else device).synchronize()


def manual_seed(seed: int) -> None:
    get_backend("cuda").seed(seed)


def manual_seed_all(seed: int) -> None:
    manual_seed(seed)
