"""``set_num_threads`` / ``get_num_threads``: the CPU backend's parallelism is its BLAS library's threads.

NumPy's wheels bundle OpenBLAS (``libscipy_openblas64_``), other builds link a system OpenBLAS; neither is
reachable from NumPy's Python API, so the library loaded in this process is found (``/proc/self/maps`` on
Linux, NumPy's bundled library folder elsewhere) and its ``*_set_num_threads`` called through ctypes, as
threadpoolctl does. Small matrices (RNN steps, small convolutions) often run faster on 1 thread, and much
faster when other processes share the cores.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

import numpy as np

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")
_library: Any = None
_searched = False


def _candidates() -> list[str]:
    import glob

    paths: list[str] = []
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
                for line in maps:
                    path = line.rsplit(" ", 1)[-1].strip()
                    if "openblas" in os.path.basename(path).lower() and path not in paths:
                        paths.append(path)
        except OSError:
            pass
    root = os.path.dirname(os.path.dirname(np.__file__))
    for folder in (os.path.join(root, "numpy.libs"), os.path.join(os.path.dirname(np.__file__), ".dylibs")):
        paths += [p for p in sorted(glob.glob(os.path.join(folder, "*openblas*"))) if p not in paths]
    return paths


def _openblas() -> Any:
    """The loaded OpenBLAS library as a ctypes handle, or None when NumPy uses another BLAS."""
    global _library, _searched
    if not _searched:
        _searched = True
        np.dot(np.ones((2, 2)), np.ones((2, 2)))  # make sure the BLAS is loaded
        for path in _candidates():
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            if any(hasattr(lib, name) for name in _SETTERS):
                _library = lib
                break
    return _library


def _function(names: tuple) -> Any:
    lib = _openblas()
    if lib is None:
        return None
    for name in names:
        if hasattr(lib, name):
            return getattr(lib, name)
    return None


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for CPU matrix products (``torch.set_num_threads``)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    setter = _function(_SETTERS)
    if setter is None:
        raise RuntimeError(
            "set_num_threads: NumPy's BLAS is not OpenBLAS (or was not found); set the BLAS library's own "
            "environment variable (e.g. MKL_NUM_THREADS) before starting Python instead"
        )
    setter.argtypes = (ctypes.c_int,)
    setter(int(n))


def get_num_threads() -> int:
    """The number of threads CPU matrix products use (``torch.get_num_threads``)."""
    getter = _function(_GETTERS)
    if getter is None:
        return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))
    getter.restype = ctypes.c_int
    return int(getter())
