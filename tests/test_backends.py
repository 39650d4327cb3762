"""Backend primitives against their plain NumPy definitions."""

from __future__ import annotations

import numpy as np
import pytest

import portable_dl as pdl
from portable_dl.backends import CPU, get_backend
from portable_dl.backends.cupy_backend import (
    _ATOMIC_ADD,
    CupyBackend,
    scatter_add_any,
    scatter_multiply_rounds,
)


@pytest.mark.parametrize("n", [10, 300, 5000])
def test_scatter_add_rows_matches_add_at(n: int) -> None:
    rng = np.random.default_rng(n)
    index = rng.integers(-50, 50, n)
    values = rng.standard_normal((n, 7)).astype(np.float32)
    ours = np.zeros((50, 7), np.float32)
    CPU.scatter_add(ours, index, values)
    expected = np.zeros((50, 7), np.float32)
    np.add.at(expected, index, values)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)


# The CuPy backend's array algorithms, run with NumPy standing in for CuPy.


def _atomic_add_at(target: np.ndarray, index: object, values: object) -> None:
    """np.add.at restricted to the dtypes cupyx.scatter_add takes."""
    assert target.dtype.char in _ATOMIC_ADD, target.dtype
    np.add.at(target, index, values)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool", "float32", "float64"])
def test_cupy_scatter_add_any_dtype_matches_add_at(dtype: str) -> None:
    rng = np.random.default_rng(0)
    target = rng.integers(-100, 100, (6, 4)).astype(dtype)
    index = (rng.integers(-6, 6, 40), rng.integers(0, 4, 40))
    values = rng.integers(-(2**40) if dtype == "int64" else -100, 100, 40).astype(dtype)
    expected = target.copy()
    np.add.at(expected, index, values)
    scatter_add_any(np, _atomic_add_at, target, index, values)
    np.testing.assert_array_equal(target, expected)
    view = target[::2]  # a strided view, and a scalar value
    expected = view.copy()
    np.add.at(expected, index[0] % 3, dtype != "bool")
    scatter_add_any(np, _atomic_add_at, view, index[0] % 3, dtype != "bool")
    np.testing.assert_array_equal(view, expected)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_cupy_scatter_multiply_rounds_matches_multiply_at(dtype: str) -> None:
    rng = np.random.default_rng(1)
    target = (rng.standard_normal((5, 3, 2)) * 3).astype(dtype)
    index = (rng.integers(-5, 5, (7, 1)), rng.integers(0, 3, (1, 4)))  # broadcast, repeats, negative indices
    values = (rng.standard_normal((7, 4, 2)) * 3).astype(dtype)
    expected = target.copy()
    np.multiply.at(expected, index, values)
    scatter_multiply_rounds(np, target, index, values)
    np.testing.assert_array_equal(target, expected)  # same products in the same order: bitwise equal
    flat = rng.integers(0, 5, 30)
    expected = target.copy()
    np.multiply.at(expected, flat, 2)
    scatter_multiply_rounds(np, target, flat, 2)
    np.testing.assert_array_equal(target, expected)
    scatter_multiply_rounds(np, target, flat[:0], values)  # nothing to do


def test_writeable_refuses_broadcast_views() -> None:
    base = np.zeros((1, 3))
    for backend in (CPU, object.__new__(CupyBackend)):  # CupyBackend.writeable only looks at strides
        assert backend.writeable(base)
        assert backend.writeable(base[:, ::2].T)
        assert not backend.writeable(np.broadcast_to(base, (4, 3)))


def test_get_backend_spellings() -> None:
    assert get_backend(None) is CPU
    assert get_backend("cpu") is CPU
    assert get_backend(pdl.device("cpu")) is CPU


def test_unknown_device_names_valid_ones() -> None:
    with pytest.raises(RuntimeError, match="valid types are 'cpu' and 'cuda'"):
        get_backend("tpu")


@pytest.mark.gpu
def test_cuda_backend_round_trip() -> None:
    x = pdl.arange(6, dtype=pdl.float32).reshape(2, 3)
    y = x.cuda()
    assert y.device.type == "cuda"
    np.testing.assert_array_equal((y * 2).cpu().numpy(), x.numpy() * 2)
    get_backend("cuda").synchronize()
