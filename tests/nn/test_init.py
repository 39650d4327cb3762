"""``nn.init`` against torch: gains and fans exactly, distributions by statistics."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import portable_dl as pdl
from portable_dl.nn import init


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
     ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)],
)  # fmt: skip
def test_calculate_gain_matches_torch(nonlinearity: str, param: float | None) -> None:
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_errors() -> None:
    for args in [("gelu",), ("leaky_relu", True), ("leaky_relu", "x")]:
        with pytest.raises(ValueError) as ref:
            torch.nn.init.calculate_gain(*args)
        with pytest.raises(ValueError) as ours:
            init.calculate_gain(*args)
        assert str(ours.value) == str(ref.value)


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5), (6, 2, 3, 3), (4, 2, 1, 2, 3)])
def test_fan_in_and_fan_out(shape: tuple[int, ...]) -> None:
    assert init._calculate_fan_in_and_fan_out(pdl.empty(*shape)) == torch.nn.init._calculate_fan_in_and_fan_out(
        torch.empty(*shape)
    )
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(pdl.empty(3))


def _stats(t: pdl.Tensor) -> tuple[float, float, float, float]:
    a = t.detach().numpy().astype("float64")
    return a.mean(), a.std(), a.min(), a.max()


def test_inplace_returns_same_tensor_and_no_graph() -> None:
    w = pdl.nn.Parameter(pdl.empty(50, 40))
    out = init.uniform_(w, -1, 1)
    assert out is w and w.is_leaf and w.requires_grad and w.grad_fn is None
    assert isinstance(w, pdl.nn.Parameter)


def test_uniform_and_normal() -> None:
    w = pdl.empty(200, 300)
    mean, _, lo, hi = _stats(init.uniform_(w, -0.5, 1.5))
    assert -0.5 <= lo and hi <= 1.5 and abs(mean - 0.5) < 0.02
    mean, std, _, _ = _stats(init.normal_(w, 2.0, 0.5))
    assert abs(mean - 2.0) < 0.01 and abs(std - 0.5) < 0.01
    w64 = pdl.empty(10, 10, dtype=pdl.float64)
    assert init.normal_(w64).dtype == pdl.float64


def test_trunc_normal() -> None:
    w = pdl.empty(300, 300)
    mean, std, lo, hi = _stats(init.trunc_normal_(w, mean=0.0, std=1.0, a=-1.0, b=2.0))
    ref = torch.nn.init.trunc_normal_(torch.empty(300, 300), mean=0.0, std=1.0, a=-1.0, b=2.0).double()
    assert -1.0 <= lo and hi <= 2.0
    assert abs(mean - ref.mean().item()) < 0.01 and abs(std - ref.std().item()) < 0.01


def test_constant_ones_zeros_eye_dirac() -> None:
    w = pdl.empty(3, 5)
    np.testing.assert_array_equal(init.constant_(w, 0.25).numpy(), np.full((3, 5), 0.25, "float32"))
    np.testing.assert_array_equal(init.ones_(w).numpy(), np.ones((3, 5), "float32"))
    np.testing.assert_array_equal(init.zeros_(w).numpy(), np.zeros((3, 5), "float32"))
    np.testing.assert_array_equal(init.eye_(w).numpy(), torch.nn.init.eye_(torch.empty(3, 5)).numpy())
    with pytest.raises(ValueError):
        init.eye_(pdl.empty(2, 2, 2))
    for shape, groups in [((4, 2, 3), 1), ((6, 2, 3, 3), 2), ((2, 3, 3, 3, 3), 1)]:
        ours = init.dirac_(pdl.empty(*shape), groups)
        np.testing.assert_array_equal(ours.numpy(), torch.nn.init.dirac_(torch.empty(*shape), groups).numpy())


def _expected_std(name: str, shape: tuple[int, ...], **kw: object) -> float:
    ref = getattr(torch.nn.init, name)(torch.empty(*shape), **kw)
    return ref.double().std().item()


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("xavier_uniform_", {}), ("xavier_uniform_", {"gain": 2.0}), ("xavier_normal_", {"gain": 0.5}),
     ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": math.sqrt(5)}),
     ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
     ("kaiming_normal_", {"nonlinearity": "relu"}), ("kaiming_normal_", {"mode": "fan_out", "a": 0.1})],
)  # fmt: skip
def test_fan_scaled_schemes_match_torch_statistics(name: str, kwargs: dict) -> None:
    shape = (128, 64, 3, 3)
    w = getattr(init, name)(pdl.empty(*shape), **kwargs)
    mean, std, lo, hi = _stats(w)
    ref_std = _expected_std(name, shape, **kwargs)
    assert abs(mean) < 0.02 * ref_std + 1e-4
    assert std == pytest.approx(ref_std, rel=0.02)
    if "uniform" in name:  # bounded by sqrt(3) * std
        assert max(-lo, hi) <= math.sqrt(3) * ref_std * 1.02


def test_kaiming_errors_and_empty() -> None:
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(pdl.empty(3, 4), mode="fan_avg")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = pdl.empty(0, 4)
        assert init.kaiming_normal_(w) is w
    assert any("zero-element" in str(c.message) for c in caught)


def test_generator_argument_accepted() -> None:
    w = pdl.empty(5, 5)
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_):
        assert fn(w, generator=None) is w
    gen = np.random.default_rng(3)
    a = init.normal_(pdl.empty(4), generator=gen).numpy().copy()
    b = init.normal_(pdl.empty(4), generator=np.random.default_rng(3)).numpy()
    np.testing.assert_array_equal(a, b)


def test_manual_seed_makes_init_reproducible() -> None:
    pdl.manual_seed(7)
    a = init.kaiming_uniform_(pdl.empty(6, 6)).numpy().copy()
    pdl.manual_seed(7)
    b = init.kaiming_uniform_(pdl.empty(6, 6)).numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape: tuple[int, ...]) -> None:
    w = init.orthogonal_(pdl.empty(*shape), gain=2.0).numpy().astype("float64")
    flat = w.reshape(shape[0], -1)
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError):
        init.orthogonal_(pdl.empty(3))


def test_sparse() -> None:
    w = init.sparse_(pdl.empty(10, 200), sparsity=0.3, std=0.5).numpy()
    zeros_per_column = (w == 0).sum(axis=0)
    assert np.all(zeros_per_column >= 3)  # ceil(0.3 * 10) rows zeroed in every column
    nonzero = w[w != 0]
    assert abs(nonzero.std() - 0.5) < 0.05
    with pytest.raises(ValueError):
        init.sparse_(pdl.empty(2, 2, 2), 0.1)


def test_integer_tensor_refused_by_random_fills() -> None:
    with pytest.raises(NotImplementedError):
        init.normal_(pdl.zeros(3, dtype=pdl.int64))
