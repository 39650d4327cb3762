"""Elementwise math against PyTorch: values, dtypes, gradients (incl. double backward), edge values, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import portable_dl as pdl
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)
SHAPES = [(2, 3), (), (0, 3), (4, 1, 3)]


def randn(shape: tuple, dtype: type = np.float32, shift: float = 0.0) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape) + shift, dtype=dtype)


def sample(domain: str, shape: tuple, dtype: type = np.float32) -> np.ndarray:
    """Random inputs inside an op's domain (away from poles and kinks)."""
    if domain == "pos":
        x = rng.uniform(0.5, 2.5, shape)
    elif domain == "unit":
        x = rng.uniform(-0.9, 0.9, shape)
    elif domain == "gt1":
        x = rng.uniform(1.2, 3.0, shape)
    elif domain == "nonint":
        x = rng.uniform(-3, 3, shape)
        x = np.where(np.abs(x - np.round(x)) < 0.1, x + 0.25, x)
    else:
        x = rng.standard_normal(shape)
        x = np.where(np.abs(x) < 0.05, 0.3, x)  # keep away from kinks at 0
    return np.asarray(x, dtype=dtype)


# name -> input domain
UNARY = {
    "exp": "real", "exp2": "real", "expm1": "real", "log": "pos", "log2": "pos", "log10": "pos", "log1p": "pos",
    "sqrt": "pos", "rsqrt": "pos", "sin": "real", "cos": "real", "tan": "unit", "tanh": "real", "sigmoid": "real",
    "erf": "real", "reciprocal": "pos", "asin": "unit", "acos": "unit", "atan": "real", "sinh": "real",
    "cosh": "real", "asinh": "real", "acosh": "gt1", "atanh": "unit", "abs": "real", "sign": "real",
    "sgn": "real", "floor": "nonint", "ceil": "nonint", "round": "nonint", "trunc": "nonint", "fix": "nonint",
    "frac": "nonint", "square": "real", "absolute": "real", "arcsin": "unit", "arccos": "unit", "arctan": "real",
    "arcsinh": "real", "arccosh": "gt1", "arctanh": "unit", "nan_to_num": "real",
}  # fmt: skip
SMOOTH = [n for n in UNARY if n not in ("sign", "sgn", "floor", "ceil", "round", "trunc", "fix")]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_parity(name: str, shape: tuple, device: str) -> None:
    x = sample(UNARY[name], shape)
    parity(lambda t: getattr(t, name)(), [x], device=device, double=True)
    parity(lambda t: getattr(pdl, name)(t), [x], lambda t: getattr(torch, name)(t), device=device)


@pytest.mark.parametrize("name", SMOOTH)
def test_unary_gradcheck(name: str) -> None:
    x = sample(UNARY[name], (3, 2), np.float64)
    gradcheck(lambda t: getattr(t, name)(), [x], double=True)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_float64_and_half(name: str, device: str) -> None:
    parity(lambda t: getattr(t, name)(), [sample(UNARY[name], (5,), np.float64)], device=device, double=True)
    parity(lambda t: getattr(t, name)(), [sample(UNARY[name], (5,), np.float16)], device=device)


EDGE = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 100.0, -100.0, 1e-30, -3.5, 2.5],
                dtype=np.float32)  # fmt: skip


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_edge_values(name: str, device: str) -> None:
    """inf, nan, +-0, domain boundaries, overflow: same values and gradients as torch, and no NumPy warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parity(lambda t: getattr(t, name)(), [EDGE], device=device)


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.int8, np.bool_])
def test_unary_integer_inputs(name: str, dtype: type) -> None:
    x = np.array([0, 1, 2, 3], dtype=dtype)
    try:
        expected = getattr(torch, name)(torch.from_numpy(x))
    except (RuntimeError, NotImplementedError):
        with pytest.raises(RuntimeError):
            getattr(pdl, name)(pdl.tensor(x))
        return
    parity(lambda t: getattr(t, name)(), [x], grad=False)
    assert getattr(pdl, name)(pdl.tensor(x)).dtype.name == str(expected.dtype).replace("torch.", "")


@pytest.mark.parametrize("name", [n for n in UNARY if n not in ("sign", "sgn", "absolute", "nan_to_num")])
def test_unary_inplace(name: str) -> None:
    x = sample(UNARY[name], (2, 3))

    def fn(t: object) -> object:
        y = t * 1.0
        out = getattr(y, name + "_")()
        assert out is y
        return y

    if name in ("asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh"):  # torch has no in-place derivative
        parity(fn, [x], lambda t: getattr(t, name)(), double=True)
        return
    parity(fn, [x], double=True)
    if hasattr(torch, name + "_"):  # the torch.op_ functions
        parity(lambda t: getattr(pdl, name + "_")(t * 1.0), [x], lambda t: getattr(torch, name + "_")(t * 1.0))


def test_inplace_rules() -> None:
    leaf = pdl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.exp_()
    ints = pdl.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        ints.exp_()
    y = pdl.tensor(1.5) * 2  # a 0-d result (its data a NumPy scalar) written in place
    y.floor_()
    assert y.item() == 3.0
    z = pdl.tensor([0.5, 1.5])
    z.sign_()
    z.clamp_(max=0.7)
    assert z.tolist() == [0.699999988079071, 0.699999988079071]


def test_out_argument() -> None:
    x = pdl.tensor([1.0, 4.0])
    out = pdl.empty(2)
    assert pdl.sqrt(x, out=out) is out
    assert out.tolist() == [1.0, 2.0]
    out = pdl.empty(0)
    pdl.clamp(x, 2.0, 3.0, out=out)
    assert out.tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match="out="):
        pdl.exp(pdl.tensor([1.0], requires_grad=True), out=pdl.empty(1))


def test_unary_errors() -> None:
    with pytest.raises(TypeError, match="must be Tensor"):
        pdl.exp([1.0, 2.0])
    with pytest.raises(NotImplementedError, match="frac"):
        pdl.frac(pdl.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="Bool"):
        pdl.abs(pdl.tensor([True]))
    with pytest.raises(RuntimeError, match="round"):
        pdl.round(pdl.tensor([1, 2]), decimals=1)


# ----- rounding, nan_to_num, predicates -------------------------------------------------------------------
@pytest.mark.parametrize("decimals", [0, 1, 3, -1, -2])
def test_round_decimals(decimals: int, device: str) -> None:
    x = np.array([2.5, 3.5, -0.5, 1234.5678, 1.2345678, -0.05, np.inf, np.nan, 0.125], dtype=np.float32)
    parity(lambda t: pdl.round(t, decimals=decimals), [x], lambda t: torch.round(t, decimals=decimals),
           device=device, double=True)  # fmt: skip
    parity(lambda t: t.round(decimals=decimals), [x.astype(np.float64)], device=device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_nan_to_num(dtype: type, device: str) -> None:
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -0.0], dtype=dtype)
    parity(lambda t: t.nan_to_num(), [x], device=device, double=True)
    parity(lambda t: t.nan_to_num(nan=1, posinf=2.5), [x], device=device)
    parity(lambda t: t.nan_to_num(1.0, None, -7.0), [x], device=device)
    parity(lambda t: t.nan_to_num(nan=1.5), [np.array([1, 2], dtype=np.int64)], grad=False)


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf"])
def test_predicates(name: str, device: str) -> None:
    parity(lambda t: getattr(t, name)(), [EDGE], device=device)
    parity(lambda t: getattr(pdl, name)(t), [EDGE.astype(np.float16)], lambda t: getattr(torch, name)(t))
    parity(lambda t: getattr(t, name)(), [np.array([1, 2], dtype=np.int32)], grad=False)


# ----- clamp ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (None, 0.3), (-0.2, None), (0.5, -0.5), (0, 1)])
def test_clamp_scalars(shape: tuple, bounds: tuple, device: str) -> None:
    lo, hi = bounds
    x = randn(shape)
    parity(lambda t: t.clamp(lo, hi), [x], device=device, double=True)
    parity(lambda t: t.clip(min=lo, max=hi), [x], device=device)
    if lo is not None:
        parity(lambda t: t.clamp_min(lo), [x], device=device, double=True)
    if hi is not None:
        parity(lambda t: t.clamp_max(hi), [x], device=device, double=True)


def test_clamp_gradient_at_bounds(device: str) -> None:
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, np.nan, np.inf, -np.inf], dtype=np.float32)
    parity(lambda t: t.clamp(-0.5, 0.5), [x], device=device)
    parity(lambda t: torch.clamp(t, min=-0.5) if isinstance(t, torch.Tensor) else pdl.clamp(t, min=-0.5), [x])
    parity(lambda t: t.clamp(max=0.0), [x], device=device)


@pytest.mark.parametrize("shapes", [((2, 3), (3,), (2, 1)), ((3,), (2, 3), ()), ((), (), (4,))])
def test_clamp_tensors(shapes: tuple, device: str) -> None:
    sx, slo, shi = shapes
    x, lo, hi = randn(sx), randn(slo, shift=-0.5), randn(shi, shift=0.5)
    # torch's own backward fails when x is the broadcast operand: expand it there first
    parity(lambda a, b, c: a.clamp(b, c), [x, lo, hi],
           lambda a, b, c: a.expand(torch.broadcast_shapes(a.shape, b.shape, c.shape)).clamp(b, c),
           device=device, double=True)  # fmt: skip
    parity(lambda a, b: a.clamp(min=b), [x, lo], device=device, double=True)
    parity(lambda a, c: a.clamp(max=c), [x, hi], device=device, double=True)
    gradcheck(lambda a, b, c: a.clamp(b, c), [x.astype(np.float64), lo.astype(np.float64), hi.astype(np.float64)])


def test_clamp_ties_and_crossed_tensor_bounds() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0, 0.5], dtype=np.float32)
    lo = np.array([0.0, 2.0, 1.0, 1.0, 1.0], dtype=np.float32)
    hi = np.array([1.0, 1.0, 2.0, 0.0, 1.0], dtype=np.float32)
    parity(lambda a, b, c: a.clamp(b, c), [x, lo, hi], double=True)
    parity(lambda a, c: pdl.clamp_max(a, c), [x, hi], lambda a, c: torch.clamp_max(a, c), double=True)
    parity(lambda a, c: pdl.clamp_min(a, c), [x, lo], lambda a, c: torch.clamp_min(a, c), double=True)


@pytest.mark.parametrize("case", [
    ("int_float", np.int64, 0.5, None), ("int_int", np.int64, 0, 2), ("bool", np.bool_, 0, 1),
    ("uint8_wrap", np.uint8, -1, None), ("f64", np.float64, -0.25, 0.25), ("int32", np.int32, None, 1.5),
])  # fmt: skip
def test_clamp_dtypes(case: tuple) -> None:
    _, dtype, lo, hi = case
    x = np.array([0, 1, 2, 3], dtype=dtype)
    parity(lambda t: t.clamp(lo, hi), [x], grad=False)
    parity(lambda t, b: t.clamp(min=b), [np.array([1, 2, 3], dtype=np.int64), np.array(1.5, dtype=np.float32)],
           grad=False)  # fmt: skip
    parity(lambda t, b: t.clamp(min=b), [np.array([1.0, 2.0], dtype=np.float32), np.array([1.5, 1.5])], grad=False)
    parity(lambda t, b: t.clamp(min=b), [np.array([1.0, 2.0], dtype=np.float32), np.array(1.5)], grad=False)


def test_clamp_errors_and_inplace() -> None:
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        pdl.clamp(pdl.tensor([1.0]))
    x = np.array([-2.0, 0.1, 3.0], dtype=np.float32)
    parity(lambda t: (t * 1).clamp_(-1, 1), [x], double=True)
    parity(lambda t: (t * 1).clip_(max=0.0), [x])
    parity(lambda t: (t * 1).clamp_min_(0.0), [x])
    parity(lambda t: (t * 1).clamp_max_(0.0), [x])
    parity(lambda t: torch.clamp_(t * 1, 0.0, 0.5) if isinstance(t, torch.Tensor) else pdl.clamp_(t * 1, 0.0, 0.5), [x])


# ----- maximum / minimum / atan2 / hypot ---------------------------------------------------------------------
BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1, 3), (2, 1)), ((), (3,)), ((0, 3), (3,)), ((), ())]


@pytest.mark.parametrize("shapes", BINARY_SHAPES)
@pytest.mark.parametrize("name", ["maximum", "minimum", "atan2", "hypot", "arctan2"])
def test_binary_parity(name: str, shapes: tuple, device: str) -> None:
    a, b = randn(shapes[0]), randn(shapes[1])
    parity(lambda x, y: getattr(x, name)(y), [a, b], device=device, double=True)
    parity(lambda x, y: getattr(pdl, name)(x, y), [a, b], lambda x, y: getattr(torch, name)(x, y), device=device)


@pytest.mark.parametrize("name", ["maximum", "minimum", "atan2", "hypot"])
def test_binary_gradcheck(name: str) -> None:
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((2,)) + 0.1
    gradcheck(lambda x, y: getattr(x, name)(y), [a, b], double=True)


def test_maximum_ties_share_gradient(device: str) -> None:
    a = np.array([1.0, 2.0, 3.0, np.nan, 1.0, np.inf, -0.0], dtype=np.float32)
    b = np.array([1.0, 3.0, 2.0, 1.0, np.nan, np.inf, 0.0], dtype=np.float32)
    for name in ("maximum", "minimum"):
        parity(lambda x, y, name=name: getattr(x, name)(y), [a, b], device=device, double=True)
    parity(lambda x, y: x.atan2(y), [a, b], device=device)
    parity(lambda x, y: x.hypot(y), [a, b], device=device)


@pytest.mark.parametrize("dtypes", [(np.int64, np.float32), (np.bool_, np.int32), (np.bool_, np.bool_),
                                    (np.float16, np.float64), (np.int32, np.int64)])  # fmt: skip
def test_binary_promotion(dtypes: tuple) -> None:
    a = np.array([0, 1, 2], dtype=dtypes[0])
    b = np.array([1, 1, 0], dtype=dtypes[1])
    parity(lambda x, y: pdl.maximum(x, y), [a, b], lambda x, y: torch.maximum(x, y), grad=False)
    parity(lambda x, y: pdl.minimum(x, y), [a, b], lambda x, y: torch.minimum(x, y), grad=False)
    if np.bool_ not in dtypes:
        parity(lambda x, y: x.atan2(y), [a, b], grad=False)


def test_binary_errors_and_inplace() -> None:
    with pytest.raises(TypeError, match="must be Tensor"):
        pdl.maximum(pdl.tensor([1.0]), 2.0)
    with pytest.raises(TypeError, match="must be Tensor"):
        pdl.atan2(pdl.tensor([1.0]), 2)
    with pytest.raises(NotImplementedError, match="hypot"):
        pdl.hypot(pdl.tensor([1]), pdl.tensor([2]))
    a, b = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    parity(lambda x, y: (x * 1).atan2_(y), [a, b], double=True)
    parity(lambda x, y: (x * 1).hypot_(y), [a, b], double=True)
    parity(lambda x, y: (x * 1).arctan2_(y), [a, b])


# ----- where ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((3,), (), (2, 3)),
                                    ((), (2,), ()), ((0, 3), (3,), (1,))])  # fmt: skip
def test_where_parity(shapes: tuple, device: str) -> None:
    cond = np.asarray(rng.random(shapes[0]) > 0.5)
    a, b = randn(shapes[1]), randn(shapes[2])
    parity(lambda c, x, y: pdl.where(c, x, y), [cond, a, b], lambda c, x, y: torch.where(c, x, y),
           device=device, double=True)  # fmt: skip
    parity(lambda c, x, y: x.where(c, y), [cond, a, b], device=device, double=True)
    parity(lambda c, x: pdl.where(c, x, 0.5), [cond, a], lambda c, x: torch.where(c, x, 0.5), device=device)
    parity(lambda c, x: pdl.where(c, -1, x), [cond, a], lambda c, x: torch.where(c, -1, x), device=device)
    gradcheck(lambda x, y: pdl.where(pdl.tensor(cond), x, y), [a.astype(np.float64), b.astype(np.float64)],
              double=True)  # fmt: skip


@pytest.mark.parametrize("args", [(1.0, 0.0), (1, 0), (True, 2), ("i", 0.5), ("f", "d"), ("f", 2), ("h", 2.5),
                                  ("f", "h"), ("i", "b"), ("t", "i")])  # fmt: skip
def test_where_promotion(args: tuple) -> None:
    cond = np.array([True, False, True])
    arrays = {"i": np.array([1, -2, 3]), "f": np.array([1.5, -2.0, 3.0], dtype=np.float32),
              "d": np.array([1.0, 2.0, 3.0]), "h": np.array([1.0, 2.0, 0.5], dtype=np.float16),
              "b": np.array([True, False, False]), "t": np.array(1.0, dtype=np.float32)}  # fmt: skip
    values = [arrays.get(v, v) if isinstance(v, str) else v for v in args]
    parity(lambda c, x, y: pdl.where(c, x, y), [cond, *values], lambda c, x, y: torch.where(c, x, y), grad=False)


def test_where_condition_forms() -> None:
    cond = np.array([[True, False], [False, True]])
    parity(lambda c: pdl.where(c), [cond], lambda c: torch.where(c), grad=False)
    with pytest.raises(RuntimeError, match="boolean"):
        pdl.where(pdl.tensor([1, 0]), pdl.tensor([1.0, 2.0]), 0.0)
    with pytest.warns(UserWarning, match="uint8"):
        out = pdl.where(pdl.tensor(np.array([1, 0], dtype=np.uint8)), pdl.tensor([1.0, 2.0]), 0.0)
    assert out.tolist() == [1.0, 0.0]


# ----- lerp ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((3,), (2, 3), ()),
                                    ((), (), ())])  # fmt: skip
def test_lerp_parity(shapes: tuple, device: str) -> None:
    a, b = randn(shapes[0]), randn(shapes[1])
    w = np.asarray(rng.uniform(-0.5, 1.5, shapes[2]), dtype=np.float32)
    parity(lambda x, y, z: x.lerp(y, z), [a, b, w], device=device, double=True)
    parity(lambda x, y, z: pdl.lerp(x, y, z), [a, b, w], lambda x, y, z: torch.lerp(x, y, z), device=device)
    for weight in (0.25, 0.75, -1.0, 2):
        parity(lambda x, y, w=weight: x.lerp(y, w), [a, b], device=device, double=True)
    gradcheck(lambda x, y, z: x.lerp(y, z), [a.astype(np.float64), b.astype(np.float64), w.astype(np.float64)],
              double=True)  # fmt: skip


def test_lerp_errors_and_inplace() -> None:
    f, d = pdl.tensor([1.0, 2.0]), pdl.tensor([1.0, 2.0], dtype=pdl.float64)
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        pdl.lerp(f, d, 0.5)
    with pytest.raises(RuntimeError, match="`weight`"):
        pdl.lerp(f, f, d)
    with pytest.raises(RuntimeError, match="lerp"):
        pdl.lerp(pdl.tensor([1, 2]), pdl.tensor([1, 2]), 0.5)
    a, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    parity(lambda x, y: (x * 1).lerp_(y, 0.3), [a, b], double=True)


# ----- no NumPy warnings; grad_fn names ------------------------------------------------------------------------
def test_no_numpy_warnings_on_special_values() -> None:
    x = pdl.tensor(EDGE, requires_grad=True)
    other = pdl.tensor(EDGE[::-1].copy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = [getattr(x, name)() for name in UNARY]
        outputs += [pdl.clamp(x, 0, 1), pdl.maximum(x, other), pdl.atan2(x, other), pdl.hypot(x, other)]
        for y in outputs:
            pdl.autograd.grad(y, x, pdl.ones_like(y))


def test_grad_fn_names() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    assert x.exp().grad_fn.name() == "ExpBackward0"
    assert x.square().grad_fn.name() == "PowBackward0"
    assert x.clamp(0, 1).grad_fn.name() == "ClampBackward1"
    assert x.clamp(min=x.detach()).grad_fn.name() == "ClampBackward0"
    assert x.clamp_min(0).grad_fn.name() == "ClampMinBackward0"
    assert x.log1p().grad_fn.name() == "Log1PBackward0"
    assert x.lerp(x.detach(), 0.5).grad_fn.name() == "LerpBackward0"
    assert pdl.where(x > 1, x, 0.0).grad_fn.name() == "WhereBackward0"
    assert pdl.round(x, decimals=1).grad_fn.name() == "RoundBackward1"


# ----- erf (the NumPy backend's own implementation) -----------------------------------------------------------
def test_erf_numpy_accuracy() -> None:
    """float64 within ~2 ulp of mpmath on a dense grid with tails and special values; float32 within 1 ulp."""
    mpmath = pytest.importorskip("mpmath")
    from portable_dl.backends.erf import erf_numpy

    mpmath.mp.dps = 30
    grid = np.concatenate([
        np.linspace(-7, 7, 2801), np.geomspace(1e-300, 7, 600), -np.geomspace(5e-324, 7, 300),
        np.array([5.75, 5.875, 5.999999999999999, 6.0, 6.000000000000001, 26.0, 1e300]),
    ])  # fmt: skip
    reference = np.array([float(mpmath.erf(mpmath.mpf(float(v)))) for v in grid])
    got = erf_numpy(grid)
    assert got.dtype == np.float64
    ulps = np.abs(got - reference) / np.spacing(np.abs(reference))
    assert ulps.max() <= 2.0, grid[np.argmax(ulps)]
    special = erf_numpy(np.array([0.0, -0.0, np.inf, -np.inf, np.nan]))
    assert special[:4].tolist() == [0.0, -0.0, 1.0, -1.0] and np.signbit(special[1]) and np.isnan(special[4])
    x32 = grid[np.abs(grid) < 1e30].astype(np.float32)
    got32 = erf_numpy(x32)
    assert got32.dtype == np.float32
    ref32 = np.array([math.erf(float(v)) for v in x32])
    assert (np.abs(got32 - ref32) / np.spacing(np.abs(got32).astype(np.float32))).max() <= 1.0
    half = erf_numpy(np.array([0.5, -2.0], dtype=np.float16))
    assert half.dtype == np.float16 and abs(float(half[0]) - math.erf(0.5)) < 1e-3
    assert erf_numpy(np.float64(0.5)).shape == () and erf_numpy(np.zeros((0, 3))).shape == (0, 3)
    strided = np.linspace(-3, 3, 24).reshape(4, 6)[:, ::2]
    np.testing.assert_array_equal(erf_numpy(strided), erf_numpy(strided.copy()))


def test_erf_tables_reproduce() -> None:
    """The coefficient tables are exactly what the documented mpmath fit gives."""
    pytest.importorskip("mpmath")
    from portable_dl.backends import erf as module

    assert module._fit(0.25, 11, 24) == module._COEF64
    assert module._fit(0.5, 7, 8) == module._COEF32


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_select_matches_numpy_where(dtype: type) -> None:
    """The branch-free blend behind large where()s and masked gradients: bit-identical to np.where."""
    from portable_dl.ops._elementwise import select

    m = rng.random((100, 100)) > 0.5
    a, b = randn((100, 100), dtype), randn((100, 100), dtype)
    a[0, :5] = [np.nan, np.inf, -np.inf, -0.0, 0.0]
    b[0, :5] = [np.nan, -0.0, np.inf, 1, -np.inf]
    zero = np.zeros((), dtype)
    for args in [(a, b), (a, 0), (0, b), (a, zero), (zero, b), (a[:, ::-1], b), (a, 1.0), (a, b[0]), (1.0, 0.0)]:
        got, expected = select(np, m, *args), np.where(m, *args)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))
