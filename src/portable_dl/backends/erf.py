"""The error function for NumPy arrays (NumPy has none; SciPy is not a core dependency)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_erf_scalar = np.vectorize(math.erf, otypes=[np.float64])


def erf_numpy(x: Any) -> Any:
    """erf(x) elementwise, in the dtype of ``x``."""
    return _erf_scalar(x).astype(x.dtype, copy=False)
