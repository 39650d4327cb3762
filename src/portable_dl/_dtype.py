"""Tensor dtypes with PyTorch's names and type-promotion rules.

This module is one of the explicit NumPy interop points: a dtype knows the
NumPy dtype it stores as (CuPy uses the same dtype objects).
"""

from __future__ import annotations

import builtins

import numpy as np

builtins_int = builtins.int
builtins_float = builtins.float

# Promotion categories: a value of a higher category always wins (bool < int < float).
BOOL, INT, FLOAT = 0, 1, 2


class dtype:  # noqa: N801 - torch spells it lower case
    """A tensor element type, e.g. ``portable_dl.float32``."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_signed", "category")

    def __init__(self, name: str, category: int) -> None:
        self.name = name
        self.np = np.dtype(name)
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == FLOAT
        self.is_signed = name not in ("uint8", "bool")
        self.category = category

    def __repr__(self) -> str:
        return f"portable_dl.{self.name}"

    def __reduce__(self) -> str:
        return self.name

    def to_real(self) -> dtype:
        return self

    @property
    def is_complex(self) -> bool:
        return False


float16 = dtype("float16", FLOAT)
float32 = dtype("float32", FLOAT)
float64 = dtype("float64", FLOAT)
int8 = dtype("int8", INT)
uint8 = dtype("uint8", INT)
int16 = dtype("int16", INT)
int32 = dtype("int32", INT)
int64 = dtype("int64", INT)
bool_ = dtype("bool", BOOL)

half, float, double = float16, float32, float64  # noqa: A001 - torch aliases
short, int, long = int16, int32, int64  # noqa: A001

ALL_DTYPES = (float16, float32, float64, int8, uint8, int16, int32, int64, bool_)
FROM_NUMPY: dict = {d.np: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES}

_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype of float tensors created without an explicit dtype (float32)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Change the default float dtype, like ``torch.set_default_dtype``."""
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only float dtypes are valid, got {d!r}")
    _default_float = d


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    return FROM_NUMPY[np.promote_types(a.np, b.np)]


_PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL_DTYPES for b in ALL_DTYPES}


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch.promote_types: the smallest dtype both values fit, a float always beats an int."""
    return _PROMOTE[(a, b)]


def to_dtype(value) -> dtype:
    """Accept a portable_dl dtype, a NumPy dtype or a dtype name; raise a clear error otherwise."""
    if isinstance(value, dtype):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    if value is bool:
        return bool_
    if value is builtins_float:
        return float64  # torch: dtype=float means float64
    if value is builtins_int:
        return int64
    try:
        return FROM_NUMPY[np.dtype(value)]
    except (TypeError, KeyError):
        valid = ", ".join(d.name for d in ALL_DTYPES)
        raise TypeError(f"unsupported dtype {value!r}; valid dtypes are {valid}") from None


def scalar_dtype(value) -> dtype:
    """The dtype a Python scalar takes when it stands alone (bool, int64, or the default float)."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, builtins_int):
        return int64
    return _default_float


def scalar_category(value) -> int:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, builtins_int):
        return INT
    return FLOAT
