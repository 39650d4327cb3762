"""RNN / LSTM / GRU (and cells) against PyTorch: state_dict keys, init bounds, outputs and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl

RTOL, ATOL = 1e-9, 1e-10


def _twin(pmod: pdl.nn.Module, tmod: torch.nn.Module) -> None:
    sd = {k: pdl.tensor(v.detach().numpy().copy()) for k, v in tmod.state_dict().items()}
    assert list(sd) == list(pmod.state_dict())
    pmod.load_state_dict(sd)


def _flat(out: object) -> list:
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _check(pmod, tmod, inputs, extra=()):
    """Compare forward outputs and gradients wrt every input and parameter (sum of weighted outputs)."""
    rng = np.random.default_rng(0)
    t_in = [torch.from_numpy(a.copy()).requires_grad_(True) for a in inputs]
    p_in = [pdl.tensor(a.copy()).requires_grad_(True) for a in inputs]
    t_out = _flat(tmod(*t_in[:1], *_pack(t_in[1:], extra)))
    p_out = _flat(pmod(*p_in[:1], *_pack(p_in[1:], extra)))
    assert len(t_out) == len(p_out)
    t_loss, p_loss = 0, 0
    for t, p in zip(t_out, p_out):
        assert tuple(t.shape) == tuple(p.shape)
        np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=RTOL, atol=ATOL)
        w = rng.standard_normal(tuple(t.shape))
        t_loss = t_loss + (t * torch.from_numpy(w)).sum()
        p_loss = p_loss + (p * pdl.tensor(w)).sum()
    t_loss.backward()
    p_loss.backward()
    for t, p in zip(t_in, p_in):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=RTOL, atol=ATOL)
    tp = dict(tmod.named_parameters())
    for name, p in pmod.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)


def _pack(states, extra):
    if not states:
        return ()
    if extra == "lstm":
        return ((states[0], states[1]),)
    return (states[0],)


KINDS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {}),
    ("GRU", {}),
]


@pytest.mark.parametrize("kind,kw", KINDS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_rnn_matches_torch(kind, kw, batch_first, bidirectional, with_state):
    torch.manual_seed(0)
    args = dict(num_layers=2, batch_first=batch_first, bidirectional=bidirectional, **kw)
    tmod = getattr(torch.nn, kind)(3, 4, **args).double()
    pmod = getattr(pdl.nn, kind)(3, 4, **args, dtype=pdl.float64)
    _twin(pmod, tmod)
    rng = np.random.default_rng(1)
    L, N = 5, 2
    x = rng.standard_normal((N, L, 3) if batch_first else (L, N, 3))
    inputs = [x]
    nd = 2 if bidirectional else 1
    if with_state:
        inputs.append(rng.standard_normal((2 * nd, N, 4)))
        if kind == "LSTM":
            inputs.append(rng.standard_normal((2 * nd, N, 4)))
    _check(pmod, tmod, inputs, "lstm" if kind == "LSTM" else None)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_and_no_bias(kind):
    torch.manual_seed(0)
    tmod = getattr(torch.nn, kind)(3, 4, bias=False, bidirectional=True).double()
    pmod = getattr(pdl.nn, kind)(3, 4, bias=False, bidirectional=True, dtype=pdl.float64)
    _twin(pmod, tmod)
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal((6, 3)), rng.standard_normal((2, 4))]
    if kind == "LSTM":
        inputs.append(rng.standard_normal((2, 4)))
    _check(pmod, tmod, inputs, "lstm" if kind == "LSTM" else None)


def test_state_dict_keys_shapes_and_init():
    for kind in ["RNN", "LSTM", "GRU"]:
        tmod = getattr(torch.nn, kind)(5, 32, num_layers=2, bidirectional=True)
        pmod = getattr(pdl.nn, kind)(5, 32, num_layers=2, bidirectional=True)
        tsd, psd = tmod.state_dict(), pmod.state_dict()
        assert list(tsd) == list(psd)
        for k in tsd:
            assert tuple(tsd[k].shape) == tuple(psd[k].shape), k
            assert psd[k].dtype == pdl.float32
        allw = np.concatenate([v.numpy().ravel() for v in psd.values()])
        bound = 1 / np.sqrt(32)
        assert np.abs(allw).max() <= bound
        assert abs(allw.mean()) < 0.01
        assert abs(allw.std() - bound / np.sqrt(3)) < 0.01
        assert repr(pmod) == repr(tmod).replace("torch.", "")
        assert len(pmod.all_weights) == 4


def test_repr_and_attributes():
    for ctor_args in [((3, 4), {}), ((3, 4, 2), {"batch_first": True, "dropout": 0.5, "bias": False})]:
        a, kw = ctor_args
        for kind in ["RNN", "LSTM", "GRU"]:
            assert repr(getattr(pdl.nn, kind)(*a, **kw)) == repr(getattr(torch.nn, kind)(*a, **kw))
    r = pdl.nn.RNN(3, 4, 1, "relu")
    assert r.nonlinearity == "relu" and r.mode == "RNN_RELU"
    with pytest.raises(ValueError):
        pdl.nn.RNN(3, 4, nonlinearity="sigmoid")


def test_dropout_between_layers_train_vs_eval():
    pdl.manual_seed(0)
    m = pdl.nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = pdl.randn(4, 2, 3)
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    c, _ = m(x)
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(kind, batched):
    torch.manual_seed(0)
    tmod = getattr(torch.nn, kind)(3, 4).double()
    pmod = getattr(pdl.nn, kind)(3, 4, dtype=pdl.float64)
    _twin(pmod, tmod)
    rng = np.random.default_rng(3)
    lead = (2,) if batched else ()
    inputs = [rng.standard_normal((*lead, 3)), rng.standard_normal((*lead, 4))]
    if kind == "LSTMCell":
        inputs.append(rng.standard_normal((*lead, 4)))
    _check(pmod, tmod, inputs, "lstm" if kind == "LSTMCell" else None)


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_proj_size(with_state, bias):
    torch.manual_seed(0)
    kw = dict(num_layers=2, bidirectional=True, batch_first=True, proj_size=2, bias=bias)
    tmod = torch.nn.LSTM(3, 4, **kw).double()
    pmod = pdl.nn.LSTM(3, 4, **kw, dtype=pdl.float64)
    _twin(pmod, tmod)
    assert repr(pmod) == repr(tmod)
    rng = np.random.default_rng(4)
    inputs = [rng.standard_normal((2, 5, 3))]
    if with_state:
        inputs += [rng.standard_normal((4, 2, 2)), rng.standard_normal((4, 2, 4))]
    _check(pmod, tmod, inputs, "lstm")
    with pytest.raises(ValueError):
        pdl.nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError):
        pdl.nn.GRU(3, 4, proj_size=2)


def test_fused_lstm_double_backward_matches_torch() -> None:
    """The fused LSTM layer's differentiable backward (gradient penalty style) agrees with torch."""
    import numpy as np
    import torch

    import portable_dl as pdl

    torch.manual_seed(0)
    twin = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    ours = pdl.nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    ours.load_state_dict({k: pdl.tensor(v.detach().numpy()) for k, v in twin.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    results = []
    for lib, model in ((torch, twin), (pdl, ours)):
        inp = lib.tensor(x, requires_grad=True)
        out, (h_n, c_n) = model(inp)
        score = (out**2).sum() + h_n.sum() + (c_n * 0.5).sum()
        (g,) = lib.autograd.grad(score, inp, create_graph=True)
        penalty = (g**2).sum()
        penalty.backward()
        results.append([g.detach().numpy(), *(p.grad.numpy() for p in model.parameters())])
    for ours_grad, torch_grad in zip(results[1], results[0]):
        np.testing.assert_allclose(ours_grad, torch_grad, rtol=1e-8, atol=1e-10)
