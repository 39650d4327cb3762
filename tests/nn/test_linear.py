"""nn.Identity / nn.Linear / nn.Bilinear against their torch twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import portable_dl as pdl
from portable_dl import nn

from ._twin import check_twin

rng = np.random.default_rng(0)


def _x(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(bias: bool) -> None:
    ours, theirs = nn.Linear(5, 3, bias=bias), torch.nn.Linear(5, 3, bias=bias)
    assert repr(ours) == repr(theirs)
    check_twin(ours, theirs, [_x(4, 5)])
    check_twin(nn.Linear(5, 3, bias), torch.nn.Linear(5, 3, bias), [_x(2, 6, 5)])


def test_linear_shapes_and_init_bounds() -> None:
    m = nn.Linear(400, 300)
    assert tuple(m.weight.shape) == (300, 400) and tuple(m.bias.shape) == (300,)
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    bound = 1 / math.sqrt(400)
    w = m.weight.detach().numpy()
    b = m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.03)
    assert abs(w.mean()) < 0.01 * bound * 10
    assert m.weight.requires_grad and isinstance(m.weight, nn.Parameter)


def test_linear_factory_kwargs() -> None:
    m = nn.Linear(3, 2, device="cpu", dtype=pdl.float64)
    assert m.weight.dtype == pdl.float64 and m.bias.dtype == pdl.float64
    out = m(pdl.ones(1, 3, dtype=pdl.float64))
    assert out.dtype == pdl.float64


def test_linear_seeded_init_is_reproducible() -> None:
    pdl.manual_seed(3)
    a = nn.Linear(4, 4).weight.detach().numpy()
    pdl.manual_seed(3)
    b = nn.Linear(4, 4).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


def test_identity() -> None:
    m = nn.Identity(54, unused="x")
    x = pdl.randn(2, 3)
    assert m(x) is x
    assert repr(m) == repr(torch.nn.Identity(54, unused="x")) == "Identity()"


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_matches_torch(bias: bool) -> None:
    ours, theirs = nn.Bilinear(4, 3, 2, bias=bias), torch.nn.Bilinear(4, 3, 2, bias=bias)
    assert repr(ours) == repr(theirs)
    check_twin(ours, theirs, [_x(5, 4), _x(5, 3)])
    assert tuple(ours.weight.shape) == (2, 4, 3)
    w = nn.Bilinear(50, 3, 20).weight.detach().numpy()
    assert np.abs(w).max() <= 1 / math.sqrt(50)
