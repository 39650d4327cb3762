"""Indexing against PyTorch: x[...] (read/write), gather/scatter, index_select/index_add, masks, nonzero."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import portable_dl as pdl
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)


def _f32(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def _lib(x: object) -> object:
    return torch if isinstance(x, torch.Tensor) else pdl


# ----- __getitem__ ---------------------------------------------------------------------------------
BASIC = [
    lambda x: x[1],
    lambda x: x[-1, 2],
    lambda x: x[:, 1:3],
    lambda x: x[..., ::2],
    lambda x: x[None, 0, ..., None],
    lambda x: x[:, -2:, 1],
    lambda x: x[1:1],
    lambda x: x[...],
    lambda x: x[5:10],
]


@pytest.mark.parametrize("k", range(len(BASIC)))
def test_getitem_basic(k: int, device: str) -> None:
    parity(BASIC[k], [_f32(2, 3, 4)], device=device, double=True)


def test_getitem_basic_is_view() -> None:
    x = pdl.zeros(2, 3)
    y = x[0, 1:]
    y += 1
    assert x[0].tolist() == [0.0, 1.0, 1.0]
    assert x._version == y._version == 1


ADVANCED = [
    lambda x, i: x[i],
    lambda x, i: x[:, i],
    lambda x, i: x[..., i],
    lambda x, i: x[i, :, i],  # separated advanced indices: broadcast dims go first
    lambda x, i: x[i % 2, i % 3],
    lambda x, i: x[None, :, i, 1:],
    lambda x, i: x[[0, 1, 1]],
    lambda x, i: x[[[0, 1], [1, 0]]],  # torch: a list of lists is a tuple of indices
    lambda x, i: x[1, [2, 0, 2]],
    lambda x, i: x[i.reshape(2, 2)],
    lambda x, i: x[True, [0, 0]],
    lambda x, i: x[:, i[0]],  # 0-d int tensor indexes like an int
    lambda x, i: x[i[0], :, [0, 1]],
]


@pytest.mark.parametrize("k", range(len(ADVANCED)))
def test_getitem_advanced(k: int, device: str) -> None:
    idx = np.array([1, 0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parity(ADVANCED[k], [_f32(2, 3, 4), idx], device=device, double=True)


def test_getitem_repeated_indices_accumulate(device: str) -> None:
    parity(lambda x, i: x[i] * 2, [_f32(3, 2), np.array([0, 0, 2, 0])], device=device, double=True)


@pytest.mark.parametrize("shape", [(2, 3, 4), (5,), (0, 3)])
def test_getitem_mask(shape: tuple, device: str) -> None:
    a = _f32(*shape)
    m = a > 0
    parity(lambda x, m: x[m], [a, m], device=device, double=True)
    if len(shape) > 1 and shape[0]:
        parity(lambda x, m: x[:, m[0]], [a, m], device=device, double=True)
        parity(lambda x, m: x[m[..., 0]], [a, m], device=device, double=True)


def test_getitem_mixed_mask_and_ints(device: str) -> None:
    a = _f32(2, 3, 4)
    m = np.array([True, False, True])
    parity(lambda x, m, i: x[i, m], [a, m, np.array([1, 0])], device=device, double=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parity(lambda x, m: x[:, m.to(torch.uint8) if isinstance(m, torch.Tensor) else m.byte()], [a, m],
               device=device)  # fmt: skip


def test_getitem_zero_dim_and_empty(device: str) -> None:
    parity(lambda x: x[...], [np.array(2.5, dtype=np.float32)], device=device, double=True)
    parity(lambda x: x[None], [np.array(2.5, dtype=np.float32)], device=device, double=True)
    parity(lambda x: x[True], [np.array(2.5, dtype=np.float32)], device=device, double=True)
    parity(lambda x, i: x[i], [_f32(3, 2), np.zeros((0,), dtype=np.int64)], device=device, double=True)
    parity(lambda x: x[[]], [_f32(3, 2)], device=device)
    parity(lambda x: x[1:2, 0], [_f32(0, 3)], device=device)


def test_getitem_int_dtypes() -> None:
    a = _f32(4, 3)
    for dt in (np.int64, np.int32):
        parity(lambda x, i: x[i], [a, np.array([3, 1, 3], dtype=dt)], grad=False)
    parity(lambda x, i: x[:, i], [a.astype(np.int64), np.array([2, 0])], grad=False)


def test_getitem_gradcheck() -> None:
    a = rng.standard_normal((3, 4))
    i = pdl.tensor([2, 0, 2])
    gradcheck(lambda x: x[i, 1:] * x[:, i].T, [a], double=True)
    gradcheck(lambda x: x[x.detach() > 0] ** 2, [a], double=True)


def test_getitem_errors() -> None:
    x = pdl.zeros(2, 3)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[:, ::0]
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        x[5]
    with pytest.raises(IndexError, match="dimension 1 with size 3"):
        x[:, pdl.tensor([0, 3])]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        x[pdl.tensor([0.0])]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        x[pdl.tensor([0], dtype=pdl.int16)]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError):
        x[pdl.tensor([True])]
    with pytest.raises(IndexError):
        x[1.5]


# ----- __setitem__ ---------------------------------------------------------------------------------
def _setter(index: object, value: object) -> object:
    def fn(x: object, *rest: object) -> object:
        y = x.clone()
        v = rest[0] if rest else value
        i = rest[1] if len(rest) > 1 else index
        y[i] = v
        return y

    return fn


@pytest.mark.parametrize(
    "index,value",
    [(1, 2.0), ((slice(None), 0), -1.0), ((Ellipsis, [0, 2]), 7.0), (None, 0.5)],
)
def test_setitem_scalar(index: object, value: float, device: str) -> None:
    parity(_setter(index, value), [_f32(2, 3)], device=device, double=True)


def test_setitem_tensor_value_broadcast_and_grad(device: str) -> None:
    a, v = _f32(2, 3, 4), _f32(4)
    parity(_setter((slice(None), 1), None), [a, v], device=device, double=True)
    parity(_setter((1,), None), [a, _f32(1, 3, 4)], device=device, double=True)
    parity(lambda x, v, i: _setter(None, None)(x, v, (slice(None), i)), [a, _f32(2, 4), np.array([0, 2])], device=device,
           double=True, requires_grad=[0, 1])  # fmt: skip
    parity(lambda x, v, m: _setter(None, None)(x, v, m), [a, np.array(3.0, dtype=np.float32), a > 0],
           device=device, double=True, requires_grad=[0, 1])  # fmt: skip


def test_setitem_casts_and_bumps_version() -> None:
    x = pdl.zeros(2, 3, dtype=pdl.int64)
    x[0] = pdl.tensor([1.7, 2.2, -3.9])
    x[1, pdl.tensor([True, False, True])] = 5
    t = torch.zeros(2, 3, dtype=torch.int64)
    t[0] = torch.tensor([1.7, 2.2, -3.9])
    t[1, torch.tensor([True, False, True])] = 5
    assert x.tolist() == t.tolist()
    assert x.dtype == pdl.int64
    assert x._version == 2
    y = pdl.zeros(4)
    view = y[1:3]
    view[0] = 1.0
    assert y.tolist() == [0.0, 1.0, 0.0, 0.0]


def test_setitem_autograd_rules() -> None:
    leaf = pdl.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf[0] = 1.0
    assert leaf.tolist() == [0.0, 0.0, 0.0]
    with pdl.no_grad():
        leaf[0] = 1.0
    assert leaf.tolist() == [1.0, 0.0, 0.0]
    # values saved before the write keep their old content: gradients stay right
    x = pdl.ones(3, requires_grad=True)
    y = x * 1
    z = y * y
    y[0] = 3.0
    (z.sum() + y.sum()).backward()
    assert x.grad.tolist() == [2.0, 3.0, 3.0]
    # a write into a view of a tensor with history is refused (torch would rebase the base's graph)
    y = x * 1
    with pytest.raises(RuntimeError, match="view"):
        y[0][...] = 1.0
    # writing a value with history into a plain buffer makes the buffer part of the graph
    h = pdl.zeros(2, 3)
    v = pdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h[1] = v * 2
    h.sum().backward()
    assert v.grad.tolist() == [2.0, 2.0, 2.0]


def test_setitem_errors() -> None:
    x = pdl.zeros(2, 3)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[0] = pdl.ones(2)
    with pytest.raises(IndexError):
        x[2] = 1.0
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1] = 1.0
    e = pdl.zeros(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="clone"):
        e[0, 0] = 1.0


# ----- gather / scatter ----------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dim: int, device: str) -> None:
    a = _f32(3, 4, 5)
    idx = rng.integers(0, a.shape[dim], (2, 3, 4))
    parity(lambda x, i: torch.gather(x, dim, i) if isinstance(x, torch.Tensor) else pdl.gather(x, dim, i),
           [a, idx], device=device, double=True)  # fmt: skip
    parity(lambda x, i: x.gather(dim, i), [a, idx[:, :0]], device=device, double=True)


def test_gather_zero_dim(device: str) -> None:
    parity(lambda x, i: x.gather(0, i), [np.array(1.5, dtype=np.float32), np.array(0)], device=device, double=True)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter(dim: int, device: str) -> None:
    a = _f32(3, 4, 5)
    # unique indices along dim so torch's result is deterministic
    idx = np.argsort(rng.random(a.shape), axis=dim)[:2, :3, :4]
    idx = np.take(idx, np.arange(min(2, a.shape[dim % 3])), axis=dim)
    src = _f32(*idx.shape)
    parity(lambda x, i, s: x.scatter(dim, i, s), [a, idx, src], device=device, double=True)
    parity(lambda x, i: x.scatter(dim, i, 2.5), [a, idx], device=device, double=True)
    parity(lambda x, i: _lib(x).scatter(x, dim, i, value=-1.0), [a, idx], device=device, double=True)
    rep = rng.integers(0, a.shape[dim], idx.shape)
    parity(lambda x, i, s: x.scatter_add(dim, i, s), [a, rep, src], device=device, double=True)
    parity(lambda x, i, s: x.scatter(dim, i, s, reduce="add"), [a, rep, src], device=device, grad=False)
    parity(lambda x, i, s: x.scatter(dim, i, s, reduce="multiply"), [a, rep, src], device=device, grad=False)


def test_scatter_inplace(device: str) -> None:
    a = _f32(3, 4)
    idx = np.array([[0, 1, 2, 0]])
    src = _f32(1, 4)

    def fn(x: object, i: object, s: object) -> object:
        y = x * 1
        y.scatter_(0, i, s)
        y.scatter_add_(1, i, s)
        return y

    parity(fn, [a, idx, src], device=device, double=True)


def test_gather_scatter_gradcheck() -> None:
    a = rng.standard_normal((3, 4))
    idx = pdl.tensor([[0, 2, 2, 1], [1, 1, 0, 0]])
    gradcheck(lambda x: x.gather(0, idx) ** 2, [a], double=True)
    gradcheck(lambda x, s: x.scatter_add(0, idx, s * s), [a, rng.standard_normal((2, 4))], double=True)
    uniq = pdl.tensor([[0, 2, 1, 1], [1, 0, 0, 2]])
    gradcheck(lambda x, s: x.scatter(0, uniq, s * s), [a, rng.standard_normal((2, 4))], double=True)


def test_gather_scatter_errors() -> None:
    x = pdl.zeros(3, 4)
    with pytest.raises(RuntimeError, match="int64"):
        x.gather(0, pdl.tensor([[0]], dtype=pdl.int32))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(0, pdl.tensor([0]))
    with pytest.raises(RuntimeError, match="Size does not match at dimension 1"):
        x.gather(0, pdl.zeros(1, 5, dtype=pdl.int64))
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.gather(2, pdl.zeros(1, 1, dtype=pdl.int64))
    with pytest.raises(RuntimeError):
        x.gather(0, pdl.tensor([[5]]))
    with pytest.raises(RuntimeError, match="dtype"):
        x.scatter(0, pdl.tensor([[0]]), pdl.ones(1, 1, dtype=pdl.float64))
    y = pdl.zeros(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        y.scatter(0, pdl.tensor([[0]]), 2.0, reduce="multiply").sum().backward()


# ----- index_select / index_add --------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select_and_add(dim: int, device: str) -> None:
    a = _f32(3, 4, 5)
    idx = np.array([2, 0, 2])
    parity(lambda x, i: x.index_select(dim, i), [a, idx], device=device, double=True)
    parity(lambda x, i: _lib(x).index_select(x, dim, i), [a, idx.astype(np.int32)], device=device, double=True)
    parity(lambda x, i: x.index_select(dim, i), [a, np.array(1)], device=device, double=True)
    shape = list(a.shape)
    shape[dim] = 3
    src = _f32(*shape)
    parity(lambda x, i, s: x.index_add(dim, i, s), [a, idx, src], device=device, double=True)
    parity(lambda x, i, s: _lib(x).index_add(x, dim, i, s, alpha=-2.0), [a, idx, src], device=device, double=True)

    def inplace(x: object, i: object, s: object) -> object:
        y = x * 1
        return y.index_add_(dim, i, s, alpha=0.5)

    parity(inplace, [a, idx, src], device=device, double=True)


def test_index_select_gradcheck() -> None:
    idx = pdl.tensor([1, 1, 0])
    gradcheck(lambda x: x.index_select(1, idx) ** 2, [rng.standard_normal((2, 3))], double=True)
    gradcheck(lambda x, s: x.index_add(1, idx, s * x[:, :3]), [rng.standard_normal((2, 3)),
              rng.standard_normal((2, 3))], double=True)  # fmt: skip


def test_index_select_errors() -> None:
    x = pdl.zeros(3, 4)
    with pytest.raises(IndexError, match="vector"):
        x.index_select(0, pdl.zeros(2, 2, dtype=pdl.int64))
    with pytest.raises(RuntimeError, match="int64 or int32"):
        x.index_select(0, pdl.zeros(2))
    with pytest.raises(IndexError):
        x.index_select(0, pdl.tensor([3]))
    with pytest.raises(RuntimeError, match="source"):
        x.index_add(0, pdl.tensor([0]), pdl.ones(2, 4))


# ----- masks -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "a_shape,m_shape", [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((), ()), ((0, 3), (3,))]
)
def test_masked_fill(a_shape: tuple, m_shape: tuple, device: str) -> None:
    a = _f32(*a_shape)
    m = np.asarray(rng.random(m_shape) > 0.5)
    parity(lambda x, m: x.masked_fill(m, 2.5), [a, m], device=device, double=True)
    parity(lambda x, m: _lib(x).masked_fill(x, m, float("-inf")), [a, m], device=device, double=True)
    v = np.array(-1.5, dtype=np.float32)
    parity(lambda x, m, v: x.masked_fill(m, v), [a, m, v], device=device, double=True)


def test_masked_fill_dtypes_and_inplace(device: str) -> None:
    m = np.array([True, False, True])
    parity(lambda x, m: x.masked_fill(m, 1.7), [np.arange(3), m], device=device)
    parity(lambda x, m: x.masked_fill(m, 0), [np.array([True, True, False]), m], device=device)
    parity(lambda x, m: x.masked_fill(m, 1), [np.ones(3, dtype=np.float16), m], device=device)

    def inplace(x: object, m: object) -> object:
        y = x * 2
        y.masked_fill_(m, -3.0)
        return y

    parity(inplace, [_f32(2, 3), m], device=device, double=True)


def test_masked_fill_gradcheck() -> None:
    m = pdl.tensor([[True, False, False], [False, True, True]])
    gradcheck(lambda x, v: (x * x).masked_fill(m, v.reshape(()) * 2), [rng.standard_normal((2, 3)),
              rng.standard_normal((1,))], double=True)  # fmt: skip


def test_masked_fill_errors() -> None:
    x = pdl.zeros(2, 3)
    with pytest.raises(RuntimeError, match="only supports boolean masks"):
        x.masked_fill(pdl.ones(2, 3, dtype=pdl.uint8), 1.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        x.masked_fill(pdl.ones(2, 3, dtype=pdl.bool), pdl.ones(1))
    with pytest.raises(RuntimeError):
        x.masked_fill_(pdl.ones(4, 2, 3, dtype=pdl.bool), 1.0)


@pytest.mark.parametrize("a_shape,m_shape", [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((), ())])
def test_masked_select(a_shape: tuple, m_shape: tuple, device: str) -> None:
    a = _f32(*a_shape)
    m = np.asarray(rng.random(m_shape) > 0.5)
    parity(lambda x, m: x.masked_select(m), [a, m], device=device, double=True)
    parity(lambda x, m: _lib(x).masked_select(x, m), [a, m], device=device, double=True)


# ----- take / take_along_dim ---------------------------------------------------------------------
def test_take(device: str) -> None:
    a = _f32(3, 4)
    parity(lambda x, i: x.take(i), [a, np.array([[0, 11], [-1, 0]])], device=device, double=True)
    parity(lambda x, i: _lib(x).take(x, i), [a, np.array(5)], device=device, double=True)
    parity(lambda x, i: x.take(i), [np.array(2.0, dtype=np.float32), np.array([0, 0])], device=device, double=True)
    gradcheck(lambda x: x.take(pdl.tensor([1, 1, 4])) ** 2, [rng.standard_normal((2, 3))], double=True)


def test_take_along_dim(device: str) -> None:
    a = _f32(3, 4)
    idx = np.argsort(a, axis=1)
    parity(lambda x, i: x.take_along_dim(i, 1), [a, idx], device=device, double=True)
    parity(lambda x, i: _lib(x).take_along_dim(x, i, dim=0), [a, np.argsort(a, axis=0)[:2]], device=device,
           double=True)  # fmt: skip
    parity(lambda x, i: x.take_along_dim(i[:, :1], dim=1), [a, idx], device=device, double=True)  # broadcasts
    parity(lambda x, i: x.take_along_dim(i), [a, np.array([0, 11, 3])], device=device, double=True)
    gradcheck(lambda x: x.take_along_dim(pdl.tensor([[0], [2]]), 1) ** 2, [rng.standard_normal((2, 3))],
              double=True)  # fmt: skip


# ----- nonzero -----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3), (5,), (), (0, 3), (2, 1, 3)])
def test_nonzero(shape: tuple, device: str) -> None:
    a = np.asarray(rng.random(shape) > 0.5).astype(np.float32)
    parity(lambda x: x.nonzero(), [a], device=device, grad=False)
    parity(lambda x: _lib(x).nonzero(x, as_tuple=True), [a], device=device, grad=False)
    parity(lambda x: _lib(x).argwhere(x), [a], device=device, grad=False)
    parity(lambda x: x.argwhere(), [a.astype(bool)], device=device, grad=False)
    parity(lambda x: x.nonzero(), [np.array(0.0, dtype=np.float32)], device=device, grad=False)


# ----- index_put -----------------------------------------------------------------------------------
@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put(accumulate: bool, device: str) -> None:
    a = _f32(3, 4)
    rows, cols = np.array([0, 2, 0]), np.array([1, 3, 1])
    if not accumulate:
        rows, cols = rows[:2], cols[:2]
    v = _f32(len(rows))
    parity(lambda x, r, c, v: x.index_put((r, c), v, accumulate=accumulate), [a, rows, cols, v], device=device,
           double=True)  # fmt: skip
    parity(lambda x, r, v: _lib(x).index_put(x, (r,), v[:1], accumulate), [a, rows, v], device=device, double=True)

    def inplace(x: object, r: object, v: object) -> object:
        y = x * 1
        return y.index_put_((r,), v[:1], accumulate=accumulate)

    parity(inplace, [a, rows, v], device=device, double=True)


def test_getitem_zero_dim_results_are_views() -> None:
    x = pdl.zeros(3)
    y = x[1]
    y += 1
    x.unbind(0)[2].add_(5)
    x.select(0, 0).add_(2)
    assert x.tolist() == [2.0, 1.0, 5.0]
    m = pdl.zeros(2, 2)
    m[1, 0].add_(1)
    assert m.tolist() == [[0.0, 0.0], [1.0, 0.0]]
