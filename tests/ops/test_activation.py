"""Activation functions against torch.nn.functional: values, dtypes, gradients at kinks, double backward, inplace."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import portable_dl as pdl
import portable_dl.nn.functional as F
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)
SHAPES = [(2, 3), (), (0, 3), (2, 3, 4)]

# name -> keyword variants (each variant is tested)
ACTIVATIONS = {
    "relu": [{}], "relu6": [{}], "leaky_relu": [{}, {"negative_slope": 0.2}, {"negative_slope": -0.5}],
    "elu": [{}, {"alpha": 0.5}], "selu": [{}], "celu": [{}, {"alpha": 2.0}],
    "gelu": [{}, {"approximate": "tanh"}], "silu": [{}], "mish": [{}],
    "softplus": [{}, {"beta": 2.0, "threshold": 3.0}, {"beta": -1.0}],
    "hardtanh": [{}, {"min_val": -0.5, "max_val": 2.0}],
    "hardswish": [{}], "hardsigmoid": [{}], "logsigmoid": [{}], "softsign": [{}], "tanhshrink": [{}],
    "hardshrink": [{}, {"lambd": 1.0}], "softshrink": [{}, {"lambd": 0.25}], "sigmoid": [{}], "tanh": [{}],
    "threshold": [{"threshold": 0.1, "value": 20.0}, {"threshold": -1.0, "value": -3}],
    "rrelu": [{}],
}  # fmt: skip
CASES = [(name, kw) for name, variants in ACTIVATIONS.items() for kw in variants]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CASES]
TORCH_NO_DOUBLE = {"hardsigmoid"}  # torch has no double backward for these
INPLACE = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "silu", "mish", "hardtanh", "hardswish",
           "hardsigmoid", "threshold", "rrelu"]  # fmt: skip


def randn(shape: tuple, dtype: type = np.float32, scale: float = 3.0) -> np.ndarray:
    x = rng.standard_normal(shape) * scale
    return np.asarray(x, dtype=dtype)


def call(name: str, kw: dict) -> tuple:
    return (lambda t: getattr(F, name)(t, **kw)), (lambda t: getattr(TF, name)(t, **kw))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_activation_parity(name: str, kw: dict, shape: tuple, device: str) -> None:
    fn, torch_fn = call(name, kw)
    parity(fn, [randn(shape)], torch_fn, device=device, double=name not in TORCH_NO_DOUBLE)


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_activation_float64_and_half(name: str, kw: dict, device: str) -> None:
    fn, torch_fn = call(name, kw)
    parity(fn, [randn((3, 4), np.float64)], torch_fn, device=device, double=name not in TORCH_NO_DOUBLE)
    parity(fn, [randn((3, 4), np.float16)], torch_fn, device=device)


# kinks, boundaries (0, +-1, +-3, +-lambd, the softplus threshold), special values
EDGE = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 1.0, -1.0, 3.0, -3.0, 6.0, 0.5, -0.5, 20.0, 21.0, 0.1,
                 100.0, -100.0, 1e-30, 2.5, -2.5], dtype=np.float32)  # fmt: skip


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_activation_edge_values(name: str, kw: dict, device: str) -> None:
    """Gradients at kinks as torch's (relu'(0) = 0, hardtanh'(+-1) = 0 ...), inf/nan, and no NumPy warnings."""
    fn, torch_fn = call(name, kw)
    edge = EDGE[1:] if name == "gelu" else EDGE  # torch's float32 gelu(inf) is nan (float64: inf, as here)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parity(fn, [edge], torch_fn, device=device)
        if name in ("elu", "selu", "celu", "hardswish"):  # torch's float64 gradient at nan varies with vectorisation
            edge = edge[~np.isnan(edge)]
        parity(fn, [edge.astype(np.float64)], torch_fn, device=device)


@pytest.mark.parametrize("name,kw", [c for c in CASES if c[0] not in ("rrelu",)], ids=[
    i for c, i in zip(CASES, IDS) if c[0] not in ("rrelu",)])  # fmt: skip
def test_activation_gradcheck(name: str, kw: dict) -> None:
    x = rng.uniform(-4, 4, (3, 4))
    x = np.where(np.abs(x) < 0.15, 0.4, x)
    x = np.where(np.abs(np.abs(x) - 3) < 0.15, 2.5, x)  # hardswish/hardsigmoid kinks
    x = np.where(np.abs(np.abs(x) - 1) < 0.15, 1.5, x)  # hardtanh/hardshrink kinks
    gradcheck(lambda t: getattr(F, name)(t, **kw), [x], double=True)


@pytest.mark.parametrize("name", INPLACE)
def test_inplace(name: str) -> None:
    kw = ACTIVATIONS[name][0]
    x = randn((2, 3))

    def fn(t: object) -> object:
        functional = TF if isinstance(t, torch.Tensor) else F
        y = t * 1.0
        out = getattr(functional, name)(y, inplace=True, **kw)
        assert out is y
        return out

    parity(fn, [x], double=name not in TORCH_NO_DOUBLE)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(F, name)(pdl.tensor(x, requires_grad=True), inplace=True, **kw)
    plain = pdl.tensor(x)
    out = getattr(F, name)(plain, inplace=True, **kw)
    assert out is plain
    np.testing.assert_allclose(plain.numpy(), getattr(TF, name)(torch.from_numpy(x), **kw).numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["relu_", "elu_", "leaky_relu_", "hardtanh_", "selu_", "celu_", "rrelu_"])
def test_underscore_functions(name: str) -> None:
    x = randn((4,))
    parity(lambda t: getattr(F, name)(t * 1.0), [x], lambda t: getattr(TF, name)(t * 1.0))
    parity(lambda t: getattr(F, name[:-1])(t), [x], lambda t: getattr(TF, name[:-1])(t))
    parity(lambda t: F.threshold_(t * 1.0, 0.5, 2.0), [x], lambda t: TF.threshold_(t * 1.0, 0.5, 2.0))


def test_top_level_and_methods() -> None:
    x = randn((3, 4))
    for name in ["relu", "selu", "celu", "sigmoid", "tanh", "rrelu", "hardshrink"]:
        parity(lambda t, n=name: getattr(pdl, n)(t), [x], lambda t, n=name: getattr(torch, n)(t), double=True)
    for name in ["relu_", "selu_", "celu_", "sigmoid_", "tanh_", "rrelu_"]:
        parity(lambda t, n=name: getattr(pdl, n)(t * 1), [x], lambda t, n=name: getattr(torch, n)(t * 1))
    parity(lambda t: pdl.threshold(t, 0.5, -1.0), [x], lambda t: torch.threshold(t, 0.5, -1.0))
    parity(lambda t: pdl.threshold_(t * 1, 0.5, -1.0), [x], lambda t: torch.threshold_(t * 1, 0.5, -1.0))
    for method in ["relu", "sigmoid", "tanh", "hardshrink"]:
        parity(lambda t, m=method: getattr(t, m)(), [x], double=True)
    for method in ["relu_", "sigmoid_", "tanh_"]:
        parity(lambda t, m=method: getattr(t * 1, m)(), [x], double=True)
    names = set(dir(F))
    assert {"relu", "gelu", "silu", "mish", "softplus", "glu", "prelu", "logsigmoid", "hardtanh_"} <= names


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("name,kw", [c for c in CASES if c[1] is ACTIVATIONS[c[0]][0]],
                         ids=[n for n in ACTIVATIONS])  # fmt: skip
def test_integer_inputs(name: str, kw: dict, dtype: type) -> None:
    x = np.array([0, 1, 2, 7], dtype=dtype)
    fn, torch_fn = call(name, kw)
    try:
        torch_fn(torch.from_numpy(x))
    except (RuntimeError, NotImplementedError):
        with pytest.raises(RuntimeError):
            fn(pdl.tensor(x))
        return
    parity(fn, [x], torch_fn, grad=False)


def test_hardtanh_integer_bounds() -> None:
    x = np.array([1, -2, 3], dtype=np.int64)
    parity(lambda t: F.hardtanh(t, -1.5, 1.5), [x], lambda t: TF.hardtanh(t, -1.5, 1.5), grad=False)
    parity(lambda t: F.threshold(t, 1.5, 7.9), [x], lambda t: TF.threshold(t, 1.5, 7.9), grad=False)


@pytest.mark.parametrize("x_shape,w_shape", [((2, 3), (3,)), ((2, 3, 4, 5), (3,)), ((2, 3, 4), (1,)), ((5,), (1,)),
                                              ((), (1,)), ((2, 3), ()), ((0, 3), (3,))])  # fmt: skip
def test_prelu(x_shape: tuple, w_shape: tuple, device: str) -> None:
    x = randn(x_shape)
    w = np.asarray(rng.uniform(-0.5, 0.5, w_shape), dtype=np.float32)
    parity(lambda a, b: F.prelu(a, b), [x, w], lambda a, b: TF.prelu(a, b), device=device, double=True)
    parity(lambda a, b: pdl.prelu(a, b), [x, w], lambda a, b: torch.prelu(a, b), device=device)
    parity(lambda a, b: a.prelu(b), [x, w], device=device)
    gradcheck(lambda a, b: F.prelu(a, b), [np.where(np.abs(x) < 0.1, 0.5, x).astype(np.float64),
                                           w.astype(np.float64)], double=True)  # fmt: skip


def test_prelu_errors() -> None:
    x = pdl.randn(2, 3)
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        F.prelu(x, pdl.tensor([0.25, 1.0]))
    with pytest.raises(RuntimeError, match="Type promoting not supported"):
        F.prelu(x, pdl.tensor([0.25, 1.0, 1.0], dtype=pdl.float64))
    with pytest.raises(RuntimeError, match="scalar or 1D tensor"):
        F.prelu(x, pdl.ones(3, 1))
    with pytest.raises(NotImplementedError, match="prelu"):
        F.prelu(pdl.tensor([1, 2]), pdl.tensor([1]))


@pytest.mark.parametrize("shape,dim", [((2, 4), -1), ((4, 3), 0), ((2, 6, 2), 1)])
def test_glu(shape: tuple, dim: int, device: str) -> None:
    parity(lambda t: F.glu(t, dim), [randn(shape)], lambda t: TF.glu(t, dim), device=device, double=True)


def test_glu_errors() -> None:
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 3"):
        F.glu(pdl.randn(2, 3))
    with pytest.raises(RuntimeError, match="scalars"):
        F.glu(pdl.tensor(1.0))


def test_rrelu_training() -> None:
    pdl.manual_seed(0)
    x = pdl.tensor(randn((1000,)), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    xs, ys = x.detach().numpy(), y.detach().numpy()
    neg = xs < 0
    np.testing.assert_array_equal(ys[~neg], xs[~neg])
    slopes = ys[neg] / xs[neg]
    assert slopes.min() >= 0.1 - 1e-6 and slopes.max() <= 0.3 + 1e-6 and slopes.std() > 0.03
    (grad,) = pdl.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(grad.numpy()[neg], slopes, rtol=1e-5)
    np.testing.assert_array_equal(grad.numpy()[~neg], 1.0)


def test_argument_errors() -> None:
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(pdl.randn(3), approximate="foo")
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        F.celu(pdl.randn(3), alpha=0.0)
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        F.relu(pdl.tensor([True]))
    with pytest.raises(TypeError, match="must be Tensor"):
        F.gelu([1.0])
    with pytest.raises(NotImplementedError, match="GeluKernelImpl"):
        F.gelu(pdl.tensor([1, 2]))


def test_grad_fn_names() -> None:
    x = pdl.randn(3, requires_grad=True)
    names = {"relu": "ReluBackward0", "gelu": "GeluBackward0", "silu": "SiluBackward0", "elu": "EluBackward0",
             "selu": "EluBackward0", "celu": "CeluBackward0", "relu6": "HardtanhBackward0",
             "leaky_relu": "LeakyReluBackward0", "softplus": "SoftplusBackward0", "mish": "MishBackward0",
             "logsigmoid": "LogSigmoidBackward0", "hardswish": "HardswishBackward0"}  # fmt: skip
    for name, expected in names.items():
        assert getattr(F, name)(x).grad_fn.name() == expected


def test_large_inputs_are_stable() -> None:
    """sigmoid, softplus, logsigmoid, silu, mish at +-1e4 (float32): finite where torch is, no warnings."""
    x = np.array([-1e4, -90.0, -30.0, 30.0, 90.0, 1e4], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ["sigmoid", "softplus", "logsigmoid", "silu", "mish", "elu", "selu", "gelu", "tanh"]:
            # torch's mish'' overflows to nan at 90 and beyond; ours stays 0 there
            parity(lambda t, n=name: getattr(F, n)(t), [x], lambda t, n=name: getattr(TF, n)(t), double=name != "mish")
