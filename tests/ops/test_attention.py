"""scaled_dot_product_attention against PyTorch: masks (bool, float, causal), batch broadcasting, GQA,
fully masked rows, gradients of first and second order, dropout statistics and error paths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import portable_dl as pdl
import portable_dl.nn.functional as PF
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)
INF = float("inf")


def randn(*shape: int, dtype: type = np.float32) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def sdpa(*args: object, **kwargs: object) -> object:
    fn = TF if isinstance(args[0], torch.Tensor) else PF
    return fn.scaled_dot_product_attention(*args, **kwargs)


SHAPES = [
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),
    ((4, 5), (6, 5), (6, 7)),
    ((2, 4, 3), (2, 6, 3), (2, 6, 2)),
    ((2, 3, 4, 5), (1, 3, 6, 5), (1, 3, 6, 7)),  # broadcast batch
    ((1, 4, 5), (1, 1, 5), (1, 1, 3)),  # one key
]


@pytest.mark.parametrize("shapes", SHAPES)
def test_parity(shapes: tuple, device: str) -> None:
    q, k, v = (randn(*s) for s in shapes)
    parity(sdpa, [q, k, v], device=device, double=True)
    parity(lambda q, k, v: sdpa(q, k, v, scale=0.3), [q, k, v], device=device, double=True)


@pytest.mark.parametrize("shapes", SHAPES[:3])
def test_causal(shapes: tuple, device: str) -> None:
    q, k, v = (randn(*s) for s in shapes)
    parity(lambda q, k, v: sdpa(q, k, v, is_causal=True), [q, k, v], device=device, double=True)
    # L > S: every row still sees at least one key
    q2 = randn(*(shapes[0][:-2] + (8, shapes[0][-1])))
    parity(lambda q, k, v: sdpa(q, k, v, is_causal=True), [q2, k, v], device=device, double=True)


@pytest.mark.parametrize("mshape", [(4, 6), (2, 1, 4, 6), (1, 6), (3, 4, 6)])
def test_bool_mask(mshape: tuple, device: str) -> None:
    q, k, v = randn(2, 3, 4, 5), randn(2, 3, 6, 5), randn(2, 3, 6, 7)
    mask = rng.random(mshape) > 0.3
    mask[..., 0] = True
    parity(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m), [q, k, v, mask], device=device, double=True)


@pytest.mark.parametrize("mshape", [(4, 6), (2, 1, 4, 6), (1, 6)])
def test_float_mask_with_grad(mshape: tuple, device: str) -> None:
    q, k, v = randn(2, 3, 4, 5), randn(2, 3, 6, 5), randn(2, 3, 6, 7)
    mask = randn(*mshape)
    parity(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m), [q, k, v, mask], device=device, double=True)


def test_mask_must_broadcast_into_weights() -> None:
    q, k, v = randn(4, 5), randn(6, 5), randn(6, 7)  # no batch dims, a batched mask: torch refuses too
    with pytest.raises(RuntimeError):
        TF.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)), attn_mask=torch.tensor(randn(3, 4, 6)))
    with pytest.raises(RuntimeError, match="attn_mask"):
        PF.scaled_dot_product_attention(*(pdl.tensor(a) for a in (q, k, v)), attn_mask=pdl.tensor(randn(3, 4, 6)))


def test_fully_masked_rows_give_zeros(device: str) -> None:
    q, k, v = randn(2, 4, 5), randn(2, 6, 5), randn(2, 6, 7)
    bmask = np.ones((4, 6), dtype=bool)
    bmask[1] = False
    parity(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m), [q, k, v, bmask], device=device, double=True)
    fmask = np.zeros((4, 6), dtype=np.float32)
    fmask[2] = -INF
    fmask[3, :3] = -INF
    parity(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m), [q, k, v, fmask], device=device, requires_grad=[0, 1, 2],
           double=True)  # fmt: skip
    out = PF.scaled_dot_product_attention(pdl.tensor(q), pdl.tensor(k), pdl.tensor(v), attn_mask=pdl.tensor(bmask))
    assert not out.numpy()[:, 1].any() and np.isfinite(out.numpy()).all()


def test_gqa(device: str) -> None:
    q, k, v = randn(2, 4, 3, 5), randn(2, 2, 6, 5), randn(2, 2, 6, 7)
    parity(lambda q, k, v: sdpa(q, k, v, enable_gqa=True), [q, k, v], device=device, double=True)
    parity(lambda q, k, v: sdpa(q, k, v, enable_gqa=True, is_causal=True), [q, k, v], device=device)
    q1 = randn(2, 2, 3, 5)  # same head count: enable_gqa is a no-op
    parity(lambda q, k, v: sdpa(q, k, v, enable_gqa=True), [q1, k, v], device=device)


def test_empty(device: str) -> None:
    parity(sdpa, [randn(0, 4, 5), randn(0, 6, 5), randn(0, 6, 7)], device=device)
    parity(sdpa, [randn(2, 0, 5), randn(2, 6, 5), randn(2, 6, 7)], device=device)
    parity(sdpa, [randn(2, 4, 5), randn(2, 0, 5), randn(2, 0, 7)], device=device)


def test_dtypes(device: str) -> None:
    q, k, v = randn(2, 4, 5), randn(2, 6, 5), randn(2, 6, 7)
    parity(sdpa, [q.astype(np.float64), k.astype(np.float64), v.astype(np.float64)], device=device, double=True)
    parity(sdpa, [q.astype(np.float16), k.astype(np.float16), v.astype(np.float16)], device=device, grad=False)
    parity(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m),
           [q.astype(np.float64), k.astype(np.float64), v.astype(np.float64), randn(4, 6).astype(np.float64)],
           device=device, double=True)  # fmt: skip


def test_gradcheck() -> None:
    q, k, v = (rng.standard_normal(s) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3)))
    gradcheck(lambda q, k, v: PF.scaled_dot_product_attention(q, k, v), [q, k, v], double=True)
    gradcheck(lambda q, k, v: PF.scaled_dot_product_attention(q, k, v, is_causal=True), [q, k, v], double=True)
    gradcheck(lambda q, k, v, m: PF.scaled_dot_product_attention(q, k, v, attn_mask=m),
              [q, k, v, rng.standard_normal((3, 5))], double=True)  # fmt: skip
    qg, kg, vg = rng.standard_normal((1, 4, 2, 3)), rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((1, 2, 3, 2))
    gradcheck(lambda q, k, v: PF.scaled_dot_product_attention(q, k, v, enable_gqa=True), [qg, kg, vg], double=True)


def test_dropout(device: str) -> None:
    # one query attending uniformly over 8 keys, identity values: the output row is the dropped-out weights
    q, k = pdl.zeros(200, 1, 4, device=device), pdl.zeros(200, 8, 4, device=device)
    v = pdl.tensor(np.tile(np.eye(8, dtype=np.float32), (200, 1, 1)), device=device, requires_grad=True)
    pdl.manual_seed(0)
    out = PF.scaled_dot_product_attention(q, k, v, dropout_p=0.25)
    values = out.detach().cpu().numpy()
    assert np.all(np.isclose(values, 0) | np.isclose(values, 0.125 / 0.75))
    assert abs((values != 0).mean() - 0.75) < 0.03
    (gv,) = pdl.autograd.grad(out.sum(), v)
    np.testing.assert_allclose(gv.cpu().numpy()[:, :, 0], values[:, 0, :], rtol=1e-6)  # = (P * noise)^T @ 1
    pdl.manual_seed(0)
    again = PF.scaled_dot_product_attention(q, k, v, dropout_p=0.25).detach().cpu().numpy()
    np.testing.assert_array_equal(values, again)


def test_errors() -> None:
    q, k, v = pdl.tensor(randn(2, 4, 5)), pdl.tensor(randn(2, 6, 5)), pdl.tensor(randn(2, 6, 7))
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        PF.scaled_dot_product_attention(q, k, v, attn_mask=pdl.ones(4, 6, dtype=pdl.bool), is_causal=True)
    with pytest.raises(RuntimeError, match="at least 2 dimensional"):
        PF.scaled_dot_product_attention(pdl.ones(5), pdl.ones(5), pdl.ones(5))
    with pytest.raises(RuntimeError, match="same dtype"):
        PF.scaled_dot_product_attention(q, k, v.double())
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        PF.scaled_dot_product_attention(q, k, v, attn_mask=pdl.zeros(4, 6, dtype=pdl.int64))
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        PF.scaled_dot_product_attention(q, k, v, attn_mask=pdl.zeros(4, 6, dtype=pdl.float64))
    with pytest.raises(RuntimeError):
        PF.scaled_dot_product_attention(q, k, v, attn_mask=pdl.zeros(3, 6))
    with pytest.raises(RuntimeError):
        PF.scaled_dot_product_attention(q, pdl.tensor(randn(2, 6, 4)), v)
    with pytest.raises(RuntimeError):
        PF.scaled_dot_product_attention(pdl.tensor(randn(3, 4, 5)), k, v)
    with pytest.raises(RuntimeError, match="Number of heads"):
        PF.scaled_dot_product_attention(pdl.tensor(randn(2, 4, 4, 5)), pdl.tensor(randn(2, 3, 6, 5)),
                                        pdl.tensor(randn(2, 3, 6, 7)), enable_gqa=True)  # fmt: skip
    with pytest.raises(RuntimeError, match="floating point"):
        PF.scaled_dot_product_attention(pdl.ones(4, 5, dtype=pdl.int64), pdl.ones(6, 5, dtype=pdl.int64),
                                        pdl.ones(6, 7, dtype=pdl.int64))  # fmt: skip
