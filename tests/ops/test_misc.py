"""Misc ops against PyTorch: closeness, addcmul/addcdiv, trace/diff/kron/cdist, grids, unique/bincount/search."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)


def M(t: object) -> object:  # the module matching a tensor
    return torch if isinstance(t, torch.Tensor) else pdl


def f32(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


# ----- closeness -----


def test_isclose_allclose_equal(device: str) -> None:
    a = np.array([1.0, np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-9, 2.0, np.inf], dtype=np.float32)
    b = np.array([1.0 + 1e-6, np.nan, np.inf, np.inf, -0.0, 0.0, 0.0, 2.1, np.nan], dtype=np.float32)
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.1, "atol": 0.0}):
        parity(lambda x, y, kw=kw: torch.isclose(x, y, **kw) if isinstance(x, torch.Tensor) else pdl.isclose(x, y, **kw),
               [a, b], grad=False, device=device)  # fmt: skip
        parity(lambda x, y, kw=kw: x.isclose(y, **kw), [a, b], grad=False, device=device)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        pa, pb = pdl.tensor(a, device=device), pdl.tensor(b, device=device)
        assert pdl.allclose(pa, pb, **kw) is torch.allclose(ta, tb, **kw)
        assert pdl.allclose(pa[:2], pb[:2], **kw) is torch.allclose(ta[:2], tb[:2], **kw)
    ints = np.array([1, 2, 3]), np.array([1, 3, 3])
    parity(lambda x, y: x.isclose(y), list(ints), grad=False, device=device)
    parity(lambda x, y: x.isclose(y), [np.array([True, False]), np.array([True, True])], grad=False, device=device)
    parity(lambda x, y: x.isclose(y), [f32(2, 3), f32(3)], grad=False, device=device)
    parity(lambda x, y: x.isclose(y), [f32(0, 3), f32(3)], grad=False, device=device)
    x = pdl.tensor([1.0, 2.0], device=device)
    assert pdl.equal(x, x.clone()) is True and x.equal(x + 1) is False
    assert pdl.equal(x, x[:1]) is False
    assert pdl.equal(pdl.tensor([float("nan")]), pdl.tensor([float("nan")])) is False
    with pytest.raises(RuntimeError):
        pdl.isclose(x, pdl.tensor([1, 2], device=device))
    with pytest.raises(RuntimeError):
        pdl.isclose(x, x, rtol=-1.0)


# ----- addcmul / addcdiv -----


@pytest.mark.parametrize(
    "shapes", [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((), (), ()), ((0, 3), (3,), (3,))]
)
@pytest.mark.parametrize("value", [1, 0.5])
def test_addcmul_addcdiv(shapes: tuple, value: float, device: str) -> None:
    a, b, c = (f32(*s) for s in shapes)
    c = np.asarray(c + np.float32(3.0) * np.sign(c) + np.float32(0.1), dtype=np.float32)
    parity(lambda x, y, z: torch.addcmul(x, y, z, value=value) if isinstance(x, torch.Tensor)
           else pdl.addcmul(x, y, z, value=value), [a, b, c], double=True, device=device)  # fmt: skip
    parity(lambda x, y, z: x.addcdiv(y, z, value=value), [a, b, c], double=True, device=device)


def test_addc_inplace(device: str) -> None:
    a, b, c = f32(2, 3), f32(2, 3), f32(3) + 3

    def fn(x: object, y: object, z: object) -> object:
        w = x * 1
        w.addcmul_(y, z, value=2.0)
        w.addcdiv_(y, z)
        return w

    parity(fn, [a, b, c], double=True, device=device)
    ints = [np.array([1, 2]), np.array([3, 4]), np.array([5, 6])]
    for v in (2, 0.5, 1.7):
        parity(lambda x, y, z, v=v: M(x).addcmul(x, y, z, value=v), ints, grad=False, device=device)
    with pytest.raises(RuntimeError, match="Integer division"):
        pdl.addcdiv(pdl.tensor([1]), pdl.tensor([1]), pdl.tensor([2]))


def test_addc_gradcheck() -> None:
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((3,)), rng.standard_normal((2, 1)) + 4
    gradcheck(lambda x, y, z: pdl.addcmul(x, y, z, value=0.3), [a, b, c], double=True)
    gradcheck(lambda x, y, z: pdl.addcdiv(x, y, z, value=-2), [a, b, c], double=True)


# ----- trace / diff / kron / cdist -----


def test_trace(device: str) -> None:
    for shape in [(3, 3), (2, 4), (4, 2), (0, 3)]:
        parity(lambda x: x.trace(), [f32(*shape)], double=True, device=device)
    parity(lambda x: M(x).trace(x), [np.arange(6).reshape(2, 3).astype(np.int32)], lambda x: M(x).trace(x),
           grad=False, device=device)  # fmt: skip
    gradcheck(lambda x: pdl.trace(x), [rng.standard_normal((3, 3))], double=True)
    with pytest.raises(RuntimeError, match="matrix"):
        pdl.trace(pdl.ones(3))


@pytest.mark.parametrize("n,dim", [(1, -1), (2, 0), (3, 1), (5, 1)])
def test_diff(n: int, dim: int, device: str) -> None:
    a = f32(3, 4)
    parity(lambda x: x.diff(n=n, dim=dim), [a], double=True, device=device)
    p, q = f32(3, 4), f32(3, 4)
    parity(lambda x, y, z: M(x).diff(x, n, dim, prepend=y, append=z), [a, p, q], double=True, device=device)
    parity(lambda x: x.diff(n=n), [np.array([1, 5, 2, 8], dtype=np.int32)], grad=False, device=device)
    parity(lambda x: x.diff(), [np.array([True, False, False, True])], grad=False, device=device)
    parity(lambda x: x.diff(n=n), [f32(0)], device=device)


def test_diff_errors_and_gradcheck() -> None:
    gradcheck(lambda x: pdl.diff(x, 2, 0), [rng.standard_normal((4, 2))], double=True)
    with pytest.raises(RuntimeError, match="one-dimensional"):
        pdl.diff(pdl.tensor(1.0))
    with pytest.raises(RuntimeError, match="non-negative"):
        pdl.diff(pdl.ones(3), n=-1)


@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 2)), ((3,), (2,)), ((2, 1, 2), (3, 2)), ((), (2,)), ((0, 2), (2, 2))])
def test_kron(sa: tuple, sb: tuple, device: str) -> None:
    parity(lambda x, y: M(x).kron(x, y), [f32(*sa), f32(*sb)], double=True, device=device)
    parity(lambda x, y: x.kron(y), [np.arange(4).reshape(2, 2), np.arange(3)], grad=False, device=device)
    gradcheck(lambda x, y: pdl.kron(x, y), [rng.standard_normal(sa), rng.standard_normal(sb)], double=True)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf")])
@pytest.mark.parametrize("sa,sb", [((3, 4), (2, 4)), ((2, 3, 4), (2, 5, 4)), ((0, 4), (2, 4))])
def test_cdist(p: float, sa: tuple, sb: tuple, device: str) -> None:
    parity(lambda x, y: M(x).cdist(x, y, p=p), [f32(*sa), f32(*sb)], device=device)  # torch: no double backward
    if p >= 1:
        gradcheck(lambda x, y: pdl.cdist(x, y, p=p), [rng.standard_normal(sa), rng.standard_normal(sb)], double=True)


def test_cdist_zero_distance_and_errors(device: str) -> None:
    a = f32(3, 2)
    parity(lambda x, y: M(x).cdist(x, y), [a, a[:2].copy()], double=False, device=device)
    gradcheck(lambda x, y: pdl.cdist(x, y), [rng.standard_normal((3, 2)), rng.standard_normal((2, 2))], double=True)
    with pytest.raises(RuntimeError, match="2D"):
        pdl.cdist(pdl.ones(3), pdl.ones(2, 3))
    with pytest.raises(RuntimeError, match="columns"):
        pdl.cdist(pdl.ones(2, 3), pdl.ones(2, 4))
    with pytest.raises(RuntimeError, match="floating"):
        pdl.cdist(pdl.ones(2, 3, dtype=pdl.int64), pdl.ones(2, 3, dtype=pdl.int64))
    with pytest.raises(RuntimeError, match="non-negative"):
        pdl.cdist(pdl.ones(2, 3), pdl.ones(2, 3), p=-1)


# ----- grids -----


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing: str, device: str) -> None:
    parity(lambda x, y, z: M(x).meshgrid(x, y, z, indexing=indexing), [f32(2), f32(3), f32(4)], double=True,
           device=device)  # fmt: skip
    parity(lambda x, y: M(x).meshgrid([x, y], indexing=indexing), [f32(2), f32()], device=device)
    parity(lambda x: M(x).meshgrid(x, indexing=indexing), [f32(3)], device=device)
    with pytest.raises(RuntimeError):
        pdl.meshgrid(pdl.ones(2, 2), indexing=indexing)
    with pytest.raises(RuntimeError):
        pdl.meshgrid(pdl.ones(2), pdl.ones(2, dtype=pdl.float64), indexing=indexing)


def test_cartesian_prod(device: str) -> None:
    parity(lambda x, y: M(x).cartesian_prod(x, y), [f32(2), f32(3)], double=True, device=device)
    parity(lambda x, y, z: M(x).cartesian_prod(x, y, z), [np.arange(2), np.arange(3), np.arange(2)], grad=False,
           device=device)  # fmt: skip
    parity(lambda x: M(x).cartesian_prod(x), [f32(3)], device=device)
    with pytest.raises(RuntimeError):
        pdl.cartesian_prod(pdl.ones(2, 2))


@pytest.mark.parametrize("row,col,offset", [(3, 3, 0), (4, 3, 1), (3, 5, -2), (0, 3, 0), (3, 4, 10), (3, 4, -10)])
def test_tri_indices(row: int, col: int, offset: int) -> None:
    for name in ("tril_indices", "triu_indices"):
        ours = getattr(pdl, name)(row, col, offset)
        theirs = getattr(torch, name)(row, col, offset)
        assert ours.dtype == pdl.int64 and tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert pdl.tril_indices(3, 3, dtype=pdl.int32).dtype == pdl.int32


# ----- unique / bincount / searchsorted / bucketize / histc -----


@pytest.mark.parametrize("data", [np.array([[3, 1, 2], [1, 3, 5]]), np.array([], dtype=np.int64),
                                  np.array([1.0, np.nan, -0.0, 0.0, np.inf, 1.0], dtype=np.float32),
                                  np.array(4), np.array([True, False, True])])  # fmt: skip
def test_unique(data: np.ndarray, device: str) -> None:
    for inv in (False, True):
        for cnt in (False, True):
            parity(lambda x, inv=inv, cnt=cnt: M(x).unique(x, return_inverse=inv, return_counts=cnt), [data],
                   grad=False, device=device)  # fmt: skip
            parity(lambda x, inv=inv, cnt=cnt: x.unique(return_inverse=inv, return_counts=cnt), [data], grad=False,
                   device=device)  # fmt: skip


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_dim(dim: int, device: str) -> None:
    data = np.array([[[1, 2], [1, 2], [0, 5]], [[1, 2], [1, 2], [0, 5]], [[3, 0], [1, 2], [0, 5]]])
    for arr in (data, data.astype(np.float32), np.zeros((2, 0, 3)) if dim == 1 else data.astype(bool)):
        for inv in (False, True):
            for cnt in (False, True):
                parity(lambda x, inv=inv, cnt=cnt: M(x).unique(x, return_inverse=inv, return_counts=cnt, dim=dim),
                       [arr], grad=False, device=device)  # fmt: skip
    with pytest.raises(RuntimeError, match="0 sized"):
        pdl.unique(pdl.zeros(2, 0, 3), dim=0)
    with pytest.raises(RuntimeError, match="more than one"):
        pdl.unique(pdl.zeros(0, 0, 3), dim=0)


def test_bincount(device: str) -> None:
    x = np.array([0, 3, 1, 3, 3, 7])
    parity(lambda t: M(t).bincount(t), [x], grad=False, device=device)
    parity(lambda t: t.bincount(minlength=10), [x], grad=False, device=device)
    parity(lambda t: t.bincount(minlength=3), [np.array([], dtype=np.int64)], grad=False, device=device)
    for w in (f32(6), rng.standard_normal(6), np.arange(6)):
        parity(lambda t, u: M(t).bincount(t, u), [x, w], grad=False, device=device)
    for bad in (pdl.tensor([-1, 2]), pdl.tensor([[1]]), pdl.tensor([1.0])):
        with pytest.raises(RuntimeError, match="bincount"):
            pdl.bincount(bad)


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted(right: bool, device: str) -> None:
    seq = np.array([1.0, 2.0, 2.0, 3.0, np.inf], dtype=np.float32)
    vals = np.array([[0.0, 2.0, 2.5], [3.0, np.inf, np.nan]], dtype=np.float32)
    kw = {"right": right}
    parity(lambda s, v: M(s).searchsorted(s, v, **kw), [seq, vals], grad=False, device=device)
    parity(lambda s, v: M(s).searchsorted(s, v, out_int32=True, side="right" if right else "left"), [seq, vals],
           grad=False, device=device)  # fmt: skip
    parity(lambda s: M(s).searchsorted(s, 2.0, **kw), [seq], grad=False, device=device)
    seq2 = np.sort(f32(2, 3, 5), -1)
    parity(lambda s, v: M(s).searchsorted(s, v, **kw), [seq2, f32(2, 3, 4)], grad=False, device=device)
    unsorted = f32(6)
    order = np.argsort(unsorted)
    parity(lambda s, v, o: M(s).searchsorted(s, v, sorter=o, **kw), [unsorted, f32(4), order], grad=False,
           device=device)  # fmt: skip
    parity(lambda v, b: M(v).bucketize(v, b, **kw), [vals, seq], grad=False, device=device)
    parity(lambda v, b: M(v).bucketize(v, b, out_int32=True, **kw), [np.arange(5), np.array([1, 3])], grad=False,
           device=device)  # fmt: skip
    parity(lambda b: M(b).bucketize(2, b, **kw), [np.array([1, 3])], grad=False, device=device)
    parity(lambda b: M(b).bucketize(2.5, b, **kw), [np.array([1, 2, 3])], grad=False, device=device)
    parity(lambda s: M(s).searchsorted(s, 3, **kw), [np.array([1, 2, 3])], grad=False, device=device)
    parity(lambda s, v: M(s).searchsorted(s, v, **kw), [seq, np.zeros(0, np.float32)], grad=False, device=device)


def test_searchsorted_errors() -> None:
    with pytest.raises(RuntimeError, match="opposites"):
        pdl.searchsorted(pdl.ones(3), pdl.ones(2), right=True, side="left")
    with pytest.raises(RuntimeError, match="first N-1 dimensions"):
        pdl.searchsorted(pdl.ones(2, 3), pdl.ones(3, 1))
    with pytest.raises(RuntimeError, match="1 dimension"):
        pdl.bucketize(pdl.ones(2), pdl.ones(2, 3))


def test_histc(device: str) -> None:
    x = f32(50)
    parity(lambda t: M(t).histc(t), [x], grad=False, device=device)
    parity(lambda t: t.histc(bins=7, min=-1, max=1), [x], grad=False, device=device)
    parity(lambda t: t.histc(bins=4, min=0, max=3), [np.array([0.0, 1.0, 2.0, 3.0, 3.0, -1, 5])], grad=False,
           device=device)  # fmt: skip
    parity(lambda t: t.histc(bins=3), [np.full(4, 2.0, np.float32)], grad=False, device=device)
    parity(lambda t: t.histc(bins=3), [np.zeros(0, np.float32)], grad=False, device=device)
    with pytest.raises(RuntimeError, match="bins"):
        pdl.histc(pdl.ones(3), bins=0)
    with pytest.raises(RuntimeError, match="max must be larger"):
        pdl.histc(pdl.ones(3), min=2, max=1)
    with pytest.raises(RuntimeError, match="not implemented"):
        pdl.histc(pdl.tensor([1, 2]))
