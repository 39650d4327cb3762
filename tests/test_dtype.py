"""dtypes and type promotion against PyTorch: promote_types, result_type and the dtypes ops actually produce."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import portable_dl as pdl

NAMES = ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"]
PAIRS = list(itertools.product(NAMES, NAMES))
SCALARS = [True, False, 2, -3, 300, 2.5, -0.5]
BINARY = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "sub": lambda a, b: a - b,
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "ge": lambda a, b: a >= b,
}


def tdt(name: str) -> torch.dtype:
    return getattr(torch, name)


def pdt(name: str) -> pdl.dtype:
    return getattr(pdl, name)


def name_of(dt: object) -> str:
    return str(dt).split(".")[-1]


def values(name: str, zero_dim: bool) -> np.ndarray:
    """Small non-zero values representable in every dtype."""
    data = np.array(1 if zero_dim else [1, 2, 3])
    return data.astype(np.bool_ if name == "bool" else name)


def pair(name: str, zero_dim: bool) -> tuple:
    data = values(name, zero_dim)
    return pdl.tensor(data), torch.tensor(data)


class Outcome:
    """The dtype and values of fn(*args), or the kind of error it raised; == compares values approximately
    (half precision results may differ in the last bit: torch computes some of them in float32)."""

    def __init__(self, fn, *args) -> None:
        self.values = None
        try:
            out = fn(*args)
        except (RuntimeError, TypeError) as err:
            self.kind = "error " + ("RuntimeError" if isinstance(err, RuntimeError) else "TypeError")
            return
        self.kind = name_of(out.dtype)
        self.values = np.asarray(out.numpy(), dtype=np.float64)

    def __eq__(self, other: object) -> bool:
        assert isinstance(other, Outcome)
        if self.kind != other.kind:
            return False
        if self.values is None:
            return True
        return self.values.shape == other.values.shape and np.allclose(
            self.values, other.values, rtol=1e-3 if self.kind == "float16" else 1e-6, equal_nan=True
        )

    def __repr__(self) -> str:
        return f"{self.kind} {self.values}"


outcome = Outcome


def test_dtype_objects() -> None:
    for name in NAMES:
        d, t = pdt(name), tdt(name)
        assert d.name == name
        assert repr(d) == repr(t).replace("torch.", "portable_dl.")
        assert d.is_floating_point == t.is_floating_point
        assert d.is_signed == t.is_signed
        assert d.itemsize == t.itemsize
        assert d.is_complex is False
    assert pdl.float is pdl.float32 and pdl.double is pdl.float64 and pdl.half is pdl.float16
    assert pdl.long is pdl.int64 and pdl.int is pdl.int32 and pdl.short is pdl.int16
    assert pdl.bool.name == "bool"


def test_python_types_as_dtype() -> None:
    # torch maps the Python types float/int/bool to float64/int64/bool
    for py in (float, int, bool):
        assert pdl.zeros(2, dtype=py).dtype.name == name_of(torch.zeros(2, dtype=py).dtype)
        assert pdl.tensor([1, 0], dtype=py).dtype.name == name_of(torch.tensor([1, 0], dtype=py).dtype)


@pytest.mark.parametrize("a,b", PAIRS)
def test_promote_types(a: str, b: str) -> None:
    assert pdl.promote_types(pdt(a), pdt(b)).name == name_of(torch.promote_types(tdt(a), tdt(b)))


@pytest.mark.parametrize("a,b", PAIRS)
def test_result_type_tensor_pairs(a: str, b: str) -> None:
    for za, zb in itertools.product([False, True], repeat=2):
        pa, ta = pair(a, za)
        pb, tb = pair(b, zb)
        expected = name_of(torch.result_type(ta, tb))
        assert pdl.result_type(pa, pb).name == expected, (a, za, b, zb)


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("zero_dim", [False, True])
def test_result_type_with_scalars(a: str, zero_dim: bool) -> None:
    pa, ta = pair(a, zero_dim)
    for s in SCALARS:
        assert pdl.result_type(pa, s).name == name_of(torch.result_type(ta, s)), s
        assert pdl.result_type(s, pa).name == name_of(torch.result_type(s, ta)), s


@pytest.mark.parametrize("a,b", PAIRS)
def test_binary_op_dtypes_tensor_tensor(a: str, b: str) -> None:
    for za, zb in itertools.product([False, True], repeat=2):
        pa, ta = pair(a, za)
        pb, tb = pair(b, zb)
        for name, fn in BINARY.items():
            assert outcome(fn, pa, pb) == outcome(fn, ta, tb), (name, a, za, b, zb)


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("zero_dim", [False, True])
def test_binary_op_dtypes_tensor_scalar(a: str, zero_dim: bool) -> None:
    pa, ta = pair(a, zero_dim)
    for s in SCALARS:
        for name, fn in BINARY.items():
            assert outcome(fn, pa, s) == outcome(fn, ta, s), (name, a, s)
            assert outcome(fn, s, pa) == outcome(fn, s, ta), (name, s, a)


def test_integer_division_is_float() -> None:
    i = pdl.tensor([1, 2, 3])
    assert (i / 2).dtype is pdl.float32
    assert (i / i).dtype is pdl.float32
    assert pdl.div(i, 2).dtype is pdl.float32
    assert (2 / i).dtype is pdl.float32
    assert (pdl.tensor([1, 2], dtype=pdl.uint8) / pdl.tensor([True, True])).dtype is pdl.float32
    np.testing.assert_allclose((i / 2).numpy(), [0.5, 1.0, 1.5])
    pdl.set_default_dtype(pdl.float64)
    try:
        assert (i / 2).dtype is pdl.float64
    finally:
        pdl.set_default_dtype(pdl.float32)


def test_small_int_scalars_wrap_like_torch() -> None:
    # out-of-range Python ints wrap around in the tensor's dtype (torch semantics, not a NumPy OverflowError)
    data = np.array([1, 200], dtype=np.uint8)
    for fn in (lambda x: x + (-3), lambda x: x * -1, lambda x: x - 1, lambda x: x < -3, lambda x: x > 300,
               lambda x: x == 257, lambda x: x + 300):  # fmt: skip
        assert outcome(fn, pdl.tensor(data)) == outcome(fn, torch.tensor(data))
    data8 = np.array([1, -100], dtype=np.int8)
    assert outcome(lambda x: x + 300, pdl.tensor(data8)) == outcome(lambda x: x + 300, torch.tensor(data8))


@pytest.mark.parametrize("a,b", PAIRS)
def test_inplace_promotion(a: str, b: str) -> None:
    """``a.add_(b)`` keeps a's dtype, or raises when the result type can't be cast back (like torch)."""
    for zb in (False, True):
        for op in ("add_", "mul_"):
            pa, ta = pair(a, False)
            pb, tb = pair(b, zb)
            expected = outcome(lambda x, y, op=op: getattr(x, op)(y), ta, tb)
            got = outcome(lambda x, y, op=op: getattr(x, op)(y), pa, pb)
            assert got == expected, (op, a, b, zb)
            if not expected.kind.startswith("error"):
                assert pa.dtype.name == a


def test_inplace_float_scalar_into_int_tensor() -> None:
    i = pdl.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        i += 1.5
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        i.add_(1.5)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        i /= 2
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        pdl.tensor([True]).add_(1)
    assert i.tolist() == [1, 2]  # untouched after the failed in-place ops
    i += 2
    assert i.dtype is pdl.int64 and i.tolist() == [3, 4]
    f = pdl.tensor([1.0, 2.0])
    f += pdl.tensor([1, 1])
    assert f.dtype is pdl.float32 and f.tolist() == [2.0, 3.0]


def test_default_dtype() -> None:
    assert pdl.get_default_dtype() is pdl.float32
    pdl.set_default_dtype(pdl.float64)
    try:
        assert pdl.get_default_dtype() is pdl.float64
        assert pdl.tensor([1.5]).dtype is pdl.float64
        assert pdl.zeros(2).dtype is pdl.float64
        assert pdl.arange(0.0, 1.0, 0.5).dtype is pdl.float64
        assert pdl.result_type(pdl.tensor([1, 2]), 1.5) is pdl.float64
        assert pdl.tensor([1, 2]).dtype is pdl.int64
    finally:
        pdl.set_default_dtype(pdl.float32)
    with pytest.raises(TypeError):
        pdl.set_default_dtype(pdl.int64)
    assert pdl.get_default_dtype() is pdl.float32


def test_is_floating_point() -> None:
    for name in NAMES:
        t = pdl.zeros(2, dtype=pdt(name))
        assert t.is_floating_point() == tdt(name).is_floating_point
        assert pdl.is_floating_point(t) == tdt(name).is_floating_point
        assert t.element_size() == t.itemsize == tdt(name).itemsize
