"""Learning-rate schedulers against ``torch.optim.lr_scheduler``: lr sequences over 40 steps and
state-dict round trips."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch

import portable_dl as pdl


def _lambda(epoch):
    return 0.95**epoch


def _opt(lib, optim_name="SGD"):
    a = lib.zeros(2, requires_grad=True)
    b = lib.zeros(3, requires_grad=True)
    kw = {"momentum": 0.9} if optim_name == "SGD" else {}
    return getattr(lib.optim, optim_name)([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, **kw)


def _make(lib, name, opt):
    S = lib.optim.lr_scheduler
    if name == "StepLR":
        return S.StepLR(opt, step_size=7, gamma=0.5)
    if name == "MultiStepLR":
        return S.MultiStepLR(opt, milestones=[5, 12, 12, 30], gamma=0.3)
    if name == "ExponentialLR":
        return S.ExponentialLR(opt, gamma=0.93)
    if name == "CosineAnnealingLR":
        return S.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    if name == "CosineAnnealingWarmRestarts":
        return S.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2, eta_min=0.002)
    if name == "CosineAnnealingWarmRestarts1":
        return S.CosineAnnealingWarmRestarts(opt, T_0=7)
    if name == "LambdaLR":
        return S.LambdaLR(opt, lr_lambda=[_lambda, lambda e: 1.0 / (1 + e)])
    if name == "MultiplicativeLR":
        return S.MultiplicativeLR(opt, lr_lambda=lambda e: 0.97)
    if name == "LinearLR":
        return S.LinearLR(opt, start_factor=0.25, end_factor=0.9, total_iters=12)
    if name == "ConstantLR":
        return S.ConstantLR(opt, factor=0.5, total_iters=6)
    if name == "PolynomialLR":
        return S.PolynomialLR(opt, total_iters=20, power=2.0)
    if name == "OneCycleLR":
        return S.OneCycleLR(opt, max_lr=[0.5, 0.2], total_steps=45)
    if name == "OneCycleLR3":
        return S.OneCycleLR(opt, max_lr=0.3, epochs=5, steps_per_epoch=9, anneal_strategy="linear", three_phase=True)
    if name == "CyclicLR":
        return S.CyclicLR(opt, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4, step_size_down=6, mode="triangular2")
    if name == "CyclicLRexp":
        return S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.97)
    if name == "SequentialLR":
        warm = S.LinearLR(opt, start_factor=0.1, total_iters=5)
        cos = S.CosineAnnealingLR(opt, T_max=20)
        step = S.StepLR(opt, step_size=4, gamma=0.5)
        return S.SequentialLR(opt, schedulers=[warm, cos, step], milestones=[5, 25])
    if name == "ChainedScheduler":
        return S.ChainedScheduler([S.ExponentialLR(opt, gamma=0.9), S.StepLR(opt, step_size=4, gamma=0.5)])
    raise AssertionError(name)


NAMES = [
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CosineAnnealingWarmRestarts1",
    "LambdaLR",
    "MultiplicativeLR",
    "LinearLR",
    "ConstantLR",
    "PolynomialLR",
    "OneCycleLR",
    "OneCycleLR3",
    "CyclicLR",
    "CyclicLRexp",
    "SequentialLR",
    "ChainedScheduler",
]

STEPS = 44


def _trace(lib, opt, sched, steps):
    lrs, moms = [], []
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        moms.append([g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups])
    return lrs, moms


@pytest.mark.parametrize("optim_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name", NAMES)
def test_lr_sequence_matches_torch(name, optim_name):
    if name == "MultiplicativeLR" and optim_name == "Adam":
        pytest.skip("covered with SGD")
    topt, popt = _opt(torch, optim_name), _opt(pdl, optim_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts, ps = _make(torch, name, topt), _make(pdl, name, popt)
        assert ps.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
        tl, tm = _trace(torch, topt, ts, STEPS)
        pl, pm = _trace(pdl, popt, ps, STEPS)
    np.testing.assert_allclose(np.array(pl), np.array(tl), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.array(pm, dtype=float), np.array(tm, dtype=float), rtol=1e-12)
    assert [g["lr"] for g in popt.param_groups] == pytest.approx([g["lr"] for g in topt.param_groups], rel=1e-12)
    assert popt.param_groups[0]["initial_lr"] == topt.param_groups[0]["initial_lr"]
    assert getattr(ps, "last_epoch", None) == getattr(ts, "last_epoch", None)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = _opt(pdl)
        sched = _make(pdl, name, opt)
        _trace(pdl, opt, sched, 15)
        sd_opt = copy.deepcopy(opt.state_dict())
        sd_sched = copy.deepcopy(sched.state_dict())
        our_keys = set(sd_sched)
        straight, _ = _trace(pdl, opt, sched, 20)

        opt2 = _opt(pdl)
        sched2 = _make(pdl, name, opt2)
        opt2.load_state_dict(sd_opt)
        sched2.load_state_dict(sd_sched)
        resumed, _ = _trace(pdl, opt2, sched2, 20)
    assert resumed == straight

    # The keys of the state dict are torch's.
    topt = _opt(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts = _make(torch, name, topt)
    tkeys = set(ts.state_dict()) - {"_get_lr_called_within_step", "_is_initial"}
    assert tkeys == our_keys - {"_get_lr_called_within_step", "_is_initial"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"mode": "max", "factor": 0.5, "patience": 2, "cooldown": 1},
        {"threshold_mode": "abs", "threshold": 0.05, "patience": 1, "min_lr": [0.01, 0.02]},
    ],
)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(1)
    metrics = list(1.0 / (1 + np.arange(40)) + 0.05 * rng.random(40))
    metrics[20:] = [metrics[19]] * 20
    topt, popt = _opt(torch), _opt(pdl)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    ps = pdl.optim.lr_scheduler.ReduceLROnPlateau(popt, **kwargs)
    tl, pl = [], []
    for i, m in enumerate(metrics):
        topt.step()
        popt.step()
        ts.step(m)
        ps.step(pdl.tensor(m) if i % 2 else m)
        tl.append(ts.get_last_lr())
        pl.append(ps.get_last_lr())
        if i == 17:
            sd = copy.deepcopy(ps.state_dict())
            assert set(sd) == set(ts.state_dict())
            ps = pdl.optim.lr_scheduler.ReduceLROnPlateau(popt, **kwargs)
            ps.load_state_dict(sd)
    np.testing.assert_allclose(np.array(pl), np.array(tl), rtol=1e-12)
    assert ps.num_bad_epochs == ts.num_bad_epochs and ps.best == ts.best


def test_scheduler_warns_when_stepped_before_optimizer():
    opt = _opt(pdl)
    sched = pdl.optim.lr_scheduler.StepLR(opt, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_resume_with_last_epoch_requires_initial_lr():
    opt = _opt(pdl)
    with pytest.raises(KeyError, match="initial_lr"):
        pdl.optim.lr_scheduler.StepLR(opt, 3, last_epoch=4)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        pdl.optim.lr_scheduler.StepLR(object(), 3)


@pytest.mark.parametrize(
    ("name", "epochs"),
    [
        ("StepLR", [3, 7, 8, 15, 2]),
        ("MultiStepLR", [4, 5, 12, 13, 31]),
        ("CosineAnnealingLR", [1, 4, 9, 10, 25]),
        ("CosineAnnealingWarmRestarts", [0, 1.5, 4.2, 5, 11, 16.7, 40]),
        ("LinearLR", [0, 3, 12, 20]),
        ("ExponentialLR", [2, 5]),
    ],
)
def test_step_with_explicit_epoch_uses_closed_form(name, epochs):
    topt, popt = _opt(torch), _opt(pdl)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts, ps = _make(torch, name, topt), _make(pdl, name, popt)
        for epoch in epochs:
            topt.step()
            popt.step()
            ts.step(epoch)
            ps.step(epoch)
            assert ps.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
            assert ps.last_epoch == ts.last_epoch
