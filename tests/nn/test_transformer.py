"""Transformer layers against PyTorch: submodule names, state_dict keys, outputs and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl

RTOL, ATOL = 1e-8, 1e-9
D, H, FF = 8, 2, 16


def _copy(pmod, tmod):
    tsd = tmod.state_dict()
    assert list(tsd) == list(pmod.state_dict())
    pmod.load_state_dict({k: pdl.tensor(v.numpy().copy()) for k, v in tsd.items()})
    tmod.eval()
    pmod.eval()


def _compare(pmod, tmod, arrays, call, masks=None):
    masks = masks or {}
    t_in = [torch.from_numpy(a.copy()).requires_grad_(True) for a in arrays]
    p_in = [pdl.tensor(a.copy()).requires_grad_(True) for a in arrays]
    t_out = call(tmod, t_in, {k: torch.from_numpy(v.copy()) for k, v in masks.items()})
    p_out = call(pmod, p_in, {k: pdl.tensor(v.copy()) for k, v in masks.items()})
    np.testing.assert_allclose(p_out.detach().numpy(), t_out.detach().numpy(), rtol=RTOL, atol=ATOL)
    w = np.random.default_rng(7).standard_normal(tuple(t_out.shape))
    (t_out * torch.from_numpy(w)).sum().backward()
    (p_out * pdl.tensor(w)).sum().backward()
    for t, p in zip(t_in, p_in):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=RTOL, atol=ATOL)
    tp = dict(tmod.named_parameters())
    names = [n for n, _ in pmod.named_parameters()]
    assert names == list(tp)
    for name, p in pmod.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)


def _layer_kwargs(batch_first, norm_first, activation):
    return dict(dim_feedforward=FF, dropout=0.1, activation=activation, batch_first=batch_first, norm_first=norm_first)


def _seq(rng, batch_first, length, n=2):
    return rng.standard_normal((n, length, D) if batch_first else (length, n, D))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_and_stack(batch_first, norm_first, activation):
    kw = _layer_kwargs(batch_first, norm_first, activation)
    torch.manual_seed(0)
    t_layer = torch.nn.TransformerEncoderLayer(D, H, **kw).double()
    tmod = torch.nn.TransformerEncoder(t_layer, 2, norm=torch.nn.LayerNorm(D).double(), enable_nested_tensor=False)
    p_layer = pdl.nn.TransformerEncoderLayer(D, H, **kw, dtype=pdl.float64)
    pmod = pdl.nn.TransformerEncoder(p_layer, 2, norm=pdl.nn.LayerNorm(D, dtype=pdl.float64))
    _copy(pmod, tmod)
    rng = np.random.default_rng(0)
    kpm = np.zeros((2, 4), dtype=bool)
    kpm[1, -1] = True
    mask = np.triu(np.ones((4, 4), dtype=bool), 1)

    def call(m, x, masks):
        return m(x[0], mask=masks["mask"], src_key_padding_mask=masks["kpm"])

    _compare(pmod, tmod, [_seq(rng, batch_first, 4)], call, {"mask": mask, "kpm": kpm})

    # the single layer alone, no masks
    _copy(p_layer, t_layer)
    _compare(p_layer, t_layer, [_seq(rng, batch_first, 3)], lambda m, x, _: m(x[0]))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_and_stack(batch_first, norm_first):
    kw = _layer_kwargs(batch_first, norm_first, "relu")
    torch.manual_seed(0)
    t_layer = torch.nn.TransformerDecoderLayer(D, H, **kw).double()
    tmod = torch.nn.TransformerDecoder(t_layer, 2, norm=torch.nn.LayerNorm(D).double())
    p_layer = pdl.nn.TransformerDecoderLayer(D, H, **kw, dtype=pdl.float64)
    pmod = pdl.nn.TransformerDecoder(p_layer, 2, norm=pdl.nn.LayerNorm(D, dtype=pdl.float64))
    _copy(pmod, tmod)
    rng = np.random.default_rng(1)
    tgt_mask = np.triu(np.ones((3, 3), dtype=bool), 1)
    mem_kpm = np.zeros((2, 5), dtype=bool)
    mem_kpm[0, 3:] = True
    tgt_kpm = np.zeros((2, 3), dtype=bool)
    tgt_kpm[1, 2] = True

    def call(m, x, masks):
        return m(x[0], x[1], tgt_mask=masks["tm"], tgt_key_padding_mask=masks["tk"],
                 memory_key_padding_mask=masks["mk"])  # fmt: skip

    arrays = [_seq(rng, batch_first, 3), _seq(rng, batch_first, 5)]
    _compare(pmod, tmod, arrays, call, {"tm": tgt_mask, "tk": tgt_kpm, "mk": mem_kpm})


def test_full_transformer():
    torch.manual_seed(0)
    kw = dict(d_model=D, nhead=H, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=FF, batch_first=True)
    tmod = torch.nn.Transformer(**kw).double()
    pmod = pdl.nn.Transformer(**kw, dtype=pdl.float64)
    assert repr(pmod) == repr(tmod)
    _copy(pmod, tmod)
    rng = np.random.default_rng(2)
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64).numpy()
    np.testing.assert_array_equal(pdl.nn.Transformer.generate_square_subsequent_mask(3).numpy(), tgt_mask)

    def call(m, x, masks):
        return m(x[0], x[1], tgt_mask=masks["tm"])

    _compare(pmod, tmod, [_seq(rng, True, 4), _seq(rng, True, 3)], call, {"tm": tgt_mask})


def test_structure_init_and_clones():
    t = torch.nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, bias=False)
    p = pdl.nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, bias=False)
    assert list(t.state_dict()) == list(p.state_dict())
    assert repr(p) == repr(t)
    assert [n for n, _ in p.named_children()] == [n for n, _ in t.named_children()]
    assert p.activation_relu_or_gelu == 1
    assert pdl.nn.TransformerEncoderLayer(16, 4, activation="gelu").activation_relu_or_gelu == 2
    t_dec = torch.nn.TransformerDecoderLayer(16, 4, dim_feedforward=32)
    p_dec = pdl.nn.TransformerDecoderLayer(16, 4, dim_feedforward=32)
    assert list(t_dec.state_dict()) == list(p_dec.state_dict()) and repr(p_dec) == repr(t_dec)
    enc = pdl.nn.TransformerEncoder(p, 3)
    w = [layer.linear1.weight for layer in enc.layers]
    assert w[0] is not w[1] and w[0]._data is not w[1]._data
    np.testing.assert_array_equal(w[0].detach().numpy(), w[1].detach().numpy())  # clones of one layer
    full = pdl.nn.Transformer(32, 4, 1, 1, 64)
    lin = full.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6.0 / (32 + 64))
    assert np.abs(lin).max() <= bound and abs(lin.std() - bound / np.sqrt(3)) < 0.02


def test_dropout_train_mode_changes_output():
    pdl.manual_seed(0)
    layer = pdl.nn.TransformerEncoderLayer(D, H, dim_feedforward=FF, dropout=0.5)
    x = pdl.randn(3, 2, D)
    layer.eval()
    a = layer(x).detach().numpy()
    np.testing.assert_array_equal(a, layer(x).detach().numpy())
    layer.train()
    assert not np.allclose(a, layer(x).detach().numpy())


def test_unbatched_layers():
    torch.manual_seed(0)
    t_enc = torch.nn.TransformerEncoderLayer(D, H, dim_feedforward=FF).double()
    p_enc = pdl.nn.TransformerEncoderLayer(D, H, dim_feedforward=FF, dtype=pdl.float64)
    _copy(p_enc, t_enc)
    rng = np.random.default_rng(3)
    kpm = np.array([False, False, True])
    _compare(p_enc, t_enc, [rng.standard_normal((3, D))], lambda m, x, k: m(x[0], src_key_padding_mask=k["k"]),
             {"k": kpm})  # fmt: skip
    t_dec = torch.nn.TransformerDecoderLayer(D, H, dim_feedforward=FF, norm_first=True).double()
    p_dec = pdl.nn.TransformerDecoderLayer(D, H, dim_feedforward=FF, norm_first=True, dtype=pdl.float64)
    _copy(p_dec, t_dec)
    arrays = [rng.standard_normal((3, D)), rng.standard_normal((4, D))]
    _compare(p_dec, t_dec, arrays, lambda m, x, _: m(x[0], x[1]))
