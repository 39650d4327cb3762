"""The Tensor API against PyTorch: conversions, host interop (NumPy, DLPack), Python protocols and repr."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import portable_dl as pdl

NAMES = ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"]


def name_of(dt: object) -> str:
    return str(dt).split(".")[-1]


def has_method(name: str) -> bool:
    return hasattr(pdl.Tensor, name)


needs_unbind = pytest.mark.skipif(not has_method("unbind"), reason="Tensor.unbind (shape ops) not implemented yet")
needs_reshape = pytest.mark.skipif(not has_method("reshape"), reason="Tensor.reshape (shape ops) not implemented yet")


# ----- metadata --------------------------------------------------------------------------------------


def test_metadata_like_torch() -> None:
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    p, t = pdl.tensor(data), torch.tensor(data)
    assert p.shape == t.shape and p.size() == t.size() and p.size(-2) == t.size(-2)
    assert p.dim() == p.ndim == p.ndimension() == t.dim()
    assert p.numel() == p.nelement() == t.numel() == pdl.numel(p)
    assert p.stride() == t.stride() and p.stride(1) == t.stride(1)
    assert p.is_contiguous() and p.element_size() == t.element_size() and p.nbytes == t.nbytes
    assert p.itemsize == t.itemsize
    assert not p.is_complex() and p.is_floating_point()
    assert pdl.is_tensor(p) and not pdl.is_tensor(data)
    with pytest.raises(IndexError, match="Dimension out of range"):
        p.size(3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        p.stride(-4)


def test_len() -> None:
    assert len(pdl.zeros(4, 2)) == len(torch.zeros(4, 2)) == 4
    assert len(pdl.zeros(0)) == 0
    with pytest.raises(TypeError, match="0-d"):
        len(pdl.tensor(1.0))


@needs_unbind
def test_iter() -> None:
    data = np.arange(6.0).reshape(3, 2)
    rows = list(pdl.tensor(data))
    assert len(rows) == 3 and all(isinstance(r, pdl.Tensor) for r in rows)
    assert [r.tolist() for r in rows] == [r.tolist() for r in torch.tensor(data)]
    assert [x.item() for x in pdl.tensor([1, 2, 3])] == [1, 2, 3]
    assert list(pdl.zeros(0, 2)) == []
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    a, b = x
    (a * 3 + b).backward()
    assert x.grad.tolist() == [3.0, 1.0]


def test_iter_0d_raises() -> None:
    with pytest.raises(TypeError, match="0-d"):
        iter(pdl.tensor(1.0))


# ----- to / casts --------------------------------------------------------------------------------------


def test_to_dtype_device_tensor() -> None:
    x = pdl.tensor([1.5, -2.5])
    assert x.to(pdl.float32) is x and x.to("cpu") is x and x.cpu() is x and x.float() is x
    assert x.to(pdl.device("cpu")) is x and x.to(device="cpu", dtype=pdl.float32) is x
    assert x.to(pdl.float32, copy=True) is not x
    assert x.to(pdl.float64).dtype is pdl.float64
    assert x.to("cpu", pdl.int32).dtype is pdl.int32
    assert x.to(dtype=pdl.int64).tolist() == [1, -2]
    assert x.to(pdl.ones(1, dtype=pdl.int16)).dtype is pdl.int16
    assert x.type_as(pdl.ones(1, dtype=pdl.float16)).dtype is pdl.float16
    assert x.type(pdl.float64).dtype is pdl.float64
    assert x.type() == torch.tensor([1.5]).type()
    with pytest.raises(TypeError):
        x.to(3.5)


@pytest.mark.parametrize("method", ["float", "double", "half", "long", "int", "short", "char", "byte", "bool"])
def test_cast_methods(method: str) -> None:
    data = np.array([0.0, 1.7, 2.2, 100.0], dtype=np.float32)
    p, t = getattr(pdl.tensor(data), method)(), getattr(torch.tensor(data), method)()
    assert p.dtype.name == name_of(t.dtype)
    np.testing.assert_array_equal(p.numpy(), t.numpy())


def test_cast_is_differentiable() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.requires_grad and y.grad_fn.name() == "ToCopyBackward0"
    (y * y).backward(pdl.ones(2, dtype=pdl.float64))
    assert x.grad.dtype is pdl.float32 and x.grad.tolist() == [2.0, 4.0]
    assert not x.long().requires_grad  # integer results never require grad


def test_clone_and_contiguous() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0" and c.data_ptr() != x.data_ptr()
    assert pdl.clone(x).tolist() == [1.0, 2.0]
    assert x.contiguous() is x


# ----- host values -----------------------------------------------------------------------------------


def test_numpy() -> None:
    x = pdl.tensor([1.0, 2.0])
    a = x.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    a[0] = 5.0  # shares memory, like torch
    assert x.tolist() == [5.0, 2.0]
    r = pdl.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        r.numpy()
    assert r.detach().numpy().tolist() == [1.0]
    assert r.numpy(force=True).tolist() == [1.0]
    for name in NAMES:
        assert (
            pdl.zeros(2, dtype=getattr(pdl, name)).numpy().dtype
            == torch.zeros(2, dtype=getattr(torch, name)).numpy().dtype
        )


def test_item_and_tolist() -> None:
    for data in (3, 2.5, True, [[1, 2]], [1.5], np.array(7, np.uint8), np.array([2.5], np.float16)):
        p, t = pdl.tensor(data), torch.tensor(data)
        assert p.tolist() == t.tolist() and type(p.tolist()) is type(t.tolist())
        if t.numel() == 1:
            assert p.item() == t.item() and type(p.item()) is type(t.item())
    nested = pdl.tensor([[1.0, 2.0], [3.0, 4.0]]).tolist()
    assert nested == [[1.0, 2.0], [3.0, 4.0]] and type(nested[0][0]) is float
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        pdl.ones(2).item()
    assert pdl.tensor([1.0], requires_grad=True).tolist() == [1.0]
    assert pdl.tensor(2.5, requires_grad=True).item() == 2.5


def test_array_protocol() -> None:
    x = pdl.tensor([[1, 2], [3, 4]], dtype=pdl.int32)
    a = np.asarray(x)
    assert a.dtype == np.int32 and a.tolist() == [[1, 2], [3, 4]]
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert np.array(pdl.tensor(2.5)).item() == 2.5
    assert np.sum(np.asarray(pdl.ones(3))) == 3.0


@pytest.mark.parametrize("scalar", [np.float32(2.0), np.float64(2.0), np.int64(2), np.float16(3.0), np.int32(3)])
def test_numpy_scalars_act_like_python_scalars(scalar: object) -> None:
    """``tensor * np.float32(2)`` gives a Tensor of torch's dtype (not a NumPy array via __array__)."""
    ops = [lambda a: a * scalar, lambda a: scalar * a, lambda a: a + scalar, lambda a: scalar - a,
           lambda a: a / scalar, lambda a: scalar / a, lambda a: a**scalar, lambda a: a // scalar,
           lambda a: a < scalar, lambda a: scalar < a, lambda a: a == scalar]  # fmt: skip
    for data in (np.array([1.0, 2.0], np.float32), np.array([1, 2])):
        for fn in ops:
            ours, theirs = fn(pdl.tensor(data)), fn(torch.tensor(data))
            assert isinstance(ours, pdl.Tensor), type(ours)
            assert ours.dtype.name == name_of(theirs.dtype) and ours.tolist() == theirs.tolist()


def test_python_scalar_conversions() -> None:
    assert float(pdl.tensor([2.5])) == 2.5 and int(pdl.tensor([[2.7]])) == int(torch.tensor([[2.7]]))
    assert int(pdl.tensor(-2.7)) == int(torch.tensor(-2.7)) == -2
    assert bool(pdl.tensor(0.0)) is False and bool(pdl.tensor([3])) is True
    assert complex(pdl.tensor(2.0)) == 2 + 0j
    assert [10, 20, 30][pdl.tensor(1)] == 20 and [10, 20][pdl.tensor([1])] == 20
    assert f"{pdl.tensor(2.5):.2f}" == f"{torch.tensor(2.5):.2f}" == "2.50"
    assert f"{pdl.tensor([1.0])}" == "tensor([1.])"
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(pdl.ones(2))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(pdl.tensor([]))
    with pytest.raises(ValueError, match="only one element tensors"):
        float(pdl.ones(2, 3))
    with pytest.raises(ValueError, match="only one element tensors"):
        int(pdl.ones(2))
    with pytest.raises(TypeError):
        [1, 2][pdl.tensor(1.0)]


def test_hash_identity_and_deepcopy() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    assert hash(x) == id(x) and len({x, x}) == 1
    y = copy.deepcopy(x)
    assert y is not x and y.requires_grad and y.tolist() == x.tolist() and y.data_ptr() != x.data_ptr()
    with pytest.raises(TypeError):
        pickle.dumps(x)


def test_data_property() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.data_ptr() == x.data_ptr()
    d.add_(1)  # in place through .data: no autograd error
    assert x.tolist() == [2.0, 3.0]
    x.data = pdl.tensor([7.0, 8.0])
    assert x.tolist() == [7.0, 8.0] and x.requires_grad


# ----- DLPack ----------------------------------------------------------------------------------------


def test_dlpack_with_numpy() -> None:
    x = pdl.arange(6.0)
    a = np.from_dlpack(x)
    assert a.ctypes.data == x.data_ptr()
    a[0] = 9.0
    assert x.tolist()[0] == 9.0
    n = np.arange(3, dtype=np.int16)
    y = pdl.from_dlpack(n)
    assert y.dtype is pdl.int16 and y.data_ptr() == n.ctypes.data
    assert pdl.from_dlpack(x).data_ptr() == x.data_ptr()


@pytest.mark.parametrize("name", NAMES)
def test_dlpack_with_torch(name: str) -> None:
    data = np.array([0, 1, 2, 3], dtype=np.bool_ if name == "bool" else name)
    p = pdl.tensor(data)
    t = torch.from_dlpack(p)
    assert t.dtype == getattr(torch, name) and t.data_ptr() == p.data_ptr()
    np.testing.assert_array_equal(t.numpy(), data)
    src = torch.tensor(data)
    q = pdl.from_dlpack(src)
    assert q.dtype is getattr(pdl, name) and q.data_ptr() == src.data_ptr()


def test_dlpack_memory_is_shared_with_torch() -> None:
    src = torch.arange(4.0)
    q = pdl.from_dlpack(src)
    src[0] = 5.0
    assert q.tolist() == [5.0, 1.0, 2.0, 3.0]
    q.mul_(2)
    assert src.tolist() == [10.0, 2.0, 4.0, 6.0]
    strided = pdl.from_dlpack(torch.arange(6.0).reshape(2, 3).t())
    assert strided.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    assert pdl.from_dlpack(torch.tensor(2.5)).item() == 2.5


def test_dlpack_requires_grad_refused_like_torch() -> None:
    with pytest.raises(BufferError):
        torch.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(BufferError):
        pdl.ones(2, requires_grad=True).__dlpack__()
    assert torch.from_dlpack(pdl.ones(2, requires_grad=True).detach()).tolist() == [1.0, 1.0]


# ----- repr ------------------------------------------------------------------------------------------

rng = np.random.default_rng(0)
REPR_DATA = {
    "ints": np.array([1, 2, 3]),
    "ints_wide": np.array([100, -5, 3]),
    "whole_floats": np.array([1.0, 2.0, 3.0], np.float32),
    "neg_whole": np.array([-1.0, 2.0], np.float32),
    "fractions": np.array([1.5, 2.25], np.float32),
    "neg_fractions": np.array([-1.5, 2.0], np.float32),
    "mixed_mag": np.array([0.1, 0.25, 100.5], np.float32),
    "small": np.array([1e-5, 1.0], np.float32),
    "tiny": np.array([1e-20, 0.0], np.float32),
    "large": np.array([1e8, 1.0], np.float32),
    "huge": np.array([1e10], np.float32),
    "thousands": np.array([1000.5, 2.0], np.float32),
    "ten_thousands": np.array([10000.5, 2.0], np.float32),
    "millions": np.array([1234567.0, 0.5], np.float32),
    "nan": np.array([np.nan, 1.0], np.float32),
    "inf": np.array([np.inf, -1.0], np.float32),
    "nan_frac": np.array([np.nan, 1.5, -np.inf], np.float32),
    "all_nonfinite": np.array([np.nan, np.inf], np.float32),
    "zeros": np.zeros(3, np.float32),
    "signed_zero": np.array([0.0, -0.0], np.float32),
    "scalar_float": np.array(3.0, np.float32),
    "scalar_frac": np.array(0.5, np.float32),
    "scalar_int": np.array(-2),
    "scalar_bool": np.array(True),
    "scalar_big": np.array(1e20, np.float32),
    "scalar_small": np.array(1e-20, np.float32),
    "bools": np.array([True, False]),
    "bool_col": np.array([[True], [False]]),
    "all_true": np.array([True, True]),
    "float64": np.array([1.0, 2.5]),
    "float64_scalar": np.array(2.5),
    "float16": np.array([1.5, 65504.0], np.float16),
    "int32": np.array([1, 2], np.int32),
    "uint8": np.array([1, 255], np.uint8),
    "int8": np.array([-128, 5], np.int8),
    "int16": np.array([[1, -2], [3, 4]], np.int16),
    "matrix_int": np.array([[1, 2], [3, 4]]),
    "matrix_float": np.array([[1.5, 2], [3, 4]], np.float32),
    "cube": np.ones((2, 3, 2), np.float32),
    "four_d": np.arange(16, dtype=np.float32).reshape(2, 2, 2, 2) / 3,
    "randn": rng.standard_normal((3, 4)).astype(np.float32),
    "randn_big": (rng.standard_normal((5, 3)) * 1e5).astype(np.float32),
    "long_row": np.ones(40, np.float32),
    "long_frac_row": (np.arange(30, dtype=np.float32) / 7),
    "long_int_row": np.arange(50),
    "summarized_float": np.arange(2000, dtype=np.float32),
    "summarized_int": np.arange(2000),
    "summarized_2d": np.arange(3000, dtype=np.float32).reshape(50, 60) / 7,
    "summarized_3d": np.arange(2400).reshape(10, 12, 20),
    "summarized_rows": np.ones((1001, 1), np.float32),
    "empty": np.zeros(0, np.float32),
    "empty_2d": np.zeros((0, 3), np.float32),
    "empty_2d_b": np.zeros((2, 0), np.float32),
    "empty_int": np.zeros(0, np.int64),
    "empty_float64": np.zeros(0, np.float64),
    "empty_int32_2d": np.zeros((3, 0), np.int32),
    "empty_bool": np.zeros(0, np.bool_),
}


@pytest.mark.parametrize("key", list(REPR_DATA))
def test_repr_matches_torch(key: str) -> None:
    data = REPR_DATA[key]
    expected = repr(torch.tensor(data)).replace("torch.", "portable_dl.")
    assert repr(pdl.tensor(data)) == expected
    assert str(pdl.tensor(data)) == expected


def _grad_cases(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    s = m.tensor(1.5, requires_grad=True)
    d = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
    return {
        "leaf": x, "leaf_0d": s, "leaf_f64": d, "leaf_empty": m.zeros(0, requires_grad=True),
        "add": x + 1, "add_t": x + x, "mul": x * 2, "sub": x - 3, "div": x / 3, "neg": -x, "pow": x**2,
        "pow_t": x**x, "rpow": 2**x, "cast": x.double(), "clone": x.clone(), "f64_mul": d * 2,
        "0d_mul": s * s, "expand": x.expand(3, 2), "detached": (x * 2).detach(),
        "long_grad": m.tensor([1.123456] * 14, requires_grad=True) * 1,
    }  # fmt: skip


@pytest.mark.parametrize("key", list(_grad_cases(pdl)))
def test_repr_autograd_suffixes(key: str) -> None:
    ours, theirs = _grad_cases(pdl)[key], _grad_cases(torch)[key]
    assert repr(ours) == repr(theirs).replace("torch.", "portable_dl.")


def test_repr_no_grad_result() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    with pdl.no_grad():
        y = x * 2
    assert repr(y) == "tensor([2., 4.])"


def test_repr_custom_function_name() -> None:
    class Square(pdl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g

    class TSquare(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g

    ours = Square.apply(pdl.tensor([1.0, 2.0], requires_grad=True))
    theirs = TSquare.apply(torch.tensor([1.0, 2.0], requires_grad=True))
    assert repr(ours) == repr(theirs).replace("TSquare", "Square")


def test_repr_default_dtype_float64() -> None:
    pdl.set_default_dtype(pdl.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for data in (np.array([1.5], np.float64), np.array([1.5], np.float32), np.zeros(0, np.float64)):
            assert repr(pdl.tensor(data)) == repr(torch.tensor(data)).replace("torch.", "portable_dl.")
    finally:
        pdl.set_default_dtype(pdl.float32)
        torch.set_default_dtype(torch.float32)


@needs_reshape
def test_repr_reshaped_view() -> None:
    data = np.arange(12.0, dtype=np.float32)
    assert repr(pdl.tensor(data).reshape(3, 4)) == repr(torch.tensor(data).reshape(3, 4))
