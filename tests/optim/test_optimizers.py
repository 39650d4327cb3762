"""Optimizers against ``torch.optim``: identical trajectories on a tiny regression, state-dict round trips,
parameter groups, closures, ``zero_grad`` and ``repr``."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import portable_dl as pdl

RNG = np.random.default_rng(0)
X = RNG.standard_normal((16, 4))
Y = RNG.standard_normal((16, 3))
W0 = RNG.standard_normal((3, 4)) * 0.5
B0 = RNG.standard_normal(3) * 0.1

CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.01, "momentum": 0.5, "maximize": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.95), "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.02, "maximize": True, "eps": 1e-6}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.05}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.2, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-6, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.1}),
    ("Adadelta", {"maximize": True}),
    ("Adamax", {"lr": 0.05}),
    ("Adamax", {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": 0.05}),
    ("NAdam", {"lr": 0.05, "momentum_decay": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("RAdam", {"lr": 0.05}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9), "weight_decay": 0.1, "decoupled_weight_decay": True}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for name, kw in CASES]


def _params(lib, dtype):
    dt = {"float64": lib.float64, "float32": lib.float32}[dtype]
    w = lib.tensor(W0.copy(), dtype=dt, requires_grad=True)
    b = lib.tensor(B0.copy(), dtype=dt, requires_grad=True)
    return w, b


def _loss(lib, params, dtype):
    w, b = params
    dt = {"float64": lib.float64, "float32": lib.float32}[dtype]
    x = lib.tensor(X, dtype=dt)
    y = lib.tensor(Y, dtype=dt)
    return ((x.matmul(w.t()) + b - y) ** 2).mean()


def _run(lib, opt, params, steps, dtype):
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, params, dtype).backward()
        opt.step()
        traj.append([p.detach().numpy().copy() for p in params])
    return traj


def _to_np(v):
    if isinstance(v, (torch.Tensor, pdl.Tensor)):
        return np.asarray(v.detach().numpy())
    return v


def _compare_state_dicts(ours, theirs, rtol, atol=1e-12):
    assert ours["param_groups"] == theirs["param_groups"]
    assert set(ours["state"]) == set(theirs["state"])
    for idx, s in theirs["state"].items():
        assert list(ours["state"][idx]) == list(s), idx
        for key, value in s.items():
            mine = ours["state"][idx][key]
            if isinstance(value, torch.Tensor):
                assert isinstance(mine, pdl.Tensor)
                assert str(mine.dtype).split(".")[-1] == str(value.dtype).split(".")[-1], key
                assert tuple(mine.shape) == tuple(value.shape), key
                np.testing.assert_allclose(_to_np(mine), _to_np(value), rtol=rtol, atol=atol)
            else:
                assert mine == value


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_trajectory_and_state_dict_match_torch(name, kwargs, dtype):
    rtol = 1e-9 if dtype == "float64" else 2e-5
    steps = 25
    tp, pp = _params(torch, dtype), _params(pdl, dtype)
    topt = getattr(torch.optim, name)(tp, **kwargs)
    popt = getattr(pdl.optim, name)(pp, **kwargs)
    assert popt.defaults == topt.defaults
    ttraj = _run(torch, topt, tp, steps, dtype)
    ptraj = _run(pdl, popt, pp, steps, dtype)
    for i, (ours, theirs) in enumerate(zip(ptraj, ttraj)):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-7 if dtype == "float32" else 1e-12, err_msg=f"step {i}")
    _compare_state_dicts(popt.state_dict(), topt.state_dict(), rtol, 1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_state_dict_round_trip_mid_training(name, kwargs):
    dtype = "float64"
    pp = _params(pdl, dtype)
    popt = getattr(pdl.optim, name)(pp, **kwargs)
    _run(pdl, popt, pp, 10, dtype)
    saved = copy.deepcopy(popt.state_dict())
    saved_params = [p.detach().numpy().copy() for p in pp]
    straight = _run(pdl, popt, pp, 10, dtype)

    # A fresh optimizer over fresh parameters, resumed from the checkpoint.
    fresh = tuple(pdl.tensor(v, requires_grad=True) for v in saved_params)
    opt2 = getattr(pdl.optim, name)(fresh, lr=0.123) if "lr" in kwargs else getattr(pdl.optim, name)(fresh)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["params"][0] is fresh[0]
    assert opt2.param_groups[0]["lr"] == popt.param_groups[0]["lr"]
    resumed = _run(pdl, opt2, fresh, 10, dtype)
    for a_step, b_step in zip(resumed, straight):
        for a, b in zip(a_step, b_step):
            if name == "NAdam":  # like torch, loading casts the float32 mu_product to the parameter's float64
                np.testing.assert_allclose(a, b, rtol=1e-6)
            else:
                np.testing.assert_array_equal(a, b)

    # Loading our (numpy-converted) state into torch continues torch's run identically as well.
    tp = tuple(torch.tensor(v, requires_grad=True) for v in saved_params)
    topt = getattr(torch.optim, name)(tp, **kwargs)
    tsaved = {
        "state": {
            i: {k: torch.from_numpy(_to_np(v).copy()) if isinstance(v, pdl.Tensor) else v for k, v in s.items()}
            for i, s in saved["state"].items()
        },
        "param_groups": saved["param_groups"],
    }
    topt.load_state_dict(tsaved)
    tres = _run(torch, topt, tp, 10, dtype)
    for a_step, b_step in zip(resumed, tres):
        for a, b in zip(a_step, b_step):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_state_is_float32_step_and_keyed_by_param():
    w = pdl.tensor(W0, requires_grad=True)
    opt = pdl.optim.Adam([w])
    _loss(pdl, (w, pdl.tensor(B0)), "float64").backward()
    opt.step()
    state = opt.state[w]
    assert state["step"].dtype == pdl.float32 and state["step"].shape == ()
    assert state["step"].item() == 1.0
    assert state["exp_avg"].dtype == pdl.float64
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0]
    assert sd["state"][0]["step"] is state["step"]


def test_param_groups_and_per_group_options():
    tp, pp = _params(torch, "float64"), _params(pdl, "float64")
    topt = torch.optim.SGD([{"params": [tp[0]]}, {"params": tp[1], "lr": 0.2, "momentum": 0.5}], lr=0.05, momentum=0.9)
    popt = pdl.optim.SGD([{"params": [pp[0]]}, {"params": pp[1], "lr": 0.2, "momentum": 0.5}], lr=0.05, momentum=0.9)
    assert [{k: v for k, v in g.items() if k != "params"} for g in popt.param_groups] == [
        {k: v for k, v in g.items() if k != "params"} for g in topt.param_groups
    ]
    for a_step, b_step in zip(_run(pdl, popt, pp, 20, "float64"), _run(torch, topt, tp, 20, "float64")):
        for a, b in zip(a_step, b_step):
            np.testing.assert_allclose(a, b, rtol=1e-10)
    _compare_state_dicts(popt.state_dict(), topt.state_dict(), 1e-10)
    assert str(popt) == str(topt)


def test_add_param_group_and_errors():
    a = pdl.tensor([1.0], requires_grad=True)
    b = pdl.tensor([2.0], requires_grad=True)
    opt = pdl.optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["betas"] == (0.9, 0.999) and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        pdl.optim.SGD([])
    with pytest.raises(TypeError):
        pdl.optim.SGD(a)
    with pytest.raises(ValueError, match="non-leaf"):
        pdl.optim.SGD([a * 2])
    with pytest.raises(ValueError, match="Nesterov"):
        pdl.optim.SGD([a], nesterov=True)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        pdl.optim.Adam([a], lr=-1.0)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        pdl.optim.Adam([a]).load_state_dict(opt.state_dict())


def test_default_learning_rates_match_torch():
    for name in ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"]:
        t = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)])
        p = getattr(pdl.optim, name)([pdl.zeros(1, requires_grad=True)])
        assert p.defaults == t.defaults, name
        assert repr(p) == repr(t), name


def test_zero_grad_and_closure():
    w = pdl.tensor([1.0, -2.0], requires_grad=True)
    opt = pdl.optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        assert pdl.is_grad_enabled()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with pdl.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6], rtol=1e-6)
    assert w.grad is not None
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None
    assert opt.step() is None


def test_parameters_without_grad_are_skipped_and_version_bumps():
    a = pdl.tensor([1.0], requires_grad=True)
    b = pdl.tensor([2.0], requires_grad=True)
    opt = pdl.optim.Adam([a, b], lr=0.1)
    (a * 3).sum().backward()
    v0 = a._version
    opt.step()
    assert a._version > v0
    assert b.item() == 2.0 and b not in opt.state
    assert list(opt.state_dict()["state"]) == [0]


def test_training_a_module():
    lin = pdl.nn.Linear(4, 3) if hasattr(pdl.nn, "Linear") else None
    if lin is None:
        pytest.skip("nn.Linear not available")
    opt = pdl.optim.Adam(lin.parameters(), lr=0.05)
    x, y = pdl.tensor(X, dtype=pdl.float32), pdl.tensor(Y, dtype=pdl.float32)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = ((lin(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_named_parameters_record_param_names_like_torch():
    ta, tb = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    pa, pb = pdl.zeros(2, requires_grad=True), pdl.zeros(3, requires_grad=True)
    topt = torch.optim.Adam([("a", ta), ("b", tb)], lr=0.1)
    popt = pdl.optim.Adam([("a", pa), ("b", pb)], lr=0.1)
    assert popt.param_groups[0]["param_names"] == ["a", "b"]
    assert popt.param_groups[0]["params"][1] is pb
    assert popt.state_dict() == {"state": {}, "param_groups": topt.state_dict()["param_groups"]}
    assert repr(popt) == repr(topt)
    with pytest.raises(ValueError, match="with/without names"):
        popt.add_param_group({"params": [pdl.zeros(1, requires_grad=True)]})


def test_step_hooks():
    w = pdl.tensor([1.0], requires_grad=True)
    opt = pdl.optim.SGD([w], lr=0.5)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt)))
    opt.register_step_post_hook(lambda o, a, k: calls.append(("post", w.item())))
    (w * 2).sum().backward()
    opt.step()
    assert calls == [("pre", True), ("post", 0.0)]
    h1.remove()
    opt.step()
    assert calls[-1] == ("post", -1.0) and len(calls) == 3


def test_adagrad_state_is_created_at_construction_like_torch():
    t = torch.optim.Adagrad([torch.zeros(3, dtype=torch.float64, requires_grad=True)], initial_accumulator_value=0.5)
    p = pdl.optim.Adagrad([pdl.zeros(3, dtype=pdl.float64, requires_grad=True)], initial_accumulator_value=0.5)
    _compare_state_dicts(p.state_dict(), t.state_dict(), 0.0)


def test_tensor_learning_rate_is_accepted():
    w = pdl.tensor([1.0], requires_grad=True)
    opt = pdl.optim.SGD([w], lr=pdl.tensor(0.5))
    (w * 2).sum().backward()
    opt.step()
    assert w.item() == pytest.approx(0.0)
