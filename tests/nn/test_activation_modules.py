"""Activation modules against their torch.nn twins: outputs, input (and PReLU weight) gradients, repr,
state_dict keys and constructor signatures."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import portable_dl as pdl

RNG = np.random.default_rng(0)

# (class name, args, kwargs, input shape)
CASES = [
    ("ReLU", (), {}, (3, 4)),
    ("ReLU", (True,), {}, (3, 4)),
    ("ReLU6", (), {}, (3, 4)),
    ("ReLU6", (), {"inplace": True}, (3, 4)),
    ("LeakyReLU", (), {}, (3, 4)),
    ("LeakyReLU", (0.2,), {"inplace": True}, (3, 4)),
    ("PReLU", (), {}, (2, 3, 4)),
    ("PReLU", (3,), {"init": 0.1}, (2, 3, 4)),
    ("ELU", (), {}, (3, 4)),
    ("ELU", (0.5,), {"inplace": True}, (3, 4)),
    ("SELU", (), {}, (3, 4)),
    ("SELU", (True,), {}, (3, 4)),
    ("CELU", (), {}, (3, 4)),
    ("CELU", (2.0,), {}, (3, 4)),
    ("GELU", (), {}, (3, 4)),
    ("GELU", (), {"approximate": "tanh"}, (3, 4)),
    ("SiLU", (), {}, (3, 4)),
    ("SiLU", (), {"inplace": True}, (3, 4)),
    ("Mish", (), {}, (3, 4)),
    ("Tanh", (), {}, (3, 4)),
    ("Sigmoid", (), {}, (3, 4)),
    ("Softplus", (), {}, (3, 4)),
    ("Softplus", (2.0, 1.0), {}, (3, 4)),
    ("Softmax", (), {"dim": 1}, (2, 3, 4)),
    ("Softmax", (-1,), {}, (2, 3, 4)),
    ("LogSoftmax", (), {"dim": 0}, (2, 3, 4)),
    ("Softmin", (), {"dim": 2}, (2, 3, 4)),
    ("Softmax2d", (), {}, (2, 3, 4, 5)),
    ("Hardtanh", (), {}, (3, 4)),
    ("Hardtanh", (-0.5, 2.0), {}, (3, 4)),
    ("Hardtanh", (), {"min_val": -2.0, "max_val": 0.5, "inplace": True}, (3, 4)),
    ("Hardswish", (), {}, (3, 4)),
    ("Hardsigmoid", (), {}, (3, 4)),
    ("LogSigmoid", (), {}, (3, 4)),
    ("Softsign", (), {}, (3, 4)),
    ("Tanhshrink", (), {}, (3, 4)),
    ("Threshold", (0.1, 20.0), {}, (3, 4)),
    ("Threshold", (0.1, -1.0), {"inplace": True}, (3, 4)),
    ("GLU", (), {}, (3, 4)),
    ("GLU", (0,), {}, (4, 3)),
    ("Hardshrink", (), {}, (3, 4)),
    ("Softshrink", (0.3,), {}, (3, 4)),
    ("RReLU", (), {}, (3, 4)),
    ("RReLU", (0.1, 0.3), {"inplace": True}, (3, 4)),
]


def _ids(case: tuple) -> str:
    name, args, kwargs, _ = case
    return f"{name}-{args}-{sorted(kwargs.items())}"


def _copy_state(src: torch.nn.Module, dst: pdl.nn.Module) -> None:
    dst.load_state_dict({k: pdl.tensor(v.detach().numpy().copy()) for k, v in src.state_dict().items()})


def _run(module, lib, x_np: np.ndarray, g_np: np.ndarray, inplace: bool):
    x = lib.tensor(x_np.copy(), requires_grad=True)
    inp = x * 1.0 if inplace else x  # an in-place module needs a non-leaf input
    out = module(inp)
    out.backward(lib.tensor(g_np.copy()))
    grads = {"input": x.grad.detach().numpy()}
    for name, p in module.named_parameters():
        grads[name] = p.grad.detach().numpy()
    return out.detach().numpy(), grads


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_matches_torch(case: tuple, dtype: str) -> None:
    name, args, kwargs, shape = case
    tm = getattr(torch.nn, name)(*args, **kwargs)
    pm = getattr(pdl.nn, name)(*args, **kwargs)
    assert repr(pm) == repr(tm)
    assert list(pm.state_dict()) == list(tm.state_dict())
    if dtype == "float64":
        tm.double()
        pm.double()
    _copy_state(tm, pm)
    tm.eval()  # RReLU is deterministic in eval mode
    pm.eval()
    x = RNG.standard_normal(shape).astype(dtype) * 2
    if name == "Softplus":
        x[0, 0] = 30.0  # above the threshold: the linear branch
    out_shape = tm(torch.from_numpy(x)).shape
    g = RNG.standard_normal(tuple(out_shape)).astype(dtype)
    inplace = bool(getattr(tm, "inplace", False))
    t_out, t_grads = _run(tm, torch, x, g, inplace)
    p_out, p_grads = _run(pm, pdl, x, g, inplace)
    assert p_out.dtype == t_out.dtype
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == "float64" else {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(p_out, t_out, **tol)
    if name == "Hardsigmoid" and dtype == "float64":
        tol = {"rtol": 1e-7, "atol": 1e-12}  # torch's CPU backward uses a float32 1/6 even for float64
    assert set(p_grads) == set(t_grads)
    for key in t_grads:
        np.testing.assert_allclose(p_grads[key], t_grads[key], **tol, err_msg=key)


ALL_NAMES = sorted({c[0] for c in CASES})


@pytest.mark.parametrize("name", ALL_NAMES)
def test_constructor_signature_matches_torch(name: str) -> None:
    def params(cls: type) -> list:
        sig = inspect.signature(cls.__init__)
        return [(p.name, p.default, p.kind) for p in sig.parameters.values()]

    assert params(getattr(pdl.nn, name)) == params(getattr(torch.nn, name))


@pytest.mark.parametrize("name", ALL_NAMES)
def test_default_repr_matches_torch(name: str) -> None:
    args = (0.5, 0.0) if name == "Threshold" else ()
    assert repr(getattr(pdl.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_repr_of_non_default_values() -> None:
    for name, args in [
        ("Softmax", ()),
        ("LogSoftmax", (None,)),
        ("Hardtanh", (-2, 3)),
        ("LeakyReLU", (1e-3, True)),
        ("ELU", (1, True)),
        ("Softplus", (0.5, 10)),
        ("GELU", ("none",)),
        ("PReLU", (7, 0.5)),
        ("Threshold", (1, 2, True)),
    ]:
        assert repr(getattr(pdl.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args)), name


def test_prelu_parameter() -> None:
    m = pdl.nn.PReLU(4, init=0.3)
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert isinstance(m.weight, pdl.nn.Parameter)
    assert m.weight.shape == (4,) and m.weight.requires_grad
    np.testing.assert_allclose(m.weight.detach().numpy(), np.full(4, 0.3, dtype=np.float32))
    assert m.weight.dtype == pdl.float32
    assert m.num_parameters == 4 and m.init == 0.3
    m.weight.detach()._data[...] = 5.0
    m.reset_parameters()
    np.testing.assert_allclose(m.weight.detach().numpy(), np.full(4, 0.3, dtype=np.float32))
    assert pdl.nn.PReLU(dtype=pdl.float64).weight.dtype == pdl.float64


def test_inplace_modifies_input() -> None:
    x = pdl.tensor([-1.0, 2.0])
    out = pdl.nn.ReLU(inplace=True)(x)
    np.testing.assert_array_equal(x.numpy(), [0.0, 2.0])
    np.testing.assert_array_equal(out.numpy(), [0.0, 2.0])
    y = pdl.tensor([-1.0, 2.0])
    pdl.nn.ReLU()(y)
    np.testing.assert_array_equal(y.numpy(), [-1.0, 2.0])


def test_rrelu_training_slopes_in_range() -> None:
    m = pdl.nn.RReLU(0.1, 0.3)
    x = pdl.tensor(-np.ones(1000))
    y = m(x).numpy()
    assert np.all(y <= -0.1 + 1e-12) and np.all(y >= -0.3 - 1e-12)
    assert y.std() > 0.01  # random slopes, not the eval-mode mean


def test_hardtanh_rejects_bad_bounds_and_legacy_names() -> None:
    with pytest.raises(AssertionError):
        pdl.nn.Hardtanh(1.0, 0.0)
    with pytest.warns(FutureWarning):
        m = pdl.nn.Hardtanh(min_value=-3.0)
    assert m.min_val == -3.0


def test_softmax2d_rejects_2d() -> None:
    with pytest.raises(ValueError, match="3D or 4D"):
        pdl.nn.Softmax2d()(pdl.zeros(2, 3))


def test_activation_in_sequential_like_parent_state_dict() -> None:
    class Net(pdl.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.act = pdl.nn.PReLU(2)
            self.relu = pdl.nn.ReLU()

    class TNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.act = torch.nn.PReLU(2)
            self.relu = torch.nn.ReLU()

    assert list(Net().state_dict()) == list(TNet().state_dict()) == ["act.weight"]
    assert repr(Net()).replace("Net", "X") == repr(TNet()).replace("TNet", "X")
