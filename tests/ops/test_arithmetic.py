"""Arithmetic operators against PyTorch: values, dtypes, broadcasting, gradients."""

from __future__ import annotations

import numpy as np
import pytest

from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)
SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1, 3), (2, 1)), ((), (3,)), ((0, 3), (3,))]


@pytest.mark.parametrize("a_shape,b_shape", SHAPES)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_parity(op: str, a_shape: tuple, b_shape: tuple, device: str) -> None:
    fn = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b}[op]  # fmt: skip
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = (rng.standard_normal(b_shape) + 3).astype(np.float32)
    parity(fn, [a, b], device=device, double=True)


def test_pow_parity(device: str) -> None:
    a = (rng.random((3, 4)) + 0.5).astype(np.float32)
    b = rng.standard_normal((4,)).astype(np.float32)
    parity(lambda x, y: x**y, [a, b], device=device, double=True)
    parity(lambda x: x**3, [a], device=device, double=True)
    parity(lambda x: 2.0**x, [b], device=device, double=True)


@pytest.mark.parametrize("scalar", [2, 2.5, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_])
def test_scalar_promotion(dtype: type, scalar: object) -> None:
    a = (rng.random((3,)) * 5).astype(dtype)
    for fn in (lambda x: x + scalar, lambda x: scalar * x, lambda x: x / 2, lambda x: x > scalar):
        parity(fn, [a], grad=False)


@pytest.mark.parametrize("da,db", [(np.float32, np.float64), (np.int32, np.float32), (np.uint8, np.int8),
                                   (np.bool_, np.int16), (np.float16, np.float32)])  # fmt: skip
def test_tensor_promotion(da: type, db: type) -> None:
    a = (rng.random((2, 3)) * 4).astype(da)
    b = (rng.random((3,)) * 4 + 1).astype(db)
    parity(lambda x, y: x + y, [a, b], grad=False)
    parity(lambda x, y: x * y[0], [a, b], grad=False)


def test_finite_differences() -> None:
    a = rng.standard_normal((3, 2))
    b = rng.standard_normal((2,)) + 3
    gradcheck(lambda x, y: x * y / (x + y), [a, b], double=True)
