"""In-place fills, random fills, sampling functions and in-place shape methods against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)


def _same(p: pdl.Tensor, t: torch.Tensor) -> None:
    assert tuple(p.shape) == tuple(t.shape)
    assert str(p.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_array_equal(p.cpu().numpy(), t.numpy())


def _both(fn, data: np.ndarray, device: str):
    p = pdl.tensor(data, device=device)
    t = torch.tensor(data)
    return fn(p, pdl), fn(t, torch)


# ----- deterministic fills -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("value", [2, 2.7, True, -0.0])
def test_fill_zero_values_dtypes(dtype: str, value, device: str) -> None:
    data = np.ones((2, 3), dtype=dtype)
    p, t = _both(lambda x, m: x.fill_(value), data, device)
    _same(p, t)
    p, t = _both(lambda x, m: x.zero_(), data, device)
    _same(p, t)
    p, t = _both(lambda x, m: m.fill(x, value), data, device)
    _same(p, t)


@pytest.mark.parametrize("shape", [(), (0, 3), (4,), (2, 3, 2)])
def test_fill_tensor_value_and_shapes(shape: tuple, device: str) -> None:
    data = np.zeros(shape, dtype=np.float32)
    p, t = _both(lambda x, m: x.fill_(m.tensor(3.5)), data, device)
    _same(p, t)
    x = pdl.tensor(data, device=device)
    v = x._version
    x.fill_(1)
    assert x._version > v


def test_fill_errors(device: str) -> None:
    with pytest.raises(RuntimeError, match="0-dimension value tensor"):
        pdl.zeros(3, device=device).fill_(pdl.ones(2, device=device))
    leaf = pdl.zeros(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.fill_(1)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.zero_()
    with pdl.no_grad():
        leaf.fill_(2)
    assert float(leaf.sum()) == 6


def test_fill_grad_through_tensor_value(device: str) -> None:
    parity(lambda v: (v * 1).new_zeros(2, 3).fill_(v * 2), [np.array(1.5)], device=device)


@pytest.mark.parametrize(
    "dst,src,src_dtype",
    [((2, 3), (2, 3), "float64"), ((2, 3), (3,), "int64"), ((4, 1, 3), (1, 3), "float32"), ((2, 3), (), "bool"),
     ((0, 3), (3,), "float32"), ((), (), "float32")],
)  # fmt: skip
@pytest.mark.parametrize("dst_dtype", ["float32", "int32"])
def test_copy_values(dst: tuple, src: tuple, src_dtype: str, dst_dtype: str, device: str) -> None:
    s = (rng.standard_normal(src) * 3).astype(src_dtype)
    p = pdl.zeros(dst, dtype=getattr(pdl, dst_dtype), device=device).copy_(pdl.tensor(s, device=device))
    t = torch.zeros(dst, dtype=getattr(torch, dst_dtype)).copy_(torch.tensor(s))
    _same(p, t)


def test_copy_errors_and_version(device: str) -> None:
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(2\)"):
        pdl.zeros(3, device=device).copy_(pdl.ones(2, device=device))
    with pytest.raises(TypeError):
        pdl.zeros(3, device=device).copy_(1.0)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        pdl.zeros(3, device=device, requires_grad=True).copy_(pdl.ones(3, device=device))
    x = pdl.zeros(3, device=device)
    v = x._version
    src = pdl.ones(3, device=device)
    x.copy_(src)
    src.add_(1)  # no aliasing
    assert x._version > v and float(x.sum()) == 3


@pytest.mark.parametrize("src_shape", [(2, 3), (3,), (1, 1)])
def test_copy_grad(src_shape: tuple, device: str) -> None:
    s = rng.standard_normal(src_shape)
    parity(lambda a: ((a * 1).new_zeros(2, 3).copy_(a * 2) * 3).exp(), [s.astype(np.float32)], device=device,
           double=True)  # fmt: skip
    gradcheck(lambda a: pdl.zeros(2, 3, dtype=pdl.float64).copy_(a).sin(), [s], double=True)


def test_copy_grad_into_float64(device: str) -> None:
    s = rng.standard_normal((2, 3)).astype(np.float32)
    parity(lambda a: (a * 1).new_zeros(2, 3).double().copy_(a) * 2, [s], device=device)


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (7, 3), (3, 7), (4, 2), (3, 3, 3), (1, 1), (0, 2)])
@pytest.mark.parametrize("wrap", [False, True])
def test_fill_diagonal(shape: tuple, wrap: bool, device: str) -> None:
    data = np.zeros(shape, dtype=np.float32)
    p, t = _both(lambda x, m: x.fill_diagonal_(2.5, wrap=wrap), data, device)
    _same(p, t)
    p, t = _both(lambda x, m: x.long().fill_diagonal_(7, wrap), data, device)
    _same(p, t)


def test_fill_diagonal_errors(device: str) -> None:
    with pytest.raises(RuntimeError, match="dimensions must larger than 1"):
        pdl.zeros(3, device=device).fill_diagonal_(1)
    with pytest.raises(RuntimeError, match="equal length"):
        pdl.zeros(2, 3, 2, device=device).fill_diagonal_(1)


def test_fill_diagonal_grad(device: str) -> None:
    parity(lambda a: (a * 2).fill_diagonal_(0.0) * a, [rng.standard_normal((3, 4)).astype(np.float32)],
           device=device, double=True)  # fmt: skip


@pytest.mark.parametrize(
    "shape,dim,index",
    [((3,), 0, [-1]), ((3, 4), 1, [0, 2]), ((3, 4), -2, [1, 1]), ((2, 3, 4), 2, [3]), ((3, 4), 0, []),
     ((), 0, [0]), ((3, 4), 1, 2)],
)  # fmt: skip
def test_index_fill(shape: tuple, dim: int, index, device: str) -> None:
    data = rng.standard_normal(shape).astype(np.float32)
    idx = np.array(index, dtype=np.int64)
    p = pdl.tensor(data, device=device).index_fill_(dim, pdl.tensor(idx, device=device), -2.0)
    t = torch.tensor(data).index_fill_(dim, torch.tensor(idx), -2.0)
    _same(p, t)
    p = pdl.index_fill(pdl.tensor(data, device=device), dim, pdl.tensor(idx, device=device), pdl.tensor(4.0))
    t = torch.index_fill(torch.tensor(data), dim, torch.tensor(idx), torch.tensor(4.0))
    _same(p, t)
    if data.ndim:
        parity(lambda a, i: a.index_fill(dim, i, 1.5), [data, idx], device=device, double=True)


def test_index_fill_grad_inplace(device: str) -> None:
    parity(lambda a, i: (a * 2).index_fill_(1, i, 0.0), [rng.standard_normal((3, 4)).astype(np.float32),
           np.array([0, 3])], device=device)  # fmt: skip
    gradcheck(lambda a: a.index_fill(0, pdl.tensor([1]), 0.0).exp(), [rng.standard_normal((3, 2))], double=True)


def test_index_fill_errors(device: str) -> None:
    x = pdl.zeros(3, device=device)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x.index_fill_(0, pdl.tensor([3], device=device), 1.0)
    with pytest.raises(IndexError, match="Expected dtype int64"):
        x.index_fill_(0, pdl.tensor([1.0], device=device), 1.0)
    with pytest.raises(IndexError):
        x.index_fill_(1, pdl.tensor([0], device=device), 1.0)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        pdl.zeros(3, device=device, requires_grad=True).index_fill_(0, pdl.tensor([0], device=device), 1.0)


# ----- in-place shape methods -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,op",
    [((3, 1, 2), lambda x: x.squeeze_()), ((3, 1, 2), lambda x: x.squeeze_(1)), ((3, 1, 2), lambda x: x.squeeze_(0)),
     ((3, 1, 1), lambda x: x.squeeze_((1, 2))), ((3, 2), lambda x: x.unsqueeze_(-1)), ((), lambda x: x.unsqueeze_(0)),
     ((3, 2), lambda x: x.t_()), ((3,), lambda x: x.t_()), ((2, 3, 4), lambda x: x.transpose_(0, 2)),
     ((2, 3), lambda x: x.swapaxes_(0, 1))],
)  # fmt: skip
def test_inplace_shape(shape: tuple, op, device: str) -> None:
    data = rng.standard_normal(shape).astype(np.float32)
    p, t = pdl.tensor(data, device=device), torch.tensor(data)
    v = p._version
    assert op(p) is p
    op(t)
    _same(p, t)
    assert p._version > v


def test_inplace_shape_errors_and_grad(device: str) -> None:
    leaf = pdl.zeros(3, 1, device=device, requires_grad=True)
    for op in (lambda x: x.squeeze_(), lambda x: x.unsqueeze_(0), lambda x: x.t_(), lambda x: x.transpose_(0, 1)):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            op(leaf)
    with pytest.raises(RuntimeError, match="t_|t\\(\\)|2 dim|dimensions"):
        pdl.zeros(2, 2, 2, device=device).t_()
    with pytest.raises(IndexError):
        pdl.zeros(2, 2, device=device).transpose_(0, 2)
    parity(lambda a: (a * 2).t_().unsqueeze_(0).squeeze_(0) * a.t(), [rng.standard_normal((2, 3)).astype("f")],
           device=device)  # fmt: skip


# ----- random in-place fills ----------------------------------------------------------------------------

N = 100_000


def _stats(x: pdl.Tensor) -> tuple[float, float]:
    a = x.cpu().numpy().astype(np.float64)
    return a.mean(), a.std()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_uniform_exponential(dtype: str, device: str) -> None:
    dt = getattr(pdl, dtype)
    x = pdl.empty(N, dtype=dt, device=device).normal_(2.0, 3.0)
    assert x.dtype == dt
    m, s = _stats(x)
    assert abs(m - 2) < 0.05 and abs(s - 3) < 0.05
    x = pdl.empty(N, dtype=dt, device=device).uniform_(-2, 4)
    a = x.cpu().numpy()
    assert a.min() >= -2 and a.max() < 4 and abs(a.mean() - 1) < 0.05 and abs(a.std() - 6 / 12**0.5) < 0.05
    x = pdl.empty(N, dtype=dt, device=device).uniform_(**{"from": 3, "to": 5})
    assert x.min().item() >= 3 and x.max().item() < 5
    x = pdl.empty(N, dtype=dt, device=device).exponential_(2.0)
    m, s = _stats(x)
    assert x.min().item() >= 0 and abs(m - 0.5) < 0.02 and abs(s - 0.5) < 0.02
    x = pdl.empty(N, dtype=dt, device=device).log_normal_(0.0, 0.5)
    m, _ = _stats(x.log())
    assert x.min().item() > 0 and abs(m) < 0.02
    x = pdl.empty(N, dtype=dt, device=device).cauchy_(1.0, 2.0)
    assert abs(float(np.median(x.cpu().numpy())) - 1) < 0.05
    x = pdl.empty(N, dtype=dt, device=device).geometric_(0.25)
    m, _ = _stats(x)
    assert x.min().item() >= 1 and abs(m - 4) < 0.1 and x.dtype == dt


def test_bernoulli_random(device: str) -> None:
    for dt in (pdl.float32, pdl.int64, pdl.bool):
        x = pdl.empty(N, dtype=dt, device=device).bernoulli_(0.3)
        assert x.dtype == dt
        m, _ = _stats(x)
        assert abs(m - 0.3) < 0.01
    p = pdl.tensor([0.0, 1.0, 0.5], device=device)
    x = pdl.empty(N, 3, device=device).bernoulli_(p)
    m = x.cpu().numpy().mean(0)
    assert m[0] == 0 and m[1] == 1 and abs(m[2] - 0.5) < 0.01
    x = pdl.empty(N, dtype=pdl.int64, device=device).random_(3, 7)
    a = x.cpu().numpy()
    assert x.dtype == pdl.int64 and set(np.unique(a)) == {3, 4, 5, 6}
    a = pdl.empty(N, device=device).random_(5).cpu().numpy()
    assert set(np.unique(a)) == {0, 1, 2, 3, 4}
    a = pdl.empty(N, device=device).random_().cpu().numpy()
    assert a.min() >= 0 and a.max() <= 2**24 and a.max() > 2**23 and (a == np.round(a)).all()
    a = pdl.empty(N, dtype=pdl.uint8, device=device).random_().cpu().numpy()
    assert a.max() >= 250


def test_random_fill_errors(device: str) -> None:
    x = pdl.zeros(3, device=device)
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
        x.normal_(0, -1)
    with pytest.raises(RuntimeError, match="uniform_ expects"):
        x.uniform_(1, 0)
    with pytest.raises(RuntimeError, match="exponential_ expects lambda > 0.0"):
        x.exponential_(0)
    with pytest.raises(RuntimeError, match="bernoulli_ expects p"):
        x.bernoulli_(2)
    with pytest.raises(RuntimeError, match="geometric_ expects p"):
        x.geometric_(0)
    with pytest.raises(RuntimeError, match="random_ expects 'from'"):
        x.random_(3, 1)
    with pytest.raises(NotImplementedError):
        pdl.zeros(3, dtype=pdl.int64, device=device).normal_()
    leaf = pdl.zeros(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.normal_()
    with pdl.no_grad():
        leaf.uniform_()
    assert leaf.requires_grad and leaf.grad_fn is None and leaf.min().item() >= 0


def test_seed_reproducibility(device: str) -> None:
    def draw():
        return [pdl.empty(5, device=device).normal_().cpu().numpy(),
                pdl.empty(5, device=device).uniform_().cpu().numpy(),
                pdl.multinomial(pdl.ones(10, device=device), 4).cpu().numpy(),
                pdl.bernoulli(pdl.full((6,), 0.5, device=device)).cpu().numpy()]  # fmt: skip

    pdl.manual_seed(123)
    a = draw()
    pdl.manual_seed(123)
    b = draw()
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], draw()[0])


# ----- sampling functions ----------------------------------------------------------------------------------


def test_bernoulli_function(device: str) -> None:
    p = pdl.tensor([0.0, 1.0, 0.2], dtype=pdl.float64, device=device).expand(N, 3)
    x = pdl.bernoulli(p)
    assert x.dtype == pdl.float64 and tuple(x.shape) == (N, 3)
    m = x.cpu().numpy().mean(0)
    assert m[0] == 0 and m[1] == 1 and abs(m[2] - 0.2) < 0.01
    x = pdl.bernoulli(pdl.zeros(N, device=device), 0.7)
    assert abs(_stats(x)[0] - 0.7) < 0.01
    assert pdl.full((2,), 0.5, device=device).bernoulli().shape == (2,)
    with pytest.raises(RuntimeError, match="p_in >= 0"):
        pdl.bernoulli(pdl.tensor([2.0], device=device))


@pytest.mark.parametrize("replacement", [True, False])
def test_multinomial_frequencies(replacement: bool, device: str) -> None:
    w = pdl.tensor([1.0, 0.0, 3.0, 4.0], device=device)
    x = pdl.multinomial(w.expand(N // 2, 4), 1, replacement)
    assert x.dtype == pdl.int64 and tuple(x.shape) == (N // 2, 1)
    freq = np.bincount(x.cpu().numpy().ravel(), minlength=4) / (N // 2)
    np.testing.assert_allclose(freq, [0.125, 0, 0.375, 0.5], atol=0.01)
    if replacement:
        x = pdl.multinomial(w, N, True)
        freq = np.bincount(x.cpu().numpy(), minlength=4) / N
        np.testing.assert_allclose(freq, [0.125, 0, 0.375, 0.5], atol=0.01)


def test_multinomial_without_replacement(device: str) -> None:
    w = pdl.tensor(rng.random((500, 6)) + 0.1, device=device)
    x = pdl.multinomial(w, 6).cpu().numpy()
    assert x.shape == (500, 6)
    assert all(len(set(row)) == 6 for row in x)
    w = pdl.tensor([1.0, 0.0, 1.0, 0.0], device=device)
    x = pdl.multinomial(w.expand(1000, 4), 2).cpu().numpy()
    assert (np.sort(x, 1) == [0, 2]).all()
    # second draw of [big, small, small]: conditional frequencies like sequential sampling
    x = pdl.multinomial(pdl.tensor([8.0, 1.0, 1.0], device=device).expand(N // 2, 3), 2).cpu().numpy()
    assert abs((x[:, 0] == 0).mean() - 0.8) < 0.01
    assert w.multinomial(1).shape == (1,)


def test_multinomial_errors(device: str) -> None:
    with pytest.raises(RuntimeError, match="without replacement"):
        pdl.multinomial(pdl.ones(3, device=device), 4)
    with pytest.raises(RuntimeError, match="inf`, `nan` or element < 0"):
        pdl.multinomial(pdl.tensor([-1.0, 1.0], device=device), 1)
    with pytest.raises(RuntimeError, match="sum of probabilities <= 0"):
        pdl.multinomial(pdl.zeros(2, device=device), 1)
    with pytest.raises(RuntimeError, match="1 or 2 dim"):
        pdl.multinomial(pdl.ones(2, 2, 2, device=device), 1)
    with pytest.raises(RuntimeError, match="floating-point"):
        pdl.multinomial(pdl.ones(2, dtype=pdl.int64, device=device), 1)
    with pytest.raises(RuntimeError, match="n_sample <= 0"):
        pdl.multinomial(pdl.ones(2, device=device), 0)


def test_normal_function(device: str) -> None:
    mean = pdl.tensor([0.0, 10.0], device=device).expand(N, 2)
    x = pdl.normal(mean, 2.0)
    assert x.dtype == pdl.float32 and tuple(x.shape) == (N, 2)
    a = x.cpu().numpy()
    np.testing.assert_allclose(a.mean(0), [0, 10], atol=0.05)
    np.testing.assert_allclose(a.std(0), [2, 2], atol=0.05)
    x = pdl.normal(1.0, pdl.tensor([1.0, 3.0], dtype=pdl.float64, device=device).expand(N, 2)).cpu().numpy()
    np.testing.assert_allclose(x.std(0), [1, 3], atol=0.05)
    x = pdl.normal(pdl.zeros(N, 1, device=device), pdl.full((2,), 0.5, device=device))
    assert tuple(x.shape) == (N, 2) and abs(_stats(x)[1] - 0.5) < 0.01
    x = pdl.normal(3.0, 0.5, (N,))
    assert x.dtype == pdl.float32 and abs(_stats(x)[0] - 3) < 0.01
    assert pdl.normal(0.0, 1.0, size=(2, 3), dtype=pdl.float64).dtype == pdl.float64
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        pdl.normal(pdl.zeros(2, device=device), pdl.tensor([-1.0, 1.0], device=device))


def test_poisson(device: str) -> None:
    x = pdl.poisson(pdl.tensor([0.0, 4.0], device=device).expand(N, 2))
    assert x.dtype == pdl.float32
    a = x.cpu().numpy()
    assert (a[:, 0] == 0).all() and abs(a[:, 1].mean() - 4) < 0.05 and (a == np.round(a)).all()
    with pytest.raises(RuntimeError, match="non-negative"):
        pdl.poisson(pdl.tensor([-1.0], device=device))
