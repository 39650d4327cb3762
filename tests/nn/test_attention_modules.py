"""nn.MultiheadAttention against PyTorch: parameters, state_dict keys, init, outputs, weights and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl

RTOL, ATOL = 1e-9, 1e-10


def _pair(**kw):
    torch.manual_seed(0)
    tmod = torch.nn.MultiheadAttention(8, 2, **kw).double()
    pmod = pdl.nn.MultiheadAttention(8, 2, **kw, dtype=pdl.float64)
    tsd = tmod.state_dict()
    assert list(tsd) == list(pmod.state_dict())
    pmod.load_state_dict({k: pdl.tensor(v.numpy().copy()) for k, v in tsd.items()})
    return pmod, tmod


def _run(pmod, tmod, arrays, masks=None, self_attn=False, **fkw):
    masks = masks or {}
    t_in = [torch.from_numpy(a.copy()).requires_grad_(True) for a in arrays]
    p_in = [pdl.tensor(a.copy()).requires_grad_(True) for a in arrays]
    tq = (t_in[0],) * 3 if self_attn else tuple(t_in)
    pq = (p_in[0],) * 3 if self_attn else tuple(p_in)
    t_m = {k: torch.from_numpy(v.copy()) for k, v in masks.items()}
    p_m = {k: pdl.tensor(v.copy()) for k, v in masks.items()}
    t_out, t_w = tmod(*tq, **t_m, **fkw)
    p_out, p_w = pmod(*pq, **p_m, **fkw)
    np.testing.assert_allclose(p_out.detach().numpy(), t_out.detach().numpy(), rtol=RTOL, atol=ATOL)
    if t_w is None:
        assert p_w is None
    else:
        np.testing.assert_allclose(p_w.detach().numpy(), t_w.detach().numpy(), rtol=RTOL, atol=ATOL)
    w = np.random.default_rng(5).standard_normal(tuple(t_out.shape))
    loss_t = (t_out * torch.from_numpy(w)).sum() + (0 if t_w is None else (t_w**2).sum())
    loss_p = (p_out * pdl.tensor(w)).sum() + (0 if p_w is None else (p_w**2).sum())
    loss_t.backward()
    loss_p.backward()
    for t, p in zip(t_in, p_in):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=RTOL, atol=ATOL)
    tp = dict(tmod.named_parameters())
    for name, p in pmod.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("self_attn", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_matches_torch(batch_first, self_attn, need_weights, average):
    pmod, tmod = _pair(batch_first=batch_first)
    pmod.eval()
    tmod.eval()
    rng = np.random.default_rng(0)
    L, S, N = 3, 4, 2
    if self_attn:
        S = L
    q = rng.standard_normal((N, L, 8) if batch_first else (L, N, 8))
    k = rng.standard_normal((N, S, 8) if batch_first else (S, N, 8))
    v = rng.standard_normal((N, S, 8) if batch_first else (S, N, 8))
    arrays = [q] if self_attn else [q, k, v]
    _run(pmod, tmod, arrays, self_attn=self_attn, need_weights=need_weights, average_attn_weights=average)


@pytest.mark.parametrize("mask_kind", ["bool", "float"])
@pytest.mark.parametrize("mask_dim", [2, 3])
def test_mha_masks(mask_kind, mask_dim):
    pmod, tmod = _pair()
    rng = np.random.default_rng(1)
    L, S, N = 3, 5, 2
    arrays = [rng.standard_normal((L, N, 8)), rng.standard_normal((S, N, 8)), rng.standard_normal((S, N, 8))]
    shape = (L, S) if mask_dim == 2 else (N * 2, L, S)
    if mask_kind == "bool":
        attn_mask = rng.random(shape) < 0.3
        attn_mask[..., 0] = False  # keep at least one key per row
        kpm = np.zeros((N, S), dtype=bool)
        kpm[0, -2:] = True
    else:
        attn_mask = rng.standard_normal(shape)
        kpm = rng.standard_normal((N, S))
    _run(pmod, tmod, arrays, {"attn_mask": attn_mask, "key_padding_mask": kpm})


def test_mha_causal_hint():
    pmod, tmod = _pair(batch_first=True)
    rng = np.random.default_rng(2)
    mask = np.triu(np.ones((4, 4), dtype=bool), 1)
    _run(pmod, tmod, [rng.standard_normal((2, 4, 8))], {"attn_mask": mask}, self_attn=True, is_causal=True)
    with pytest.raises(RuntimeError):
        pmod(*(pdl.randn(2, 4, 8, dtype=pdl.float64),) * 3, is_causal=True)


@pytest.mark.parametrize(
    "kw",
    [
        {"kdim": 5, "vdim": 6},
        {"bias": False},
        {"add_bias_kv": True},
        {"add_zero_attn": True},
        {"add_bias_kv": True, "add_zero_attn": True, "kdim": 3, "vdim": 3},
    ],
)
def test_mha_variants(kw):
    pmod, tmod = _pair(**kw)
    rng = np.random.default_rng(3)
    kd, vd = kw.get("kdim", 8), kw.get("vdim", 8)
    arrays = [rng.standard_normal((3, 2, 8)), rng.standard_normal((4, 2, kd)), rng.standard_normal((4, 2, vd))]
    mask = np.zeros((3, 4), dtype=bool)
    mask[:, 1] = True
    kpm = np.zeros((2, 4), dtype=bool)
    kpm[1, 2] = True
    _run(pmod, tmod, arrays, {"attn_mask": mask, "key_padding_mask": kpm}, average_attn_weights=False)


def test_mha_unbatched():
    pmod, tmod = _pair()
    rng = np.random.default_rng(4)
    kpm = np.array([False, False, True, False])
    arrays = [rng.standard_normal((3, 8)), rng.standard_normal((4, 8)), rng.standard_normal((4, 8))]
    _run(pmod, tmod, arrays, {"key_padding_mask": kpm})


def test_mha_structure_and_init():
    t = torch.nn.MultiheadAttention(64, 4, kdim=32, vdim=16, add_bias_kv=True)
    p = pdl.nn.MultiheadAttention(64, 4, kdim=32, vdim=16, add_bias_kv=True)
    assert list(t.state_dict()) == list(p.state_dict())
    for (tn, tv), (pn, pv) in zip(t.state_dict().items(), p.state_dict().items()):
        assert tn == pn and tuple(tv.shape) == tuple(pv.shape)
    assert repr(p) == repr(t)
    assert p.in_proj_weight is None and p.head_dim == 16 and not p._qkv_same_embed_dim
    m = pdl.nn.MultiheadAttention(64, 4)
    w = m.in_proj_weight.detach().numpy()
    bound = np.sqrt(6.0 / (64 + 192))
    assert np.abs(w).max() <= bound and abs(w.std() - bound / np.sqrt(3)) < 0.01
    assert np.all(m.in_proj_bias.detach().numpy() == 0) and np.all(m.out_proj.bias.detach().numpy() == 0)
    assert m.bias_k is None and m.bias_v is None
    with pytest.raises(AssertionError):
        pdl.nn.MultiheadAttention(10, 3)


def test_mha_dropout_train():
    pdl.manual_seed(0)
    m = pdl.nn.MultiheadAttention(8, 2, dropout=0.5)
    x = pdl.randn(3, 2, 8)
    a, w = m(x, x, x, average_attn_weights=False)
    assert np.any(w.detach().numpy() == 0)
    m.eval()
    a1, _ = m(x, x, x)
    a2, _ = m(x, x, x)
    np.testing.assert_array_equal(a1.detach().numpy(), a2.detach().numpy())
