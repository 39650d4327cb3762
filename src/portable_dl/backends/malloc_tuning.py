"""Keep freed large NumPy buffers inside the process (glibc only), so a training step doesn't page-fault.

glibc serves allocations above a dynamic threshold with fresh ``mmap`` pages and returns them to the kernel
on free; every training step then touches tens of MB of new pages (zeroed by the kernel, one fault per
page) for its activations, gradients and im2col buffers. That costs ~20% of a CNN step here. Raising the
mmap threshold to its maximum (32 MB) and the trim threshold to 256 MB lets those buffers be reused from
the heap, the effect jemalloc/tcmalloc give PyTorch users who preload them. Peak memory does not grow:
the pages kept are ones the process already used.

Skipped when the user set any ``MALLOC_*`` variable or ``GLIBC_TUNABLES`` (their choice wins), when
``PORTABLE_DL_MALLOC_TUNING=0``, and on platforms without glibc.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's upper limit on 64-bit systems
TRIM_THRESHOLD = 256 * 1024 * 1024

_applied: bool | None = None


def tune_malloc() -> bool:
    """Apply the thresholds once per process; returns whether they are in effect."""
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _glibc() -> bool:
    try:
        return sys.platform == "linux" and os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError):
        return False


def _apply() -> bool:
    if os.environ.get("PORTABLE_DL_MALLOC_TUNING", "1") == "0":
        return False
    if "GLIBC_TUNABLES" in os.environ or any(key.startswith("MALLOC_") for key in os.environ):
        return False
    if not _glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
