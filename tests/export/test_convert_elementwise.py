"""Elementwise converters: every activation module and elementwise op, exported and run in ONNX Runtime (and
ONNX's reference evaluator), against eager portable_dl, on inputs with the kinks, thresholds, NaN and infinities."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import portable_dl as pdl
from portable_dl.export.tracer import TracingError

from .exportcheck import FunctionModule, check_export

nn = pdl.nn
F = pdl.nn.functional
OPSETS = (13, 21)

# kinks and thresholds of the activations below (0, +-0.5, +-1, +-3, 6, 20 ...) and the special values
_EDGES = [np.nan, -np.inf, np.inf, -100, -20, -6, -3, -2.5, -1, -0.7, -0.5, -0.0, 0.0, 0.5, 0.7, 1, 2.5, 2.6, 3, 5,
          6, 19.5, 20, 20.5, 25, 100]  # fmt: skip
_FINITE = [e for e in _EDGES if np.isfinite(e)]


def _rows(edges: list, dtype: object = np.float32, scale: float = 4.0, seed: int = 0) -> object:
    """make_inputs for one (n, len(edges)) input: the edge values in row 0, random values in the rest."""
    rng = np.random.default_rng(seed)

    def make(n: int) -> list:
        x = rng.standard_normal((n, len(edges))) * scale
        x[0] = edges
        return [x.astype(dtype)]

    return make


def _ints(dtype: object, low: int = -9, high: int = 10, k: int = 2, seed: int = 0, nonzero: bool = False) -> object:
    """make_inputs for ``k`` integer (n, 12) inputs."""
    rng = np.random.default_rng(seed)

    def make(n: int) -> list:
        out = []
        for _ in range(k):
            x = rng.integers(low, high, (n, 12))
            if nonzero:
                x[x == 0] = 1
            out.append(x.astype(dtype))
        return out

    return make


def _prelu(n: int) -> nn.Module:
    pdl.manual_seed(0)
    m = nn.PReLU(n)
    m.weight.data.copy_(pdl.tensor(np.linspace(-0.5, 1.5, n).astype(np.float32)))
    return m


# ----- activation modules ------------------------------------------------------------------------------------------
_MODULES = {
    "relu": (lambda: nn.ReLU(), OPSETS),
    "leaky_relu": (lambda: nn.LeakyReLU(0.1), OPSETS),
    "prelu_1": (lambda: _prelu(1), OPSETS),
    "elu": (lambda: nn.ELU(0.5), OPSETS),
    "celu": (lambda: nn.CELU(1.5), OPSETS),
    "selu": (lambda: nn.SELU(), OPSETS),
    "gelu": (lambda: nn.GELU(), (13, 20, 21)),
    "gelu_tanh": (lambda: nn.GELU("tanh"), (13, 20, 21)),
    "silu": (lambda: nn.SiLU(), OPSETS),
    "mish": (lambda: nn.Mish(), (13, 18, 21)),
    "tanh": (lambda: nn.Tanh(), OPSETS),
    "sigmoid": (lambda: nn.Sigmoid(), OPSETS),
    "softplus": (lambda: nn.Softplus(), OPSETS),
    "softplus_beta": (lambda: nn.Softplus(beta=2.0, threshold=5.0), OPSETS),
    "softplus_small_beta": (lambda: nn.Softplus(beta=0.5, threshold=3.0), OPSETS),
    "hardtanh": (lambda: nn.Hardtanh(-2.0, 3.0), OPSETS),
    "relu6": (lambda: nn.ReLU6(), OPSETS),
    "hardswish": (lambda: nn.Hardswish(), (13, 14, 21)),
    "hardsigmoid": (lambda: nn.Hardsigmoid(), OPSETS),
    "softsign": (lambda: nn.Softsign(), OPSETS),
    "tanhshrink": (lambda: nn.Tanhshrink(), OPSETS),
    "threshold": (lambda: nn.Threshold(0.5, -7.0), OPSETS),
    "hardshrink": (lambda: nn.Hardshrink(0.7), OPSETS),
    "softshrink": (lambda: nn.Softshrink(0.7), OPSETS),
    "logsigmoid": (lambda: nn.LogSigmoid(), OPSETS),
    "rrelu_eval": (lambda: nn.RReLU(0.1, 0.3), OPSETS),
}


@pytest.mark.parametrize("name", sorted(_MODULES))
def test_activation_module_float32(name: str) -> None:
    make, opsets = _MODULES[name]
    check_export(make(), _rows(_EDGES), opsets=opsets)


@pytest.mark.parametrize(
    "module", [nn.Softmax(dim=1), nn.LogSoftmax(dim=-1), nn.Softmin(dim=1)], ids=["softmax", "log_softmax", "softmin"]
)
def test_softmax_modules(module: nn.Module) -> None:
    # |x| <= 20: ONNX's reference LogSoftmax is log(softmax(x)), which underflows on wider rows
    check_export(module, _rows([e for e in _FINITE if abs(e) <= 20]), opsets=OPSETS)


def test_prelu_per_channel() -> None:
    rng = np.random.default_rng(3)

    def make(n: int) -> list:
        x = rng.standard_normal((n, 4, 3, 3)).astype(np.float32)
        x[0, :, 0, 0] = [-1.0, 0.0, np.nan, -np.inf]
        return [x]

    check_export(_prelu(4), make, opsets=OPSETS)


_HALF_SAFE = {  # ONNX Runtime lacks float64 Erf, so exact gelu is float32/float16 only
    "elu": lambda: nn.ELU(0.5), "selu": lambda: nn.SELU(), "celu": lambda: nn.CELU(1.5),
    "gelu_tanh": lambda: nn.GELU("tanh"), "silu": lambda: nn.SiLU(), "mish": lambda: nn.Mish(),
    "softplus": lambda: nn.Softplus(beta=2.0, threshold=5.0), "hardswish": lambda: nn.Hardswish(),
    "hardsigmoid": lambda: nn.Hardsigmoid(), "leaky_relu": lambda: nn.LeakyReLU(0.1),
    "hardtanh": lambda: nn.Hardtanh(-2.0, 3.0), "logsigmoid": lambda: nn.LogSigmoid(),
    "hardshrink": lambda: nn.Hardshrink(0.7), "softshrink": lambda: nn.Softshrink(0.7),
    "threshold": lambda: nn.Threshold(0.5, -7.0), "relu": lambda: nn.ReLU(),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(_HALF_SAFE))
@pytest.mark.parametrize("dtype", [np.float16, np.float64])
def test_activation_module_other_floats(name: str, dtype: object) -> None:
    tol = 1e-3 if dtype == np.float16 else 1e-10
    check_export(_HALF_SAFE[name](), _rows(_EDGES, dtype), opsets=(21,), atol=tol, rtol=tol)


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
def test_prelu_other_floats(dtype: object) -> None:
    model = _prelu(1).to(pdl.float16 if dtype == np.float16 else pdl.float64)
    check_export(model, _rows(_EDGES, dtype), opsets=(21,), atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float16(approximate: str) -> None:
    check_export(nn.GELU(approximate), _rows(_EDGES, np.float16), opsets=(13, 20), atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.uint8])
@pytest.mark.parametrize(
    "fn",
    [F.relu, lambda x: F.hardtanh(x, 2, 5), F.relu6, lambda x: F.threshold(x, 1.5, 7), lambda x: F.threshold(x, 2, 7)],
    ids=["relu", "hardtanh", "relu6", "threshold_frac", "threshold_int"],
)
def test_integer_activations(fn: object, dtype: object) -> None:
    low = 0 if dtype == np.uint8 else -9
    check_export(fn, _ints(dtype, low, k=1), opsets=OPSETS)


# ----- selection ---------------------------------------------------------------------------------------------------
_CLAMPS = {
    "both": lambda x: x.clamp(-1.0, 3.0),
    "min": lambda x: pdl.clamp(x, min=-0.5),
    "max": lambda x: x.clamp(max=2.5),
    "crossed": lambda x: x.clamp(2.0, -1.0),  # min > max gives max everywhere
    "clamp_min": lambda x: x.clamp_min(0.0),
    "clamp_max": lambda x: x.clamp_max(0.5),
    "int_bound_on_float": lambda x: x.clamp(-1, 2),
}


@pytest.mark.parametrize("name", sorted(_CLAMPS))
def test_clamp_scalar_bounds(name: str) -> None:
    check_export(_CLAMPS[name], _rows(_EDGES), opsets=OPSETS)


def test_clamp_tensor_bounds() -> None:
    rng = np.random.default_rng(1)

    def make(n: int) -> list:
        x, lo = rng.standard_normal((n, 8)).astype(np.float32), rng.standard_normal(8).astype(np.float32) - 1
        x[0, :3] = [np.nan, np.inf, -np.inf]
        return [x, lo, lo + rng.random(8).astype(np.float32) * 2 - 0.5]  # some hi < lo

    check_export(lambda x, lo, hi: pdl.clamp(x, lo, hi), make, batch_axes={0: [0]}, opsets=OPSETS)
    check_export(lambda x, lo, hi: pdl.clamp(x, min=lo), make, batch_axes={0: [0]}, opsets=OPSETS)
    check_export(
        lambda x, lo, hi: pdl.clamp(x, max=hi) + pdl.clamp(x, lo, 0.5), make, batch_axes={0: [0]}, opsets=OPSETS
    )


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.uint8])
def test_clamp_integers(dtype: object) -> None:
    low = 0 if dtype == np.uint8 else -9
    check_export(lambda x, y: x.clamp(1, 5) + pdl.clamp(x, min=y), _ints(dtype, low), opsets=OPSETS)


def test_clamp_int_tensor_with_float_bound_promotes() -> None:
    check_export(lambda x: x.clamp(min=-1.5), _ints(np.int64, k=1), opsets=OPSETS)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int16, np.uint8, np.bool_])
def test_maximum_minimum(dtype: object) -> None:
    if dtype == np.float32:
        make = _rows(_EDGES, seed=1)
        make2 = _rows(_EDGES[::-1], seed=2)

        def both(n: int) -> list:
            return make(n) + make2(n)
    elif dtype == np.bool_:

        def both(n: int) -> list:
            return [a > 0 for a in _ints(np.int64, -3, 3)(n)]
    else:
        both = _ints(dtype, 0 if dtype == np.uint8 else -9)
    check_export(lambda a, b: (pdl.maximum(a, b), pdl.minimum(a, b)), both, opsets=OPSETS)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int16, np.uint8, np.bool_])
def test_where(dtype: object) -> None:
    rng = np.random.default_rng(4)

    def make(n: int) -> list:
        cond = rng.random((n, 6)) > 0.5
        a = rng.integers(-5, 5, (n, 6)) if dtype != np.float32 else rng.standard_normal((n, 6))
        b = rng.integers(-5, 5, (1, 6))
        if dtype == np.uint8:
            a, b = np.abs(a), np.abs(b)
        if dtype == np.bool_:
            a, b = a > 0, b > 0
        return [cond, a.astype(dtype), b.astype(dtype)]

    scalar = True if dtype == np.bool_ else 3
    fn = lambda c, a, b: (pdl.where(c, a, b), pdl.where(c, a, scalar), pdl.where(c, scalar, b))
    check_export(fn, make, batch_axes={0: [0], 1: [0]}, opsets=OPSETS)


def test_where_scalars_promote() -> None:
    rng = np.random.default_rng(5)

    def make(n: int) -> list:
        return [rng.standard_normal((n, 5)).astype(np.float32), rng.integers(-3, 3, (n, 5))]

    fn = lambda x, i: (pdl.where(x > 0, 1.5, -2.0), pdl.where(x > 0, i, 0.5), pdl.where(i > 0, x, 2))
    check_export(fn, make, opsets=OPSETS)


# ----- comparisons and logic --------------------------------------------------------------------------------------
_COMPARISONS = {
    "eq": lambda a, b: (a == b, a == 0.5, pdl.eq(a, b)),
    "ne": lambda a, b: (a != b, a != 0.5, pdl.ne(a, b)),
    "lt": lambda a, b: (a < b, a < 0.5, pdl.lt(a, b)),
    "le": lambda a, b: (a <= b, a <= 0.5, 0.5 <= a),
    "gt": lambda a, b: (a > b, a > 0.5, pdl.gt(a, b)),
    "ge": lambda a, b: (a >= b, a >= 0.5, 0.5 >= a),
}


def _pairs(dtype: object) -> object:
    if dtype == np.float32:
        rng = np.random.default_rng(6)

        def make(n: int) -> list:
            a = rng.integers(-2, 3, (n, len(_EDGES))).astype(np.float32)
            a[0] = _EDGES
            b = a.copy()
            b[:, ::2] = rng.integers(-2, 3, b[:, ::2].shape)
            return [a, b]

        return make
    if dtype == np.bool_:
        return lambda n: [a > 0 for a in _ints(np.int64, -2, 3, seed=n)(n)]
    return _ints(dtype, 0 if dtype == np.uint8 else -3, 4, seed=7)


@pytest.mark.parametrize("name", sorted(_COMPARISONS))
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int8, np.int16, np.uint8, np.bool_])
def test_comparisons(name: str, dtype: object) -> None:
    fn = _COMPARISONS[name]
    if dtype == np.bool_:
        fn = lambda a, b, _f=fn: _f(a, b)[0::2]
    check_export(fn, _pairs(dtype), opsets=OPSETS)


def test_comparison_of_int_tensor_with_int_and_float_scalars() -> None:
    fn = lambda a, b: (a == 2, a < 2.5, a >= -1, pdl.eq(2, a), a > b.float())
    check_export(fn, _ints(np.int64), opsets=OPSETS)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_logical_ops(dtype: object) -> None:
    def fn(a: object, b: object) -> tuple:
        return (
            pdl.logical_and(a, b), pdl.logical_or(a, b), pdl.logical_xor(a, b), pdl.logical_not(a),
            pdl.logical_and(a, 1.0), pdl.logical_or(a, 0), pdl.logical_xor(a, b.float() if dtype != np.bool_ else b),
        )  # fmt: skip

    check_export(fn, _pairs(dtype), opsets=OPSETS)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.int8, np.uint8])
def test_bitwise_ops_on_integers(dtype: object) -> None:
    def fn(a: object, b: object) -> tuple:
        return a & b, a | b, a ^ b, ~a, a & 6, 5 | b

    check_export(fn, _ints(dtype, 0 if dtype == np.uint8 else -100, 100), opsets=(18, 21))


@pytest.mark.parametrize("dtype", [np.int64, np.int16, np.int8, np.uint8, np.bool_])
def test_bitwise_not_at_every_opset(dtype: object) -> None:
    make = _pairs(np.bool_) if dtype == np.bool_ else _ints(dtype, 0 if dtype == np.uint8 else -128, 127)
    check_export(lambda a, b: (~a, pdl.bitwise_not(b)), make, opsets=(13, 17, 21))


def test_bitwise_ops_on_bool() -> None:
    check_export(lambda a, b: (a & b, a | b, a ^ b), _pairs(np.bool_), opsets=OPSETS)


def test_integer_bitwise_before_opset_18_is_a_clear_error() -> None:
    model = FunctionModule(lambda a, b: a & b)
    args = (pdl.tensor(np.arange(4)), pdl.tensor(np.arange(4)))
    with pytest.raises(TracingError, match="opset"):
        pdl.onnx.export(model, args, io.BytesIO(), opset_version=17)


# ----- integer division and remainders ------------------------------------------------------------------------------
def _dividends(dtype: object) -> object:
    rng = np.random.default_rng(8)
    a_edge = [1.0, -1.0, 7.0, -7.0, 7.5, -7.5, 0.0, 1.0, -1.0, 1.0, np.inf, 3.0, 0.0, -2.0, np.nan, 0.3]
    b_edge = [0.1, 0.1, -2.0, 2.0, 2.0, -2.0, 3.0, 0.0, 0.0, np.inf, 2.0, -np.inf, 0.0, 0.7, 1.0, -0.1]

    def make(n: int) -> list:
        a, b = rng.standard_normal((n, 16)) * 5, rng.standard_normal((n, 16)) * 2
        a[0], b[0] = a_edge, b_edge
        return [a.astype(dtype), b.astype(dtype)]

    return make


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_float_division_modes(dtype: object) -> None:
    def fn(a: object, b: object) -> tuple:
        return (
            a // b, pdl.floor_divide(a, 0.3), pdl.div(a, b, rounding_mode="floor"),
            pdl.div(a, b, rounding_mode="trunc"), pdl.remainder(a, b), pdl.fmod(a, b), a % 0.7, pdl.fmod(a, -1.5),
        )  # fmt: skip

    tol = 1e-3 if dtype == np.float16 else 1e-5
    check_export(fn, _dividends(dtype), opsets=OPSETS, atol=tol, rtol=tol)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.int8, np.uint8])
def test_integer_division_modes(dtype: object) -> None:
    def fn(a: object, b: object) -> tuple:
        return (
            a // b, pdl.div(a, b, rounding_mode="trunc"), pdl.remainder(a, b), pdl.fmod(a, b), a % 3, a // 4,
            pdl.fmod(a, 3), a / b, pdl.div(a, b, rounding_mode="floor"),
        )  # fmt: skip

    check_export(fn, _ints(dtype, 0 if dtype == np.uint8 else -50, 50, nonzero=True), opsets=OPSETS)


# ----- predicates and unary math ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64, np.uint8])
def test_predicates(dtype: object) -> None:
    make = _rows(_EDGES, dtype) if np.dtype(dtype).kind == "f" else _ints(dtype, 0, 9, k=1)

    def fn(x: object) -> tuple:
        return x.isnan(), x.isinf(), x.isfinite(), pdl.isposinf(x), pdl.isneginf(x)

    check_export(fn, make, opsets=OPSETS)


def test_sign_family_with_nan() -> None:
    fn = lambda x: (x.sign(), x.sgn(), x.abs(), x.floor(), x.ceil(), x.round(), x.trunc(), x.frac(), -x)
    check_export(fn, _rows(_EDGES), opsets=OPSETS)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.int8, np.uint8])
def test_unary_on_integers(dtype: object) -> None:
    fn = lambda x: (x.sign(), x.abs(), x.floor(), x.ceil(), x.round(), x.trunc(), -x, x.square())
    check_export(fn, _ints(dtype, 0 if dtype == np.uint8 else -9, k=1), opsets=OPSETS)


def test_sign_of_bool() -> None:
    check_export(lambda a, b: a.sign(), _pairs(np.bool_), opsets=OPSETS)


def test_round_with_decimals() -> None:
    rng = np.random.default_rng(9)

    def make(n: int) -> list:
        x = rng.standard_normal((n, 8)) * 1000
        x[0] = [25.0, 35.0, 125.0, -250.0, 1.005, 2.675, 0.125, -0.375]
        return [x.astype(np.float32)]

    check_export(lambda x: (x.round(decimals=2), x.round(decimals=-1), pdl.round(x, decimals=-2)), make, opsets=OPSETS)


def test_tan_and_nan_to_num() -> None:
    def fn(x: object) -> tuple:
        return x.tan(), x.nan_to_num(), pdl.nan_to_num(x, nan=1.5, posinf=7.0, neginf=-8.0), x.nan_to_num(neginf=0.0)

    check_export(fn, _rows(_EDGES), opsets=OPSETS)


def test_nan_to_num_float16_and_int() -> None:
    check_export(lambda x: (x.nan_to_num(), x.nan_to_num(nan=1e6)), _rows(_EDGES, np.float16), opsets=OPSETS)
    check_export(lambda x: x.nan_to_num(), _ints(np.int64, k=1), opsets=OPSETS)


# ----- binary math ------------------------------------------------------------------------------------------------
_SPECIAL = [np.nan, -np.inf, np.inf, -0.0, 0.0, -2.0, 2.0, 1e30]


def _grid(dtype: object = np.float32) -> object:
    """Every pair of special values (row 0) plus random pairs."""
    rng = np.random.default_rng(10)
    a_edge, b_edge = np.meshgrid(_SPECIAL, _SPECIAL)

    def make(n: int) -> list:
        a, b = rng.standard_normal((n, a_edge.size)) * 3, rng.standard_normal((n, a_edge.size)) * 3
        a[0], b[0] = a_edge.ravel(), b_edge.ravel()
        return [a.astype(dtype), b.astype(dtype)]

    return make


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_atan2_quadrants_zeros_and_infinities(dtype: object) -> None:
    tol = 1e-3 if dtype == np.float16 else 1e-6
    check_export(lambda a, b: (pdl.atan2(a, b), pdl.atan2(b, a)), _grid(dtype), opsets=OPSETS, atol=tol, rtol=tol)


def test_atan2_of_integers_is_float() -> None:
    check_export(lambda a, b: pdl.atan2(a, b), _ints(np.int64), opsets=OPSETS)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_hypot_without_overflow(dtype: object) -> None:
    tol = 1e-3 if dtype == np.float16 else 1e-6
    check_export(lambda a, b: pdl.hypot(a, b), _grid(dtype), opsets=OPSETS, atol=tol, rtol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lerp_scalar_and_tensor_weights(dtype: object) -> None:
    rng = np.random.default_rng(11)

    def make(n: int) -> list:
        x, end = rng.standard_normal((n, 8)), rng.standard_normal((n, 8)) * 10
        w = np.array([-0.2, 0.0, 0.3, 0.5, 0.7, 1.0, -0.5, 1.5])
        return [x.astype(dtype), end.astype(dtype), w.astype(dtype)]

    def fn(x: object, end: object, w: object) -> tuple:
        return x.lerp(end, 0.3), pdl.lerp(x, end, 0.7), pdl.lerp(x, end, 1.0), pdl.lerp(x, end, -0.2), x.lerp(end, w)

    check_export(fn, make, batch_axes={0: [0], 1: [0]}, opsets=OPSETS)


# ----- arithmetic with integer, bool and Python scalar operands -----------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.int8, np.uint8])
def test_integer_arithmetic(dtype: object) -> None:
    def fn(a: object, b: object) -> tuple:
        return a + b, a - b, a * b, a / b, a + 3, a * 2.5, 7 - a, a / 2, a**2, a**3, 2 ** b.abs(), a + 300, -a

    check_export(fn, _ints(dtype, 0 if dtype == np.uint8 else -5, 6, nonzero=True), opsets=OPSETS)


def test_bool_arithmetic() -> None:
    check_export(
        lambda a, b: (a + b, a * b, a + 1, a * 2.5, a / b.float(), a.square()), _pairs(np.bool_), opsets=OPSETS
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
def test_float_pow_edges(dtype: object) -> None:
    tol = 1e-3 if dtype == np.float16 else 1e-6

    def fn(x: object) -> tuple:
        return x**0.5, x**2, x**3, x**-1.5, 2.0**x, x.abs() ** x, x.square(), x**0

    # no -inf: NumPy computes x ** 0.5 as sqrt (nan at -inf) for float32/64 but as pow (inf) for float16
    check_export(fn, _rows(_FINITE[2:-2] + [np.nan, np.inf], dtype, 1.0), opsets=OPSETS, atol=tol, rtol=tol)


# ----- casts ------------------------------------------------------------------------------------------------------
_CAST_TARGETS = [pdl.float16, pdl.float32, pdl.float64, pdl.int32, pdl.int64, pdl.bool, pdl.uint8, pdl.int8]


@pytest.mark.parametrize("target", _CAST_TARGETS, ids=str)
def test_cast_from_float32(target: object) -> None:
    edges = [0.0, -0.0, 0.4, 0.6, 1.5, 2.5, 99.9, 250.7, 7.0, 1e-8]
    if target not in (pdl.uint8, pdl.int8):
        edges += [-0.4, -1.5, -2.7, -100.2]
    if target.is_floating_point or target == pdl.bool:
        edges += [np.nan, np.inf, -np.inf, 1e6]
    rows = _rows(edges, scale=3.0)
    if target in (pdl.uint8, pdl.int8):
        inner = rows

        def rows(n: int) -> list:
            return [np.clip(np.abs(inner(n)[0]), 0, 127)]

    check_export(lambda x: x.to(target), rows, opsets=OPSETS)


@pytest.mark.parametrize("target", _CAST_TARGETS, ids=str)
def test_cast_from_int64_and_bool(target: object) -> None:
    check_export(lambda a, b: (a.to(target), (b > 0).to(target)), _ints(np.int64, -300, 300), opsets=OPSETS)


def test_internal_sign_and_straight_clamp() -> None:
    from portable_dl.ops.normalization import _ClampStraight
    from portable_dl.ops.reduction_norm import _Sign

    check_export(lambda x: (_Sign.apply(x), _ClampStraight.apply(x, 0.5)), _rows(_EDGES), opsets=OPSETS)


def test_inplace_activations_in_a_model() -> None:
    pdl.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(6, 8), nn.ReLU(inplace=True), nn.Linear(8, 8), nn.Hardswish(inplace=True), nn.Linear(8, 8),
        nn.ELU(inplace=True), nn.Linear(8, 4), nn.ReLU6(inplace=True),
    )  # fmt: skip
    rng = np.random.default_rng(12)
    check_export(model, lambda n: [rng.standard_normal((n, 6)).astype(np.float32) * 3], opsets=OPSETS)
