"""Backend primitives against their plain NumPy definitions."""

from __future__ import annotations

import numpy as np
import pytest

import portable_dl as pdl
from portable_dl.backends import CPU, get_backend


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
