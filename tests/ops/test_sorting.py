"""sort, argsort, topk, kthvalue, msort against PyTorch: values, int64 indices, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)
NAN = float("nan")


def distinct(*shape: int, dtype: type = np.float32) -> np.ndarray:
    """Distinct values (torch's default sort is not stable, so ties could legitimately differ)."""
    n = int(np.prod(shape)) if shape else 1
    return np.asarray((rng.permutation(n) - n / 2).reshape(shape) / 4, dtype=dtype)


def lib(t: object) -> object:
    return torch if isinstance(t, torch.Tensor) else pdl


SHAPES_DIMS = [((5,), 0), ((5,), -1), ((3, 4), 1), ((3, 4), 0), ((3, 4), -2), ((2, 3, 4), 1), ((), 0), ((), -1),
               ((0, 3), 1), ((0, 3), 0), ((2, 1), 1)]  # fmt: skip


@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
@pytest.mark.parametrize("descending", [False, True])
def test_sort(shape: tuple, dim: int, descending: bool, device: str) -> None:
    x = distinct(*shape)
    parity(lambda t: t.sort(dim, descending), [x], device=device, double=True)
    parity(lambda t: lib(t).sort(t, dim=dim, descending=descending), [x], device=device, double=True)
    parity(lambda t: t.sort(dim=dim, descending=descending, stable=True), [x], device=device, double=True)
    parity(lambda t: t.argsort(dim, descending), [x], device=device)
    parity(lambda t: lib(t).argsort(t, dim=dim, descending=descending, stable=True), [x], device=device)


def test_sort_default_and_values_only(device: str) -> None:
    x = distinct(3, 5)
    parity(lambda t: t.sort(), [x], device=device, double=True)
    parity(lambda t: t.sort()[0] * 3, [x], device=device, double=True)
    parity(lambda t: t.sort(0).values.sum(), [x], device=device, double=True)
    parity(lambda t: lib(t).msort(t), [x], device=device, double=True)


@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_with_ties(descending: bool, device: str) -> None:
    x = rng.integers(0, 3, (4, 9)).astype(np.float32)
    parity(lambda t: t.sort(dim=1, descending=descending, stable=True), [x], device=device, double=True)
    parity(lambda t: t.argsort(dim=0, descending=descending, stable=True), [x], device=device)
    xi = rng.integers(0, 3, (4, 9)).astype(np.int64)
    parity(lambda t: t.sort(dim=1, descending=descending, stable=True), [xi], device=device)
    xb = rng.integers(0, 2, (9,)).astype(np.bool_)
    parity(lambda t: t.sort(stable=True, descending=descending), [xb], device=device)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64, np.float64, np.float16])
def test_sort_dtypes(dtype: type, device: str) -> None:
    x = distinct(4, 6, dtype=np.float64)
    x = (x * 4).astype(dtype) if np.dtype(dtype).kind in "iu" else x.astype(dtype)
    if dtype is np.uint8:
        x = (distinct(4, 6, dtype=np.float64) * 4 + 20).astype(dtype)
    parity(lambda t: t.sort(1), [x], device=device)
    parity(lambda t: t.sort(0, True), [x], device=device)
    parity(lambda t: t.topk(2), [x], device=device)
    parity(lambda t: t.topk(3, 0, largest=False), [x], device=device)


def test_nan_order(device: str) -> None:
    x = np.array([[1.0, NAN, -2.0, 3.0, 0.5], [NAN, 2.0, 1.0, -1.0, 4.0]], np.float32)
    parity(lambda t: t.sort(1), [x], device=device, double=True)
    parity(lambda t: t.sort(1, descending=True), [x], device=device, double=True)
    parity(lambda t: t.topk(2), [x], device=device, double=True)
    parity(lambda t: t.topk(2, largest=False), [x], device=device, double=True)
    parity(lambda t: t.kthvalue(5), [x], device=device)
    parity(lambda t: t.kthvalue(2), [x], device=device)


@pytest.mark.parametrize("shape,dim,k", [((7,), 0, 3), ((3, 4), 1, 2), ((3, 4), 0, 3), ((3, 4), -1, 4),
                                         ((3, 4), 1, 0), ((2, 3, 20), 2, 3), ((2, 30), 1, 5), ((), 0, 1),
                                         ((0, 4), 1, 2)])  # fmt: skip
@pytest.mark.parametrize("largest", [True, False])
def test_topk(shape: tuple, dim: int, k: int, largest: bool, device: str) -> None:
    x = distinct(*shape)
    parity(lambda t: t.topk(k, dim, largest), [x], device=device, double=True)
    parity(lambda t: lib(t).topk(t, k, dim=dim, largest=largest, sorted=True), [x], device=device, double=True)


def test_topk_unsorted_same_elements() -> None:
    x = distinct(3, 10)
    ours = pdl.topk(pdl.tensor(x), 4, sorted=False)
    theirs = torch.topk(torch.tensor(x), 4, sorted=False)
    np.testing.assert_array_equal(np.sort(ours.values.numpy(), 1), np.sort(theirs.values.numpy(), 1))


@pytest.mark.parametrize("shape,dim,k", [((7,), 0, 3), ((3, 4), 1, 1), ((3, 4), 0, 3), ((3, 4), -1, 4),
                                         ((2, 3, 4), 1, 2), ((), 0, 1)])  # fmt: skip
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue(shape: tuple, dim: int, k: int, keepdim: bool, device: str) -> None:
    x = distinct(*shape)
    parity(lambda t: t.kthvalue(k, dim, keepdim), [x], device=device, double=True)
    parity(lambda t: lib(t).kthvalue(t, k, dim=dim, keepdim=keepdim), [x], device=device, double=True)


def test_gradcheck() -> None:
    x = distinct(3, 6, dtype=np.float64)
    gradcheck(lambda t: t.sort(1)[0] * t.sort(1, descending=True)[0], [x], double=True)
    gradcheck(lambda t: t.topk(3)[0] ** 2, [x], double=True)
    gradcheck(lambda t: t.topk(2, 0, largest=False)[0] ** 2, [x], double=True)
    gradcheck(lambda t: t.kthvalue(2, 1)[0] ** 2, [x], double=True)


def test_return_types_and_dtypes() -> None:
    x = pdl.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    out = x.sort()
    values, indices = out
    assert out.values is values and out.indices is indices
    assert indices.dtype == pdl.int64 and not indices.requires_grad and values.requires_grad
    assert indices.tolist() == [[1, 2, 0]]
    assert "return_types.sort(" in repr(out)
    assert type(x.topk(1)).__name__ == "topk"
    assert type(x.kthvalue(1)).__name__ == "kthvalue"
    assert x.argsort().dtype == pdl.int64


def test_errors() -> None:
    x = pdl.ones(2, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sort(2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.argsort(-3)
    with pytest.raises(RuntimeError, match="out of range"):
        x.topk(4)
    with pytest.raises(RuntimeError, match="out of range"):
        x.topk(-1)
    with pytest.raises(RuntimeError, match="out of range"):
        x.kthvalue(0)
    with pytest.raises(RuntimeError, match="out of range"):
        x.kthvalue(4, 1)
