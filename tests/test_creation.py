"""Tensor creation against PyTorch: shapes, dtypes, values, defaults, memory sharing, random seeding, Size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl


def name_of(dt: object) -> str:
    return str(dt).split(".")[-1]


def same(p: pdl.Tensor, t: torch.Tensor, *, rtol: float = 0.0, atol: float = 0.0) -> None:
    """Same shape and dtype; values equal (or close, for float results computed in a different order)."""
    assert isinstance(p, pdl.Tensor), type(p)
    assert tuple(p.shape) == tuple(t.shape), (tuple(p.shape), tuple(t.shape))
    assert p.dtype.name == name_of(t.dtype), (p.dtype, t.dtype)
    a = p.detach().numpy().astype(np.float64)
    b = t.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def both(fn, **tol) -> None:
    same(fn(pdl), fn(torch), **tol)


# ----- torch.tensor and friends ----------------------------------------------------------------------

TENSOR_DATA = [
    [1, 2, 3], [1.0, 2], [True, False], [True, 2], 3.5, 3, True, [], [[1, 2], [3, 4]], [[], []], (1, 2),
    [[1.5], [2.5]], np.arange(3.0), np.arange(3, dtype=np.int32), np.ones(2, np.float16), np.float64(2.0),
    np.int32(7), np.array(True), np.zeros((2, 0, 3), np.uint8), np.arange(6, dtype=np.int16).reshape(2, 3),
]  # fmt: skip


@pytest.mark.parametrize("data", TENSOR_DATA, ids=lambda d: type(d).__name__ + str(np.shape(d)))
def test_tensor_inference(data: object) -> None:
    both(lambda m: m.tensor(data))
    both(lambda m: m.as_tensor(data))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"])
def test_tensor_explicit_dtype(dtype: str) -> None:
    for data in ([1, 0, 3], [[1.0, 2.0]], 2, [True, False]):
        both(lambda m, data=data: m.tensor(data, dtype=getattr(m, dtype)))
    data = [1.7, 0.2, 2.9] if dtype == "uint8" else [1.7, -1.7, 0.2]
    both(lambda m: m.tensor(data, dtype=getattr(m, dtype)))  # float -> int truncates toward zero


def test_tensor_from_tensors() -> None:
    both(lambda m: m.tensor([m.tensor(1.0), m.tensor(2.0)]))
    src = pdl.tensor([1.0, 2.0])
    copy = pdl.tensor(src)
    copy += 1
    assert src.tolist() == [1.0, 2.0]  # torch.tensor always copies


def test_tensor_copies_numpy() -> None:
    a = np.arange(3.0)
    t = pdl.tensor(a)
    a[0] = 10.0
    assert t.tolist() == [0.0, 1.0, 2.0]


def test_requires_grad_argument() -> None:
    t = pdl.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad_fn is None
    for make in (pdl.zeros, pdl.ones, pdl.empty, pdl.rand, pdl.randn):
        assert make(2, 3, requires_grad=True).requires_grad
    assert pdl.full((2,), 1.5, requires_grad=True).requires_grad
    assert pdl.arange(3.0, requires_grad=True).requires_grad
    assert pdl.linspace(0, 1, 3, requires_grad=True).requires_grad
    assert pdl.eye(2, requires_grad=True).requires_grad
    assert not pdl.tensor([1.0]).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        pdl.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        pdl.zeros(2, dtype=pdl.int64, requires_grad=True)


def test_device_argument() -> None:
    for dev in ("cpu", pdl.device("cpu"), None):
        t = pdl.zeros(2, device=dev)
        assert t.device == pdl.device("cpu") and t.device.type == "cpu" and t.is_cpu and not t.is_cuda
        assert pdl.tensor([1], device=dev).device.type == "cpu"
        assert pdl.arange(3, device=dev).device.type == "cpu"
        assert pdl.randn(2, device=dev).device.type == "cpu"
    assert str(pdl.zeros(1).device) == "cpu"
    assert repr(pdl.device("cpu")) == repr(torch.device("cpu"))
    assert repr(pdl.device("cuda:1")) == repr(torch.device("cuda:1"))
    assert repr(pdl.device("cuda", 0)) == repr(torch.device("cuda", 0))
    assert str(pdl.device("cuda", 0)) == "cuda:0"
    assert pdl.device("cpu") == "cpu" and hash(pdl.device("cpu")) == hash(pdl.device("cpu"))
    assert pdl.device(pdl.device("cuda:2")).index == 2
    assert pdl.zeros(2).get_device() == torch.zeros(2).get_device() == -1


# ----- memory sharing --------------------------------------------------------------------------------


def test_from_numpy_shares_memory() -> None:
    a = np.arange(6.0).reshape(2, 3)
    t = pdl.from_numpy(a)
    assert t.dtype is pdl.float64 and tuple(t.shape) == (2, 3)
    a[0, 0] = 42.0
    assert t.tolist()[0][0] == 42.0
    t.add_(1)
    assert a[1, 2] == 6.0
    assert t.data_ptr() == a.__array_interface__["data"][0]
    for dt in (np.float16, np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64, np.bool_):
        assert pdl.from_numpy(np.zeros(2, dt)).dtype.name == name_of(torch.from_numpy(np.zeros(2, dt)).dtype)


def test_from_numpy_errors() -> None:
    with pytest.raises(TypeError):
        pdl.from_numpy([1, 2])
    with pytest.raises(TypeError):
        pdl.from_numpy(np.array(["a"]))


def test_as_tensor_sharing() -> None:
    a = np.arange(3.0)
    t = pdl.as_tensor(a)
    a[1] = 7.0
    assert t.tolist() == [0.0, 7.0, 2.0]  # shares when dtype and device match
    c = pdl.as_tensor(a, dtype=pdl.float32)
    a[2] = 9.0
    assert c.tolist() == [0.0, 7.0, 2.0]  # a dtype change copies
    x = pdl.ones(2)
    assert pdl.as_tensor(x) is x
    assert pdl.as_tensor(x, dtype=pdl.float64).dtype is pdl.float64
    assert pdl.asarray([1, 2]).dtype is pdl.int64


# ----- filled --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["zeros", "ones"])
def test_filled(name: str) -> None:
    both(lambda m: getattr(m, name)(2, 3))
    both(lambda m: getattr(m, name)((2, 3)))
    both(lambda m: getattr(m, name)([2, 3], dtype=m.int32))
    both(lambda m: getattr(m, name)(()))
    both(lambda m: getattr(m, name)(0, 3))
    both(lambda m: getattr(m, name)(4, dtype=m.bool))
    both(lambda m: getattr(m, name)(m.Size([2, 1])))
    both(lambda m: getattr(m, name)(2, 3, dtype=m.float16))


def test_empty() -> None:
    for args, kwargs in [((2, 3), {}), (((2, 3),), {"dtype": pdl.int32}), ((0,), {}), (((),), {})]:
        p = pdl.empty(*args, **kwargs)
        t = torch.empty(*args, **{k: getattr(torch, v.name) for k, v in kwargs.items()})
        assert tuple(p.shape) == tuple(t.shape) and p.dtype.name == name_of(t.dtype)


def test_negative_size_raises() -> None:
    for make in (pdl.zeros, pdl.ones, pdl.empty):
        with pytest.raises(RuntimeError, match="non-negative"):
            make(2, -1)
    with pytest.raises(RuntimeError, match="non-negative"):
        pdl.full((-1,), 1.0)


@pytest.mark.parametrize("fill", [3, 1.5, True, -2, 0.0])
def test_full_dtype_inference(fill: object) -> None:
    both(lambda m: m.full((2, 3), fill))
    both(lambda m: m.full([2], fill, dtype=m.float64))
    both(lambda m: m.full((), fill))
    both(lambda m: m.full((2,), fill, dtype=m.int64))


def test_full_with_tensor_fill() -> None:
    both(lambda m: m.full((2,), m.tensor(2.5)))


def test_like_functions() -> None:
    for dt in ("float32", "int32", "float64", "bool"):
        both(lambda m, dt=dt: m.zeros_like(m.ones(2, 3, dtype=getattr(m, dt))))
        both(lambda m, dt=dt: m.ones_like(m.ones(2, dtype=getattr(m, dt))))
        both(lambda m, dt=dt: m.full_like(m.ones(2, dtype=getattr(m, dt)), 7))
        both(lambda m, dt=dt: m.ones_like(m.zeros(3, dtype=getattr(m, dt)), dtype=m.float64))
    both(lambda m: m.full_like(m.ones(2, dtype=m.int64), 2.7))  # fill cast to the input's dtype
    both(lambda m: m.full_like(m.ones(2), 7))
    p, t = pdl.empty_like(pdl.ones(2, 3, dtype=pdl.int16)), torch.empty_like(torch.ones(2, 3, dtype=torch.int16))
    assert tuple(p.shape) == tuple(t.shape) and p.dtype.name == name_of(t.dtype)
    src = pdl.ones(2, requires_grad=True)
    assert not pdl.zeros_like(src).requires_grad
    assert pdl.zeros_like(src, requires_grad=True).requires_grad
    r = pdl.rand_like(pdl.ones(2, 3, dtype=pdl.float64))
    assert r.dtype is pdl.float64 and tuple(r.shape) == (2, 3)
    r = pdl.randn_like(pdl.ones(4))
    assert r.dtype is pdl.float32 and tuple(r.shape) == (4,)
    r = pdl.randint_like(pdl.ones(5), 3)
    assert r.dtype is pdl.float32 and tuple(r.shape) == (5,) and set(r.tolist()) <= {0.0, 1.0, 2.0}
    r = pdl.randint_like(pdl.ones(5, dtype=pdl.int32), 2, 4)
    assert r.dtype is pdl.int32 and set(r.tolist()) <= {2, 3}


def test_new_methods() -> None:
    both(lambda m: m.ones(2, dtype=m.float64).new_zeros(3))
    both(lambda m: m.ones(2, dtype=m.float64).new_zeros((2, 3)))
    both(lambda m: m.ones(2, dtype=m.int32).new_ones((2, 2)))
    both(lambda m: m.ones(2, dtype=m.int32).new_ones(2, 2))
    both(lambda m: m.ones(2, dtype=m.int32).new_full((2,), 3.7))
    both(lambda m: m.ones(2).new_full([3], 2))
    both(lambda m: m.ones(2, dtype=m.float64).new_tensor([1, 2]))
    both(lambda m: m.ones(2, dtype=m.int32).new_tensor([1.5]))
    both(lambda m: m.ones(2, dtype=m.float16).new_zeros(2, 3, dtype=m.int64))
    e = pdl.ones(2, dtype=pdl.int16).new_empty((3, 1))
    assert e.dtype is pdl.int16 and tuple(e.shape) == (3, 1)
    assert pdl.ones(2).new_zeros(2, requires_grad=True).requires_grad


# ----- ranges --------------------------------------------------------------------------------------

ARANGE = [
    (5,), (2, 7), (10, 0, -3), (0, 1, 0.1), (1.5,), (-1, 1, 0.3), (0, 10, 0.7), (0.0, 1.0, 1 / 3), (0,), (3, 3),
    (-3.3, 7.1, 0.37), (5, -5, -0.5), (1, 2.5), (0.5, 5, 1.5), (10, 1, -1), (0, 1e-3, 1e-4), (-5,),
]  # fmt: skip


@pytest.mark.parametrize("args", ARANGE, ids=str)
def test_arange(args: tuple) -> None:
    # values computed in float32 by torch's vectorised kernel may differ from ours in the last bit
    both(lambda m: m.arange(*args), rtol=1e-6, atol=1e-6) if not _arange_error(args) else _same_error(args)
    for dt in ("float64", "int64", "int32", "float16"):
        try:
            expected = torch.arange(*args, dtype=getattr(torch, dt))
        except (RuntimeError, ValueError):
            with pytest.raises((RuntimeError, ValueError)):
                pdl.arange(*args, dtype=getattr(pdl, dt))
            continue
        same(pdl.arange(*args, dtype=getattr(pdl, dt)), expected, rtol=1e-3 if dt == "float16" else 1e-6, atol=1e-6)


def _arange_error(args: tuple) -> bool:
    try:
        torch.arange(*args)
    except (RuntimeError, ValueError):
        return True
    return False


def _same_error(args: tuple) -> None:
    with pytest.raises((RuntimeError, ValueError)):
        pdl.arange(*args)


def test_arange_keywords_and_tensors() -> None:
    both(lambda m: m.arange(start=1, end=4))
    both(lambda m: m.arange(0, 6, step=2))
    both(lambda m: m.arange(end=3))
    both(lambda m: m.arange(m.tensor(3)))
    both(lambda m: m.arange(m.tensor(3.0)))
    both(lambda m: m.arange(m.tensor(1), m.tensor(6), m.tensor(2)))


def test_arange_errors() -> None:
    with pytest.raises(RuntimeError):
        pdl.arange(0, 5, 0)
    with pytest.raises(RuntimeError):
        pdl.arange(0, 5, -1)
    with pytest.raises((RuntimeError, ValueError)):
        pdl.arange(0, 5, 0.5, dtype=pdl.int64)  # the step truncates to 0, as in torch


LINSPACE = [(0, 1, 5), (2, 3, 1), (2, 3, 0), (-1, 1, 7), (-3.3, 7.1, 11), (5, -5, 4), (0, 10, 4), (1, 1, 3)]


@pytest.mark.parametrize("args", LINSPACE, ids=str)
def test_linspace(args: tuple) -> None:
    both(lambda m: m.linspace(*args), rtol=1e-6, atol=1e-6)
    both(lambda m: m.linspace(*args, dtype=m.float64), rtol=1e-12, atol=1e-12)
    both(lambda m: m.linspace(*args, dtype=m.int64))
    both(lambda m: m.logspace(*args), rtol=1e-5)


def test_linspace_errors() -> None:
    with pytest.raises(RuntimeError):
        pdl.linspace(0, 1, -1)


@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2), (0,), (1, 0)], ids=str)
def test_eye(args: tuple) -> None:
    both(lambda m: m.eye(*args))
    both(lambda m: m.eye(*args, dtype=m.int32))
    both(lambda m: m.eye(*args, dtype=m.bool))


# ----- random --------------------------------------------------------------------------------------


def test_random_shapes_and_dtypes() -> None:
    cases = [
        lambda m: m.rand(2, 3), lambda m: m.rand((4,)), lambda m: m.rand(2, dtype=m.float64), lambda m: m.rand(()),
        lambda m: m.randn(3, 2), lambda m: m.randn([5], dtype=m.float64), lambda m: m.randn(2, dtype=m.float16),
        lambda m: m.randint(3, 5, (3,)), lambda m: m.randint(10, (2, 2)), lambda m: m.randint(0, 2, (2,), dtype=m.int32),
        lambda m: m.randint(-5, 5, size=(7,)), lambda m: m.randperm(6), lambda m: m.randperm(0),
        lambda m: m.randperm(4, dtype=m.int32), lambda m: m.rand(0, 3), lambda m: m.randint(2, (0,)),
    ]  # fmt: skip
    for fn in cases:
        p, t = fn(pdl), fn(torch)
        assert tuple(p.shape) == tuple(t.shape) and p.dtype.name == name_of(t.dtype), (p, t)


def test_random_values() -> None:
    pdl.manual_seed(0)
    r = pdl.rand(2000).numpy()
    assert r.min() >= 0.0 and r.max() < 1.0 and abs(r.mean() - 0.5) < 0.05
    n = pdl.randn(4000, dtype=pdl.float64).numpy()
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1.0) < 0.1
    i = pdl.randint(-2, 3, (500,)).numpy()
    assert set(i.tolist()) == {-2, -1, 0, 1, 2}
    p = pdl.randperm(50).numpy()
    assert sorted(p.tolist()) == list(range(50))


def test_manual_seed_reproducible() -> None:
    def draw() -> list:
        return [pdl.rand(3).tolist(), pdl.randn(2, 2).tolist(), pdl.randint(0, 100, (4,)).tolist(),
                pdl.randperm(5).tolist(), pdl.rand_like(pdl.ones(2)).tolist()]  # fmt: skip

    gen = pdl.manual_seed(1234)
    first = draw()
    pdl.manual_seed(1234)
    assert draw() == first
    pdl.manual_seed(4321)
    assert draw() != first
    gen.manual_seed(1234)
    assert draw() == first
    assert isinstance(pdl.seed(), int)


def test_random_errors() -> None:
    with pytest.raises(RuntimeError):
        pdl.rand(2, dtype=pdl.int64)
    with pytest.raises(RuntimeError):
        pdl.randn_like(pdl.ones(2, dtype=pdl.int64))
    with pytest.raises(RuntimeError):
        pdl.randint(5, 5, (2,))
    with pytest.raises(TypeError):
        pdl.randint(5)


# ----- Size ----------------------------------------------------------------------------------------


def test_size_like_torch() -> None:
    p, t = pdl.Size([2, 3]), torch.Size([2, 3])
    assert repr(p) == repr(t).replace("torch.", "portable_dl.")
    assert repr(pdl.Size([])) == "portable_dl.Size([])"
    assert p == t == (2, 3) and p == [2, 3] or p == (2, 3)
    assert isinstance(p, tuple) and p.numel() == t.numel() == 6 and pdl.Size([]).numel() == 1
    assert isinstance(p[1:], pdl.Size) and p[1:] == (3,)
    assert type(p[0]) is int and p[-1] == 3
    assert isinstance(p + (4,), pdl.Size) and p + (4,) == (2, 3, 4)
    assert isinstance((1,) + p, pdl.Size) and (1,) + p == (1, 2, 3)
    assert isinstance(p * 2, pdl.Size) and p * 2 == (2, 3, 2, 3)
    assert p.count(2) == 1 and p.index(3) == 1
    assert len(p) == 2 and list(p) == [2, 3]
    x = pdl.zeros(2, 3, 4)
    assert isinstance(x.shape, pdl.Size) and isinstance(x.size(), pdl.Size)
    assert x.size(1) == 3 and x.size(-1) == 4 and x.shape[0] == 2
    assert pdl.zeros(x.shape).shape == x.shape
    assert pdl.zeros(*x.shape).shape == x.shape
