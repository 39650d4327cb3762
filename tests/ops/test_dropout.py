"""Dropout: masks can't be compared with torch, so check statistics, scaling, gradients = mask / (1 - p),
determinism under manual_seed, identities (eval, p=0), p=1, channel-wise shapes and error paths."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import portable_dl as pdl
import portable_dl.nn.functional as PF
from tests.parity import gradcheck

rng = np.random.default_rng(0)
ALPHA_SCALE = 1.7580993408473766


def ones(*shape: int, device: str = "cpu", dtype: object = None) -> pdl.Tensor:
    return pdl.ones(*shape, device=device, dtype=dtype or pdl.float32)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_statistics_and_scaling(p: float, device: str) -> None:
    pdl.manual_seed(0)
    x = ones(200, 100, device=device)
    y = PF.dropout(x, p).cpu().numpy()
    kept = y != 0
    assert abs(kept.mean() - (1 - p)) < 0.02
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)
    assert abs(y.mean() - 1) < 0.05  # expectation is preserved


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_dtype_and_grad_is_scaled_mask(dtype: str, device: str) -> None:
    pdl.manual_seed(1)
    x = pdl.tensor(rng.standard_normal((6, 7)).astype(dtype), device=device, requires_grad=True)
    y = PF.dropout(x, 0.3)
    assert y.dtype == x.dtype and y.shape == x.shape
    g = pdl.tensor(rng.standard_normal((6, 7)).astype(dtype), device=device)
    y.backward(g)
    xn, yn, gn = x.detach().cpu().numpy(), y.detach().cpu().numpy(), g.cpu().numpy()
    mask = yn != 0
    scale = np.asarray(1 / np.asarray(1 - 0.3, dtype=dtype), dtype=dtype)
    tol = 1e-2 if dtype == "float16" else 1e-6
    np.testing.assert_allclose(yn, xn * mask * scale, rtol=tol)
    np.testing.assert_allclose(x.grad.cpu().numpy(), gn * mask * scale, rtol=tol)


def test_double_backward_and_gradcheck() -> None:
    x = pdl.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    pdl.manual_seed(3)
    y = PF.dropout(x, 0.4)
    v = pdl.ones(4, 5, dtype=pdl.float64, requires_grad=True)
    (g,) = pdl.autograd.grad(y, x, v, create_graph=True)
    assert g.requires_grad  # the gradient is linear in the cotangent: differentiate it again
    (g2,) = pdl.autograd.grad((g * x).sum(), v)
    np.testing.assert_allclose(g2.numpy(), y.detach().numpy())

    def fixed(t: pdl.Tensor) -> pdl.Tensor:  # the same mask at every evaluation
        pdl.manual_seed(7)
        return PF.dropout(t, 0.5) * t

    gradcheck(fixed, [rng.standard_normal((3, 4))], double=True)


def test_determinism(device: str) -> None:
    x = ones(50, device=device)
    pdl.manual_seed(123)
    a = PF.dropout(x, 0.5).cpu().numpy()
    b = PF.dropout(x, 0.5).cpu().numpy()
    pdl.manual_seed(123)
    c = PF.dropout(x, 0.5).cpu().numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_identities(device: str) -> None:
    x = pdl.tensor(rng.standard_normal((3, 4)).astype(np.float32), device=device, requires_grad=True)
    assert PF.dropout(x, 0.5, training=False) is x
    assert PF.dropout(x, 0.0) is x
    assert PF.dropout(x, 0.5, False) is x
    assert pdl.dropout(x, 0.5, False) is x
    assert pdl.dropout(x, p=0.5, train=False) is x
    assert PF.alpha_dropout(x, 0.5) is x  # training defaults to False for alpha dropout
    x4 = x.reshape(1, 3, 2, 2)
    assert PF.dropout2d(x4, 0.5, training=False) is x4
    empty = pdl.zeros(0, 3, device=device)
    assert PF.dropout(empty, 0.5) is empty
    # torch agrees
    t = torch.ones(3)
    assert TF.dropout(t, 0.0) is t and TF.dropout(t, 0.5, training=False) is t


def test_p_one(device: str) -> None:
    x = pdl.tensor(rng.standard_normal((3, 4)).astype(np.float32), device=device, requires_grad=True)
    for fn in (PF.dropout, lambda t, p: PF.alpha_dropout(t, p, True), PF.dropout2d):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = fn(x, 1.0)
        assert not y.detach().cpu().numpy().any()
        (g,) = pdl.autograd.grad(y.sum(), x)
        assert not g.cpu().numpy().any()


def test_invalid_p() -> None:
    x = ones(3)
    for fn in (PF.dropout, PF.alpha_dropout, PF.dropout1d, PF.dropout2d, PF.dropout3d, PF.feature_alpha_dropout):
        for p in (-0.1, 1.5):
            with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
                fn(x, p)
    with pytest.raises(ValueError):
        TF.dropout(torch.ones(3), 1.5)


def test_inplace(device: str) -> None:
    pdl.manual_seed(5)
    x = ones(10, 10, device=device)
    y = PF.dropout(x, 0.5, inplace=True)
    assert y is x
    assert x._version == 1
    values = np.unique(x.cpu().numpy())
    assert set(values.tolist()) <= {0.0, 2.0} and len(values) == 2
    leaf = pdl.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        PF.dropout(leaf, 0.5, inplace=True)
    z = pdl.ones(4, requires_grad=True) * 1
    pdl.dropout_(z, 0.5, True)
    z.sum().backward()


@pytest.mark.parametrize(
    "fn,shape,noise",
    [("dropout1d", (4, 6, 5), (4, 6, 1)), ("dropout1d", (6, 5), (6, 1)), ("dropout2d", (4, 6, 3, 3), (4, 6, 1, 1)),
     ("dropout3d", (2, 6, 2, 2, 2), (2, 6, 1, 1, 1)), ("dropout3d", (6, 2, 2, 2), (6, 1, 1, 1)),
     ("feature_alpha_dropout", (4, 6, 3), (4, 6, 1))],
)  # fmt: skip
def test_channelwise(fn: str, shape: tuple, noise: tuple, device: str) -> None:
    pdl.manual_seed(0)
    kw = {"training": True} if fn == "feature_alpha_dropout" else {}
    x = pdl.tensor(rng.random(shape).astype(np.float32) + 1, device=device, requires_grad=True)
    y = getattr(PF, fn)(x, 0.5, **kw)
    ratio = (y / x).detach().cpu().numpy()
    # within each channel the factor is the same everywhere
    reduce_axes = tuple(i for i, n in enumerate(noise) if n == 1)
    spread = ratio.max(axis=reduce_axes) - ratio.min(axis=reduce_axes)
    if fn == "feature_alpha_dropout":
        y2 = y.detach().cpu().numpy()
        assert y2.shape == shape
        return
    assert np.allclose(spread, 0)
    assert set(np.unique(np.round(ratio, 5)).tolist()) <= {0.0, 2.0}
    (g,) = pdl.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(g.cpu().numpy(), ratio, rtol=1e-6)


def test_channelwise_warnings_and_errors() -> None:
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        PF.dropout1d(ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        PF.dropout2d(ones(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        PF.dropout2d(ones(2, 3))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout3d"):
        PF.dropout3d(ones(2, 3))
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        pdl.feature_dropout(ones(3), 0.5, True)


def test_alpha_dropout_statistics(device: str) -> None:
    pdl.manual_seed(0)
    x = pdl.tensor(rng.standard_normal((400, 250)).astype(np.float32), device=device)
    y = PF.alpha_dropout(x, 0.2, training=True).cpu().numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02  # keeps zero mean, unit variance
    # dropped entries all take the same value: a * (-alpha') + b, torch's formula
    p = 0.2
    a = 1 / np.sqrt((ALPHA_SCALE**2 * p + 1) * (1 - p))
    dropped = -ALPHA_SCALE * a + ALPHA_SCALE * a * p
    xn = x.cpu().numpy()
    kept = np.isclose(y, xn * a + ALPHA_SCALE * a * p, atol=1e-5)
    assert abs(kept.mean() - 0.8) < 0.01
    np.testing.assert_allclose(y[~kept], dropped, rtol=1e-5)
    torch.manual_seed(0)
    ty = TF.alpha_dropout(torch.tensor(xn), 0.2, training=True).numpy()  # torch drops to the same value
    np.testing.assert_allclose(ty[~np.isclose(ty, xn * a + ALPHA_SCALE * a * p, atol=1e-5)], dropped, rtol=1e-5)
