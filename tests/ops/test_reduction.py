"""Reductions and scans against PyTorch: values, dtypes, shapes, gradients (first and second order)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)
NAN = float("nan")
INF = float("inf")


def randn(*shape: int, dtype: type = np.float32) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


# (shape, dim) pairs covering 0-d, negative dims, tuple dims, dim=None and empty tensors
DIM_CASES = [
    ((), None), ((), 0), ((), -1), ((5,), 0), ((2, 3), None), ((2, 3), 1), ((2, 3), -2),
    ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 0)), ((2, 3, 4), (0, 1, 2)), ((2, 3, 4), ()),
    ((0, 3), 1), ((0, 3), 0), ((0, 3), None), ((2, 0, 3), (0, 2)),
]  # fmt: skip
NONEMPTY_CASES = [(s, d) for s, d in DIM_CASES if 0 not in s]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", DIM_CASES)
@pytest.mark.parametrize("op", ["sum", "mean", "nansum"])
def test_sum_mean(op: str, shape: tuple, dim: object, keepdim: bool, device: str) -> None:
    kw = {"dim": dim, "keepdim": keepdim}
    parity(lambda x: getattr(x, op)(**kw), [randn(*shape)], device=device, double=True)
    parity(lambda x: getattr(torch if isinstance(x, torch.Tensor) else pdl, op)(x, **kw), [randn(*shape)],
           device=device, double=True)  # fmt: skip


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", [(s, d) for s, d in NONEMPTY_CASES if d != ()])
@pytest.mark.parametrize("op", ["amax", "amin", "logsumexp", "var", "std"])
def test_dim_reductions(op: str, shape: tuple, dim: object, keepdim: bool, device: str) -> None:
    if op == "logsumexp" and dim is None:
        dim = tuple(range(len(shape)))
    x = randn(*shape)
    if op in ("var", "std") and dim is not None:
        parity(lambda t: getattr(t, op)(dim, keepdim=keepdim), [x], device=device, double=True)
        return
    if dim is None:
        if keepdim:
            pytest.skip("torch needs an explicit dim for keepdim here")
        parity(lambda t: getattr(t, op)(), [x], device=device, double=True)
        return
    parity(lambda t: getattr(t, op)(dim, keepdim), [x], device=device, double=True)


def test_amax_empty_dims(device: str) -> None:
    parity(lambda t: t.amax(1), [randn(0, 3)], device=device)
    parity(lambda t: t.logsumexp(0), [randn(0, 3)], device=device)
    parity(lambda t: t.logsumexp(1), [randn(0, 3)], device=device)
    parity(lambda t: t.var(1), [randn(0, 3)], device=device)


@pytest.mark.parametrize("shape,dim", [((5,), 0), ((2, 3), 1), ((2, 3), -2), ((2, 3, 4), None), ((), None), ((), 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod(shape: tuple, dim: object, keepdim: bool, device: str) -> None:
    x = randn(*shape)
    if dim is None:
        parity(lambda t: t.prod(), [x], device=device, double=True)
    else:
        parity(lambda t: t.prod(dim, keepdim), [x], device=device, double=True)


@pytest.mark.parametrize("zeros", [[1], [1, 3], [0, 1, 4]])
def test_prod_with_zeros(zeros: list, device: str) -> None:
    x = randn(3, 5)
    x[:, zeros] = 0
    x[0, :] = rng.standard_normal(5)  # a row without zeros
    parity(lambda t: t.prod(1), [x], device=device, double=True)
    parity(lambda t: t.prod(0, keepdim=True), [x], device=device, double=True)
    y = randn(6)
    y[zeros] = 0
    parity(lambda t: t.prod(), [y], device=device, double=True)
    parity(lambda t: t.prod(), [y.reshape(2, 3)], device=device, double=False)


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64])
def test_integer_dtypes(dtype: type, device: str) -> None:
    x = (rng.random((3, 4)) * 5).astype(dtype)
    for fn in (lambda t: t.sum(), lambda t: t.sum(1), lambda t: t.prod(0), lambda t: t.prod(),
               lambda t: t.cumsum(0), lambda t: t.cumprod(1), lambda t: t.nansum(1), lambda t: t.amax(0),
               lambda t: t.max(), lambda t: t.max(1), lambda t: t.min(0), lambda t: t.amin(),
               lambda t: t.all(), lambda t: t.any(1),
               lambda t: t.count_nonzero(0), lambda t: t.logsumexp(1), lambda t: t.sum(dtype=pdl_or_torch(t).float64),
               lambda t: t.mean(dtype=pdl_or_torch(t).float32), lambda t: t.cumsum(1, dtype=pdl_or_torch(t).int32)):  # fmt: skip
        parity(fn, [x], device=device)
    if dtype is np.bool_:
        with pytest.raises(RuntimeError, match="does not support bool"):
            pdl.tensor(x).argmax()
    else:
        parity(lambda t: t.argmax(), [x], device=device)
        parity(lambda t: t.argmin(1), [x], device=device)


def pdl_or_torch(t: object) -> object:
    return torch if isinstance(t, torch.Tensor) else pdl


def test_dtype_argument(device: str) -> None:
    x = randn(3, 4)
    parity(lambda t: t.sum(dtype=pdl_or_torch(t).float64), [x], device=device, double=True)
    parity(lambda t: t.sum(1, dtype=pdl_or_torch(t).int32), [x * 3], device=device, grad=False)
    parity(lambda t: t.mean(0, dtype=pdl_or_torch(t).float64), [x], device=device, double=True)
    parity(lambda t: t.prod(1, dtype=pdl_or_torch(t).float64), [x], device=device, double=True)
    parity(lambda t: t.cumsum(0, dtype=pdl_or_torch(t).float64), [x], device=device, double=True)
    parity(lambda t: t.cumprod(1, dtype=pdl_or_torch(t).float64), [x], device=device, double=True)
    parity(lambda t: t.norm(dtype=pdl_or_torch(t).float64), [x], device=device, double=True)
    parity(lambda t: t.sum(), [randn(4, 5, dtype=np.float16)], device=device)
    parity(lambda t: t.mean(1), [randn(4, 5, dtype=np.float16)], device=device)
    parity(lambda t: t.var(1), [randn(4, 5, dtype=np.float16)], device=device)


def test_mean_of_integers_raises() -> None:
    x = pdl.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype.*Got: Long"):
        x.mean()
    with pytest.raises(RuntimeError, match="Optional dtype must be"):
        pdl.tensor([1.0]).mean(dtype=pdl.int64)
    with pytest.raises(RuntimeError, match="floating point"):
        x.var()
    with pytest.raises(RuntimeError, match="nanmean"):
        x.nanmean()
    with pytest.raises(RuntimeError, match="vector_norm"):
        x.norm()


def test_empty(device: str) -> None:
    e = np.zeros((0, 3), np.float32)
    for fn in (lambda t: t.sum(), lambda t: t.mean(), lambda t: t.prod(), lambda t: t.mean(0), lambda t: t.sum(0),
               lambda t: t.max(1), lambda t: t.argmax(1), lambda t: t.norm(), lambda t: t.cumsum(0),
               lambda t: t.all(), lambda t: t.any(), lambda t: t.count_nonzero()):  # fmt: skip
        parity(fn, [e], device=device)
    x = pdl.zeros(0, 3)
    for op in ("max", "min", "amax", "amin"):
        with pytest.raises(RuntimeError, match=rf"{op}\(\): Expected reduction dim to be specified"):
            getattr(x, op)()
        with pytest.raises(IndexError, match=rf"{op}\(\): Expected reduction dim 0 to have non-zero size"):
            getattr(x, op)(0)
    with pytest.raises(IndexError, match="argmax"):
        x.argmax()
    with pytest.raises(IndexError, match="argmin"):
        x.argmin(0)
    with pytest.raises(RuntimeError, match="aminmax"):
        pdl.aminmax(x)
    with pytest.raises(RuntimeError, match="inf norm"):
        x.norm(INF)


def test_nan_propagation(device: str) -> None:
    x = np.array([[1.0, NAN, 2.0], [3.0, 0.5, 1.0], [NAN, NAN, 0.0]], np.float32)
    for fn in (lambda t: t.max(), lambda t: t.min(), lambda t: t.amax(1), lambda t: t.amin(0), lambda t: t.max(1),
               lambda t: t.min(0), lambda t: t.sum(1), lambda t: t.nansum(1), lambda t: t.nanmean(1),
               lambda t: t.logsumexp(1), lambda t: t.norm(dim=1), lambda t: t.norm(INF, dim=1)):  # fmt: skip
        parity(fn, [x], device=device)
    parity(lambda t: t.argmax(1), [x], device=device)
    parity(lambda t: t.argmin(), [x], device=device)


def test_ties(device: str) -> None:
    x = np.array([[1.0, 3.0, 3.0], [3.0, 3.0, 1.0]], np.float32)
    for fn in (lambda t: t.max(), lambda t: t.min(), lambda t: t.amax(), lambda t: t.amax(1), lambda t: t.amin(0),
               lambda t: t.max(1), lambda t: t.min(0), lambda t: t.argmax(1), lambda t: t.argmax(),
               lambda t: t.norm(INF), lambda t: t.norm(-INF, 1)):  # fmt: skip
        parity(fn, [x], device=device, double=True)


@pytest.mark.parametrize("shape,dim", [((5,), 0), ((2, 3), 1), ((2, 3), -2), ((2, 3, 4), 1), ((), 0), ((), -1)])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim(op: str, shape: tuple, dim: int, keepdim: bool, device: str) -> None:
    x = randn(*shape)
    parity(lambda t: getattr(t, op)(dim, keepdim), [x], device=device, double=True)
    parity(lambda t: getattr(t, op)(dim=dim, keepdim=keepdim)[0] * 2, [x], device=device, double=True)
    parity(lambda t: getattr(t, op)(), [x], device=device, double=True)
    parity(lambda t: getattr(t, "arg" + op)(dim, keepdim), [x], device=device)
    parity(lambda t: getattr(t, "arg" + op)(), [x], device=device)
    parity(lambda t: getattr(t, "arg" + op)(keepdim=True), [x], device=device)


def test_return_types() -> None:
    x = pdl.tensor([[1.0, 5.0], [7.0, 2.0]])
    out = pdl.max(x, 1)
    values, indices = out
    assert out.values is values and out.indices is indices and out[0] is values
    assert indices.tolist() == [1, 0] and values.tolist() == [5.0, 7.0]
    assert "return_types.max(" in repr(out)
    assert type(pdl.min(x, 0)).__name__ == "min"
    mm = pdl.aminmax(x, dim=0)
    assert mm.min.tolist() == [1.0, 2.0] and mm.max.tolist() == [7.0, 5.0]
    assert isinstance(out, tuple)


def test_aminmax(device: str) -> None:
    x = randn(3, 4)
    parity(lambda t: torch.aminmax(t) if isinstance(t, torch.Tensor) else pdl.aminmax(t), [x], device=device)
    parity(lambda t: t.aminmax(dim=1, keepdim=True), [x], device=device)
    ties = np.array([[1.0, 3.0, 3.0], [3.0, 1.0, 1.0]], np.float32)
    parity(lambda t: t.aminmax(), [ties], device=device)


def test_binary_max_min(device: str) -> None:
    if not hasattr(pdl, "maximum"):
        pytest.skip("maximum/minimum (ops.selection) not available yet")
    a, b = randn(2, 3), randn(3)
    parity(lambda x, y: torch.max(x, y) if isinstance(x, torch.Tensor) else pdl.max(x, y), [a, b], device=device)
    parity(lambda x, y: x.min(y), [a, b], device=device)


@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": (0, 2), "keepdim": True}, {"dim": 0, "unbiased": False},
                                    {"dim": 1, "correction": 0}, {"dim": 2, "correction": 2}, {"correction": 0.5},
                                    {"dim": -1, "keepdim": True, "correction": 3}])  # fmt: skip
@pytest.mark.parametrize("op", ["var", "std", "var_mean", "std_mean"])
def test_var_std(op: str, kwargs: dict, device: str) -> None:
    x = randn(2, 3, 3)

    def fn(t: object) -> object:
        return getattr(pdl_or_torch(t), op)(t, **kwargs)

    parity(fn, [x], device=device, double=True)


def test_var_positional_and_degenerate(device: str) -> None:
    x = randn(3, 4)
    parity(lambda t: t.var(0, True), [x], device=device, double=True)
    parity(lambda t: t.var(1, False, True), [x], device=device, double=True)
    parity(lambda t: t.std(True), [x], device=device, double=True)
    parity(lambda t: t.var(False), [x], device=device, double=True)
    with pytest.warns(UserWarning):
        parity(lambda t: t.var(), [randn(1)], device=device, grad=False)
    parity(lambda t: t.std(1, correction=0), [np.ones((2, 3), np.float32)], device=device, double=True)
    with pytest.raises(RuntimeError, match="both"):
        pdl.var(pdl.ones(3), unbiased=True, correction=1)


@pytest.mark.parametrize("shape,dim", [((5,), 0), ((2, 3), 1), ((2, 3), -2), ((2, 3, 4), 1), ((), 0), ((0, 3), 1)])
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_scans(op: str, shape: tuple, dim: int, device: str) -> None:
    x = randn(*shape)
    parity(lambda t: getattr(t, op)(dim), [x], device=device, double=True)
    parity(lambda t: getattr(pdl_or_torch(t), op)(t, dim=dim), [x], device=device, double=True)


@pytest.mark.parametrize("zeros", [[(0, 1)], [(0, 1), (0, 3)], [(0, 0), (1, 4)], [(1, 2), (1, 3), (0, 4)]])
def test_cumprod_with_zeros(zeros: list, device: str) -> None:
    x = randn(2, 5)
    for i, j in zeros:
        x[i, j] = 0
    parity(lambda t: t.cumprod(1), [x], device=device, double=True)
    parity(lambda t: t.cumprod(0), [x], device=device, double=True)
    parity(lambda t: t.cumprod(-1), [x.T.copy()[None]], device=device, double=True)


def test_inplace_scans(device: str) -> None:
    x = randn(3, 4)
    parity(lambda t: (t * 1).cumsum_(1), [x], device=device, double=True)
    parity(lambda t: (t * 1).cumprod_(0), [x], device=device, double=True)
    xi = (rng.random((3, 4)) * 4).astype(np.int32)
    parity(lambda t: t.clone().cumsum_(1), [xi], device=device)


@pytest.mark.parametrize("p", [2, "fro", 1, 3, 1.5, 0.5, INF, -INF, 0, -1])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_norm(p: object, dim: object, keepdim: bool, device: str) -> None:
    x = randn(2, 3, 4)
    parity(lambda t: t.norm(p, dim, keepdim), [x], device=device, double=True)


@pytest.mark.parametrize("p", [2, 1, 3, 1.5, 0.5, INF, 0])
def test_norm_at_zero(p: object, device: str) -> None:
    x = randn(3, 4)
    x[1] = 0
    x[2, 1] = 0
    # (torch's second derivative of the 2-norm is NaN on an all-zero slice; ours is 0, so only first order there)
    parity(lambda t: t.norm(p, 1), [x], device=device, double=p in (1, INF, 0, 3))


def test_norm_function_forms(device: str) -> None:
    x = randn(3, 4)
    parity(lambda t: pdl_or_torch(t).norm(t), [x], device=device, double=True)
    parity(lambda t: pdl_or_torch(t).norm(t, p=2, dim=1, keepdim=True), [x], device=device, double=True)
    parity(lambda t: t.norm(p="fro", dim=(0, 1)), [x], device=device, double=True)
    parity(lambda t: t.norm(), [randn()], device=device, double=True)


@pytest.mark.parametrize("dtype", [np.float32, np.bool_, np.uint8, np.int64])
@pytest.mark.parametrize("op", ["all", "any"])
def test_all_any(op: str, dtype: type, device: str) -> None:
    x = (rng.random((3, 4)) > 0.3).astype(dtype)
    x[0] = 1
    for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"dim": (0, 1)}, {"dim": -1}):
        parity(lambda t, kw=kw: getattr(t, op)(**kw), [x], device=device)
    parity(lambda t: getattr(t, op)(), [np.zeros((0, 2), dtype)], device=device)


def test_count_nonzero(device: str) -> None:
    x = (rng.random((3, 4, 2)) > 0.5).astype(np.float32)
    for kw in ({}, {"dim": 1}, {"dim": (0, 2)}, {"dim": -1}):
        parity(lambda t, kw=kw: t.count_nonzero(**kw), [x], device=device)


def test_nanmean(device: str) -> None:
    x = randn(3, 4)
    x[0, 1] = NAN
    x[2, :] = NAN
    parity(lambda t: t.nanmean(), [x], device=device, double=True)
    parity(lambda t: t.nanmean(1), [x[:2]], device=device, double=True)
    parity(lambda t: t.nansum(0, keepdim=True), [x], device=device, double=True)


def test_logsumexp_stability(device: str) -> None:
    x = np.array([[1000.0, 1000.0, -1000.0], [-INF, -INF, -INF], [INF, 1.0, 2.0]], np.float32)
    parity(lambda t: t.logsumexp(1), [x], device=device, grad=False)
    parity(lambda t: t.logsumexp(1), [x[:1]], device=device, double=True)


@pytest.mark.parametrize("op,fn", [
    ("sum", lambda t: t.sum((0, 2))), ("mean", lambda t: t.mean(1, keepdim=True)), ("prod", lambda t: t.prod(1)),
    ("var", lambda t: t.var(1)), ("std", lambda t: t.std((0, 2))), ("amax", lambda t: t.amax(1)),
    ("max", lambda t: t.max(2)[0]), ("min_all", lambda t: t.min()), ("logsumexp", lambda t: t.logsumexp(1)),
    ("cumsum", lambda t: t.cumsum(1)), ("cumprod", lambda t: t.cumprod(2)), ("norm", lambda t: t.norm(dim=1)),
    ("norm3", lambda t: t.norm(3, 2)), ("norm1.5", lambda t: t.norm(1.5)), ("norminf", lambda t: t.norm(INF, 1)),
    ("nansum", lambda t: t.nansum(0)),
])  # fmt: skip
def test_gradcheck(op: str, fn: object) -> None:
    gradcheck(fn, [rng.standard_normal((2, 3, 3)) + 0.5], double=op not in ("amax", "max", "min_all", "norminf"))


def test_gradcheck_zeros() -> None:
    x = rng.standard_normal((2, 5))
    x[0, 1] = 0
    x[1, 2] = x[1, 4] = 0
    gradcheck(lambda t: t.cumprod(1), [x], double=True)
    gradcheck(lambda t: t.prod(1), [x], double=True)
    y = rng.standard_normal(5)
    y[2] = 0
    gradcheck(lambda t: t.prod(), [y], double=True)


def test_errors() -> None:
    x = pdl.ones(2, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sum(2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.max(-3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.cumsum(5)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        x.sum((0, -2))
    with pytest.raises(TypeError, match="prod"):
        x.prod((0, 1))
    with pytest.raises(TypeError, match="argmax"):
        x.argmax((0,))
    with pytest.raises(TypeError, match="max"):
        x.max((0, 1))
    with pytest.raises(TypeError):
        pdl.cumsum(x)
    with pytest.raises(NotImplementedError, match="nuc"):
        x.norm("nuc")


def test_no_grad_outputs() -> None:
    x = pdl.randn(3, 4, requires_grad=True)
    v, i = x.max(1)
    assert v.requires_grad and not i.requires_grad and i.dtype == pdl.int64
    assert not x.argmax().requires_grad and not x.all().requires_grad
    with pdl.no_grad():
        assert not x.sum().requires_grad


@pytest.mark.parametrize("fn", [
    lambda t: t.sum(), lambda t: t.sum((0, 2), keepdim=True), lambda t: t.mean(1), lambda t: t.amax(-1),
    lambda t: t.max(), lambda t: t.max(1)[0], lambda t: t.min(0, keepdim=True)[0], lambda t: t.var(1),
    lambda t: t.std((0, 1)), lambda t: t.std(2, keepdim=True), lambda t: t.logsumexp(2), lambda t: t.cumsum(1),
    lambda t: t.prod(1), lambda t: t.cumprod(0), lambda t: t.norm(dim=1), lambda t: t.nansum(2),
])  # fmt: skip
def test_fast_backward_path(fn: object, device: str) -> None:
    """Without create_graph the engine uses ``backward_arrays``: it must agree with torch too."""
    x = randn(2, 3, 4)
    parity(fn, [x], device=device, double=False)
    ones = np.ones((2, 3, 4), np.float32)  # ties everywhere
    parity(fn, [ones], device=device, double=False)
