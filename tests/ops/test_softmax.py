"""softmax / log_softmax / softmin against PyTorch: values, dtypes, gradients (first and second order)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import portable_dl as pdl
import portable_dl.nn.functional as PF
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)
INF = float("inf")


def randn(*shape: int, dtype: type = np.float32) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def F(x: object) -> object:
    return TF if isinstance(x, torch.Tensor) else PF


def lib(x: object) -> object:
    return torch if isinstance(x, torch.Tensor) else pdl


OPS = ["softmax", "log_softmax", "softmin"]
CASES = [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), 1), ((), 0), ((), -1),
         ((0, 3), 1), ((0, 3), 0), ((3, 0), 1)]  # fmt: skip


@pytest.mark.parametrize("shape,dim", CASES)
@pytest.mark.parametrize("op", OPS)
def test_parity(op: str, shape: tuple, dim: int, device: str) -> None:
    parity(lambda x: getattr(F(x), op)(x, dim), [randn(*shape)], device=device, double=True)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_top_level_and_methods(op: str, device: str) -> None:
    x = randn(2, 3, 4)
    parity(lambda t: getattr(lib(t), op)(t, 1), [x], device=device, double=True)
    parity(lambda t: getattr(t, op)(-1), [x], device=device, double=True)
    parity(lambda t: getattr(t, op)(dim=0), [x], device=device)
    parity(lambda t: getattr(t, op)(0, dtype=lib(t).float64), [x], device=device, double=True)
    parity(lambda t: getattr(lib(t), op)(t, 0, lib(t).float64), [x], device=device)


@pytest.mark.parametrize("op", OPS)
def test_float64_gradcheck(op: str) -> None:
    gradcheck(lambda x: getattr(PF, op)(x, 1), [rng.standard_normal((3, 4))], double=True)
    gradcheck(lambda x: getattr(PF, op)(x, 0), [rng.standard_normal((3, 2, 2))], double=True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy notes the inf - inf of all -inf / +inf rows
@pytest.mark.parametrize("op", OPS)
def test_extreme_logits(op: str, device: str) -> None:
    big = (randn(3, 5) * 1e4).astype(np.float32)
    parity(lambda x: getattr(F(x), op)(x, 1), [big], device=device, double=True, atol=1e-4)
    with_inf = randn(3, 5)
    with_inf[0, 1] = -INF
    with_inf[1, :4] = -INF
    parity(lambda x: getattr(F(x), op)(x, 1), [with_inf], device=device, double=True)
    special = np.array([[-INF, -INF, -INF], [INF, 1.0, 2.0], [np.nan, 0.0, 1.0], [1e38, -1e38, 0.0]], np.float32)
    parity(lambda x: getattr(F(x), op)(x, 1), [special], device=device, grad=False)


@pytest.mark.parametrize("op", OPS)
def test_dtypes(op: str, device: str) -> None:
    parity(lambda x: getattr(F(x), op)(x, 1), [randn(3, 4, dtype=np.float64)], device=device, double=True)
    parity(lambda x: getattr(F(x), op)(x, 1), [randn(3, 4, dtype=np.float16)], device=device, grad=False)
    ints = rng.integers(-3, 3, (3, 4))
    parity(lambda x: getattr(F(x), op)(x, 1, dtype=lib(x).float32), [ints], device=device)
    parity(lambda x: getattr(F(x), op)(x, 1, dtype=lib(x).float64), [randn(3, 4)], device=device, double=True)


def test_sum_to_one_and_stability() -> None:
    x = pdl.tensor(randn(4, 7) * 100)
    np.testing.assert_allclose(PF.softmax(x, 1).sum(1).numpy(), np.ones(4), rtol=1e-6)
    y = PF.log_softmax(x, 1).numpy()
    assert np.isfinite(y).all()


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape,expected", [((3,), 0), ((2, 3), 1), ((2, 3, 4), 0), ((2, 3, 4, 5), 1), ((), 0)])
def test_implicit_dim(op: str, shape: tuple, expected: int) -> None:
    x = randn(*shape)
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {op}"):
        ours = getattr(PF, op)(pdl.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(TF, op)(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.numpy(), getattr(PF, op)(pdl.tensor(x), expected).numpy())


def test_errors() -> None:
    x = pdl.tensor(randn(2, 3))
    with pytest.raises(IndexError, match="Dimension out of range"):
        PF.softmax(x, 2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.log_softmax(-3)
    with pytest.raises(NotImplementedError, match="softmax"):
        PF.softmax(pdl.tensor([1, 2, 3]), 0)
    with pytest.raises(RuntimeError, match="log_softmax"):  # NotImplementedError is a RuntimeError
        pdl.log_softmax(pdl.tensor([1, 2, 3]), 0)
    with pytest.raises(TypeError):
        x.softmax()
    with pytest.raises(TypeError, match="must be Tensor"):
        PF.softmax([1.0, 2.0], 0)


def test_backward_graph_and_grad_of_grad() -> None:
    x = pdl.tensor(randn(3, 4), requires_grad=True)
    y = PF.softmax(x, 1)
    assert y.grad_fn is not None and y.requires_grad
    (g,) = pdl.autograd.grad((y * pdl.tensor(randn(3, 4))).sum(), x, create_graph=True)
    assert g.requires_grad
    (g2,) = pdl.autograd.grad((g * g).sum(), x)
    assert g2.shape == x.shape
