"""Loss modules against their torch.nn twins: values and input gradients for every reduction, repr,
registered buffers / state_dict keys, legacy ``size_average``/``reduce`` and constructor signatures."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch

import portable_dl as pdl

RNG = np.random.default_rng(1)
N, C = 5, 4
REDUCTIONS = ["mean", "sum", "none"]


def _normal(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def _sign(*shape: int) -> np.ndarray:
    return np.where(RNG.random(shape) < 0.5, -1.0, 1.0)


def _prob(*shape: int) -> np.ndarray:
    return RNG.uniform(0.05, 0.95, shape)


def _labels(*shape: int) -> np.ndarray:
    return RNG.integers(0, C, shape).astype(np.int64)


def _log_prob(*shape: int) -> np.ndarray:
    x = RNG.standard_normal(shape)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _positive(*shape: int) -> np.ndarray:
    return RNG.uniform(0.2, 2.0, shape)


# (name, args, kwargs, inputs: list of (array, differentiable)); kwargs arrays become tensors (buffers)
def _cases() -> list:
    w = _positive(C)
    ignore = _labels(N)
    ignore[1] = 2
    soft = _prob(N, C)
    soft /= soft.sum(-1, keepdims=True)
    return [
        ("L1Loss", (), {}, [(_normal(N, C), True), (_normal(N, C), True)]),
        ("MSELoss", (), {}, [(_normal(N, C), True), (_normal(N, C), True)]),
        ("CrossEntropyLoss", (), {}, [(_normal(N, C), True), (_labels(N), False)]),
        ("CrossEntropyLoss", (), {"weight": w}, [(_normal(N, C), True), (_labels(N), False)]),
        ("CrossEntropyLoss", (), {"ignore_index": 2}, [(_normal(N, C), True), (ignore, False)]),
        (
            "CrossEntropyLoss",
            (),
            {"weight": w, "label_smoothing": 0.1},
            [(_normal(N, C, 3), True), (_labels(N, 3), False)],
        ),
        ("CrossEntropyLoss", (), {"label_smoothing": 0.2}, [(_normal(N, C), True), (soft, True)]),
        ("NLLLoss", (), {}, [(_log_prob(N, C), True), (_labels(N), False)]),
        ("NLLLoss", (), {"weight": w, "ignore_index": 2}, [(_log_prob(N, C), True), (ignore, False)]),
        ("BCELoss", (), {}, [(_prob(N, C), True), (_prob(N, C), True)]),
        ("BCELoss", (), {"weight": _positive(C)}, [(_prob(N, C), True), (_prob(N, C), False)]),
        ("BCEWithLogitsLoss", (), {}, [(_normal(N, C), True), (_prob(N, C), True)]),
        (
            "BCEWithLogitsLoss",
            (),
            {"weight": _positive(C), "pos_weight": _positive(C)},
            [(_normal(N, C), True), (_prob(N, C), True)],
        ),
        ("BCEWithLogitsLoss", (), {"pos_weight": _positive(C)}, [(_normal(N, C), True), (_prob(N, C), False)]),
        ("KLDivLoss", (), {}, [(_log_prob(N, C), True), (_prob(N, C), True)]),
        ("KLDivLoss", (), {"log_target": True}, [(_log_prob(N, C), True), (_log_prob(N, C), True)]),
        ("SmoothL1Loss", (), {}, [(_normal(N, C) * 2, True), (_normal(N, C), True)]),
        ("SmoothL1Loss", (), {"beta": 0.5}, [(_normal(N, C) * 2, True), (_normal(N, C), True)]),
        ("HuberLoss", (), {}, [(_normal(N, C) * 2, True), (_normal(N, C), True)]),
        ("HuberLoss", (), {"delta": 0.3}, [(_normal(N, C) * 2, True), (_normal(N, C), True)]),
        ("CosineEmbeddingLoss", (), {}, [(_normal(N, C), True), (_normal(N, C), True), (_sign(N), False)]),
        (
            "CosineEmbeddingLoss",
            (0.2,),
            {},
            [(_normal(N, C), True), (_normal(N, C), True), (_sign(N), False)],
        ),
        ("MarginRankingLoss", (), {}, [(_normal(N), True), (_normal(N), True), (_sign(N), False)]),
        ("MarginRankingLoss", (0.5,), {}, [(_normal(N), True), (_normal(N), True), (_sign(N), False)]),
        ("HingeEmbeddingLoss", (), {}, [(_normal(N, C), True), (_sign(N, C), False)]),
        ("HingeEmbeddingLoss", (0.5,), {}, [(_normal(N, C), True), (_sign(N, C), False)]),
        ("SoftMarginLoss", (), {}, [(_normal(N, C), True), (_sign(N, C), False)]),
        ("MultiMarginLoss", (), {}, [(_normal(N, C), True), (_labels(N), False)]),
        ("MultiMarginLoss", (2, 0.5), {"weight": w}, [(_normal(N, C), True), (_labels(N), False)]),
        (
            "TripletMarginLoss",
            (),
            {},
            [(_normal(N, C), True), (_normal(N, C), True), (_normal(N, C), True)],
        ),
        (
            "TripletMarginLoss",
            (0.5, 1.0),
            {"swap": True},
            [(_normal(N, C), True), (_normal(N, C), True), (_normal(N, C), True)],
        ),
        ("PoissonNLLLoss", (), {}, [(_normal(N, C), True), (_positive(N, C) * 3, False)]),
        (
            "PoissonNLLLoss",
            (False, True),
            {"eps": 1e-6},
            [(_positive(N, C), True), (_positive(N, C) * 3, False)],
        ),
        (
            "GaussianNLLLoss",
            (),
            {},
            [(_normal(N, C), True), (_normal(N, C), True), (_positive(N, C), True)],
        ),
        (
            "GaussianNLLLoss",
            (),
            {"full": True, "eps": 1e-3},
            [(_normal(N, C), True), (_normal(N, C), True), (_positive(N, 1), True)],
        ),
        ("MultiLabelSoftMarginLoss", (), {}, [(_normal(N, C), True), (_labels(N, C) % 2, False)]),
        (
            "MultiLabelSoftMarginLoss",
            (),
            {"weight": _positive(C)},
            [(_normal(N, C), True), ((_labels(N, C) % 2).astype(np.float64), False)],
        ),
    ]


CASES = _cases()


def _ids(case: tuple) -> str:
    name, args, kwargs, _ = case
    return f"{name}-{args}-{sorted(kwargs)}"


def _build(lib, name: str, args: tuple, kwargs: dict, reduction: str):
    kw = {k: lib.tensor(v.copy()) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return getattr(lib.nn, name)(*args, reduction=reduction, **kw)


def _run(module, lib, inputs: list, g_np: np.ndarray | None):
    tensors = [lib.tensor(a.copy(), requires_grad=diff) for a, diff in inputs]
    out = module(*tensors)
    if g_np is None:
        out.backward()
    else:
        out.backward(lib.tensor(g_np.copy()))
    grads = [t.grad.detach().numpy() if diff else None for t, (_, diff) in zip(tensors, inputs)]
    return out.detach().numpy(), grads


KL_CASES = [c for c in CASES if c[0] == "KLDivLoss"]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize(
    ("case", "reduction"),
    [(c, r) for c in CASES for r in REDUCTIONS] + [(c, "batchmean") for c in KL_CASES],
    ids=[f"{_ids(c)}-{r}" for c in CASES for r in REDUCTIONS] + [f"{_ids(c)}-batchmean" for c in KL_CASES],
)
def test_matches_torch(case: tuple, reduction: str) -> None:
    name, args, kwargs, inputs = case
    tm = _build(torch, name, args, kwargs, reduction)
    pm = _build(pdl, name, args, kwargs, reduction)
    assert repr(pm) == repr(tm)
    assert list(pm.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in pm.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert list(pm.parameters()) == [] and list(tm.parameters()) == []
    assert pm.reduction == tm.reduction == reduction
    t_val = tm(*[torch.from_numpy(a.copy()) for a, _ in inputs])
    g = None if t_val.dim() == 0 else RNG.standard_normal(tuple(t_val.shape))
    t_out, t_grads = _run(tm, torch, inputs, g)
    p_out, p_grads = _run(pm, pdl, inputs, g)
    assert p_out.shape == t_out.shape and p_out.dtype == t_out.dtype
    np.testing.assert_allclose(p_out, t_out, rtol=1e-10, atol=1e-12)
    for i, (pg, tg) in enumerate(zip(p_grads, t_grads)):
        if tg is None:
            continue
        np.testing.assert_allclose(pg, tg, rtol=1e-9, atol=1e-12, err_msg=f"grad of input {i}")


def test_float32_cross_entropy_and_mse() -> None:
    x = RNG.standard_normal((N, C)).astype(np.float32)
    y = _labels(N)
    t = torch.nn.CrossEntropyLoss()(torch.from_numpy(x), torch.from_numpy(y))
    p = pdl.nn.CrossEntropyLoss()(pdl.tensor(x), pdl.tensor(y))
    assert p.dtype == pdl.float32
    np.testing.assert_allclose(p.numpy(), t.numpy(), rtol=1e-6)
    z = RNG.standard_normal((N, C)).astype(np.float32)
    t = torch.nn.MSELoss()(torch.from_numpy(x), torch.from_numpy(z))
    p = pdl.nn.MSELoss()(pdl.tensor(x), pdl.tensor(z))
    np.testing.assert_allclose(p.numpy(), t.numpy(), rtol=1e-6)


NAMES = sorted({c[0] for c in CASES})


@pytest.mark.parametrize("name", NAMES)
def test_constructor_signature_matches_torch(name: str) -> None:
    def params(cls: type) -> list:
        sig = inspect.signature(cls.__init__)
        return [(p.name, p.default, p.kind) for p in sig.parameters.values()]

    assert params(getattr(pdl.nn, name)) == params(getattr(torch.nn, name))


@pytest.mark.parametrize("name", NAMES)
def test_defaults_match_torch(name: str) -> None:
    tm, pm = getattr(torch.nn, name)(), getattr(pdl.nn, name)()
    assert repr(pm) == repr(tm)
    assert list(pm.state_dict()) == list(tm.state_dict()) == []
    attrs = {k: v for k, v in vars(tm).items() if not k.startswith("_") and k != "training"}
    assert attrs, name
    for key, value in attrs.items():
        assert getattr(pm, key) == value, key
    for buf in ("weight", "pos_weight"):
        assert hasattr(pm, buf) == hasattr(tm, buf)
        if hasattr(tm, buf):
            assert getattr(pm, buf) is None and getattr(tm, buf) is None


@pytest.mark.parametrize(
    ("size_average", "reduce"),
    [(None, False), (False, None), (True, True), (False, True), (True, False), (None, True)],
)
@pytest.mark.parametrize("name", ["L1Loss", "MSELoss", "NLLLoss", "CrossEntropyLoss", "BCEWithLogitsLoss"])
def test_legacy_size_average_reduce(name: str, size_average, reduce) -> None:
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        tm = getattr(torch.nn, name)(size_average=size_average, reduce=reduce, reduction="mean")
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated") as pw:
        pm = getattr(pdl.nn, name)(size_average=size_average, reduce=reduce, reduction="mean")
    assert pm.reduction == tm.reduction
    assert str(pw[0].message) == str(tw[0].message)


def test_weight_buffers_are_state_dict_entries() -> None:
    w = np.array([1.0, 2.0, 0.5, 3.0])
    pm = pdl.nn.CrossEntropyLoss(weight=pdl.tensor(w))
    assert list(pm.state_dict()) == ["weight"]
    np.testing.assert_array_equal(pm.state_dict()["weight"].numpy(), w)
    tm = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(w))
    pm2 = pdl.nn.CrossEntropyLoss(weight=pdl.zeros(4, dtype=pdl.float64))
    pm2.load_state_dict({k: pdl.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    np.testing.assert_array_equal(pm2.weight.numpy(), w)
    bce = pdl.nn.BCEWithLogitsLoss(pos_weight=pdl.ones(3))
    tbce = torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(3))
    assert list(bce.state_dict()) == list(tbce.state_dict()) == ["pos_weight"]
    both = pdl.nn.BCEWithLogitsLoss(weight=pdl.ones(3), pos_weight=pdl.ones(3))
    assert list(both.state_dict()) == ["weight", "pos_weight"]
    assert list(pdl.nn.MultiMarginLoss(weight=pdl.ones(3)).state_dict()) == ["weight"]
    assert list(pdl.nn.BCELoss(weight=pdl.ones(3)).state_dict()) == ["weight"]
    assert list(pdl.nn.NLLLoss(weight=pdl.ones(3)).state_dict()) == ["weight"]


def test_loss_buffers_follow_module_dtype_cast() -> None:
    pm = pdl.nn.CrossEntropyLoss(weight=pdl.ones(3))
    pm.double()
    assert pm.weight.dtype == pdl.float64


def test_loss_is_child_in_parent_repr_and_state_dict() -> None:
    class Net(pdl.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.crit = pdl.nn.CrossEntropyLoss(weight=pdl.ones(2))

    class TNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.crit = torch.nn.CrossEntropyLoss(weight=torch.ones(2))

    assert list(Net().state_dict()) == list(TNet().state_dict()) == ["crit.weight"]
    assert repr(Net()).replace("Net", "X") == repr(TNet()).replace("TNet", "X")


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        pdl.nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="1D tensor"):
        pdl.nn.MultiMarginLoss(weight=pdl.ones(2, 2))
    with pytest.raises(ValueError, match="greater than 0"):
        pdl.nn.TripletMarginLoss(margin=0.0)
    with pytest.raises(TypeError, match="delta must be a float or int"):
        pdl.nn.HuberLoss(delta="1")
    with pytest.raises(TypeError):
        pdl.nn.GaussianNLLLoss(True)  # keyword-only, as in torch


def test_gaussian_nll_scalar_var() -> None:
    x, y = _normal(N, C), _normal(N, C)
    t = torch.nn.GaussianNLLLoss()(torch.from_numpy(x), torch.from_numpy(y), 0.7)
    p = pdl.nn.GaussianNLLLoss()(pdl.tensor(x), pdl.tensor(y), 0.7)
    np.testing.assert_allclose(p.numpy(), t.numpy(), rtol=1e-10)


def test_bad_reduction_raises_at_forward() -> None:
    pm = pdl.nn.MSELoss(reduction="bogus")  # torch accepts it at construction, too
    assert pm.reduction == "bogus"
    with pytest.raises(ValueError):
        pm(pdl.zeros(2), pdl.zeros(2))
