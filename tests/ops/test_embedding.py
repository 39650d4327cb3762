"""one_hot, embedding and embedding_bag against PyTorch: values, gradients (first and second order),
padding_idx, scale_grad_by_freq, max_norm renormalisation, bags, and error paths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import portable_dl as pdl
import portable_dl.nn.functional as PF
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)


def randn(*shape: int, dtype: type = np.float32) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def F(x: object) -> object:
    return TF if isinstance(x, torch.Tensor) else PF


def idx(*shape: int, high: int = 5) -> np.ndarray:
    return rng.integers(0, high, shape).astype(np.int64)


# ----- one_hot ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4,), (2, 3), (), (0,)])
def test_one_hot(shape: tuple, device: str) -> None:
    x = idx(*shape)
    parity(lambda t: F(t).one_hot(t, 6), [x], device=device)
    if x.size:
        parity(lambda t: F(t).one_hot(t), [x], device=device)
    parity(lambda t: (pdl if isinstance(t, pdl.Tensor) else torch).nn.functional.one_hot(t, 5), [x], device=device)


def test_one_hot_errors() -> None:
    with pytest.raises(RuntimeError, match="LongTensor"):
        PF.one_hot(pdl.tensor([0, 1], dtype=pdl.int32))
    with pytest.raises(RuntimeError, match="non-negative"):
        PF.one_hot(pdl.tensor([0, -1]))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        PF.one_hot(pdl.tensor([0, 2]), 2)
    with pytest.raises(RuntimeError, match="empty tensor"):
        PF.one_hot(pdl.tensor([], dtype=pdl.int64))


# ----- embedding ----------------------------------------------------------------------------------
@pytest.mark.parametrize("ishape", [(4,), (2, 3), (), (0,), (2, 0, 3)])
@pytest.mark.parametrize("itype", [np.int64, np.int32])
def test_embedding(ishape: tuple, itype: type, device: str) -> None:
    x = idx(*ishape).astype(itype)
    parity(lambda i, w: F(w).embedding(i, w), [x, randn(5, 3)], device=device, double=True)


@pytest.mark.parametrize("padding_idx", [0, 2, -1, -5])
def test_embedding_padding(padding_idx: int, device: str) -> None:
    x = np.array([[0, 2, 4, 2], [1, 0, 4, 3]], dtype=np.int64)
    parity(lambda i, w: F(w).embedding(i, w, padding_idx=padding_idx), [x, randn(5, 3)], device=device, double=True)


def test_embedding_scale_grad_by_freq(device: str) -> None:
    x = np.array([[0, 2, 2, 2], [1, 0, 4, 3]], dtype=np.int64)
    w = randn(5, 3)
    parity(lambda i, w: F(w).embedding(i, w, scale_grad_by_freq=True), [x, w], device=device, double=True)
    parity(lambda i, w: F(w).embedding(i, w, 2, scale_grad_by_freq=True), [x, w], device=device, double=True)


def test_embedding_gradcheck() -> None:
    x = pdl.tensor(np.array([[0, 2, 2], [1, 0, 3]]))
    gradcheck(lambda w: PF.embedding(x, w) * w.sum(), [rng.standard_normal((4, 2))], double=True)
    gradcheck(lambda w: PF.embedding(x, w) ** 2, [rng.standard_normal((4, 2))], double=True)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0])
def test_embedding_max_norm(norm_type: float, device: str) -> None:
    w = randn(6, 4) * 3
    x = np.array([[0, 2, 2], [5, 0, 3]], dtype=np.int64)
    tw = torch.tensor(w.copy())
    pw = pdl.tensor(w.copy(), device=device)
    out_t = TF.embedding(torch.tensor(x), tw, max_norm=1.5, norm_type=norm_type)
    out_p = PF.embedding(pdl.tensor(x, device=device), pw, max_norm=1.5, norm_type=norm_type)
    np.testing.assert_allclose(out_p.cpu().numpy(), out_t.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pw.cpu().numpy(), tw.numpy(), rtol=1e-5, atol=1e-6)  # renormalised in place
    assert pw._version == 1
    # gradient flows to the (renormalised) weight
    pw.requires_grad_()
    PF.embedding(pdl.tensor(x, device=device), pw, max_norm=1.5).sum().backward()
    assert pw.grad is not None


def test_embedding_errors() -> None:
    w = pdl.tensor(randn(5, 3))
    with pytest.raises(IndexError, match="index out of range in self"):
        PF.embedding(pdl.tensor([0, 5]), w)
    with pytest.raises(IndexError, match="index out of range in self"):
        PF.embedding(pdl.tensor([0, -1]), w)
    with pytest.raises(RuntimeError, match="Long, Int"):
        PF.embedding(pdl.tensor([0.0, 1.0]), w)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        PF.embedding(pdl.tensor([0, 1]), pdl.tensor(randn(5)))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        PF.embedding(pdl.tensor([0, 1]), w, padding_idx=5)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        PF.embedding(pdl.tensor([0, 1]), w, padding_idx=-6)


# ----- embedding_bag ------------------------------------------------------------------------------
BAG_CASES = [
    (np.array([[0, 2, 1], [4, 3, 3]]), None, False),
    (np.array([0, 1, 1, 2, 4, 3]), np.array([0, 2, 2, 5]), False),  # with an empty bag
    # (include_last_offset with offsets[-1] < len(input) is inconsistent in torch itself: not compared)
    (np.array([0, 1, 1, 2, 4, 3]), np.array([0, 2, 2, 6]), True),
    (np.array([3, 1]), np.array([0]), False),
]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("case", range(len(BAG_CASES)))
def test_embedding_bag(case: int, mode: str, device: str) -> None:
    x, offsets, last = BAG_CASES[case]
    w = randn(5, 3)
    if offsets is None:
        parity(lambda i, w: F(w).embedding_bag(i, w, mode=mode), [x, w], device=device, double=True)
        parity(lambda i, w: F(w).embedding_bag(i, w, mode=mode, padding_idx=3), [x, w], device=device, double=True)
    else:
        parity(lambda i, o, w: F(w).embedding_bag(i, w, o, mode=mode, include_last_offset=last), [x, offsets, w],
               device=device, double=True)  # fmt: skip
        parity(lambda i, o, w: F(w).embedding_bag(i, w, o, mode=mode, include_last_offset=last, padding_idx=1),
               [x, offsets, w], device=device, double=True)  # fmt: skip


@pytest.mark.parametrize("case", range(len(BAG_CASES)))
def test_embedding_bag_per_sample_weights(case: int, device: str) -> None:
    x, offsets, last = BAG_CASES[case]
    w, psw = randn(5, 3), randn(*x.shape)

    def fn(i: object, o: object, w: object, s: object) -> object:
        return F(w).embedding_bag(i, w, o, mode="sum", per_sample_weights=s, include_last_offset=last)

    parity(fn, [x, offsets, w, psw], device=device)  # torch has no double backward here: see the gradcheck
    parity(lambda i, o, w, s: F(w).embedding_bag(i, w, o, mode="sum", per_sample_weights=s,
                                                 include_last_offset=last, padding_idx=2),
           [x, offsets, w, psw], device=device)  # fmt: skip


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_and_max_norm(mode: str, device: str) -> None:
    # torch's embedding_bag backward looks the frequencies up at the wrong positions (sorted index i instead
    # of the group start), so compare with the equivalent embedding(...).sum/mean over bags instead
    x2 = np.array([[0, 1, 1], [2, 4, 1]])
    parity(lambda i, w: PF.embedding_bag(i, w, mode=mode, scale_grad_by_freq=True),
           [x2, randn(5, 3)], lambda i, w: getattr(TF.embedding(i, w, scale_grad_by_freq=True), mode)(1),
           device=device, double=True)  # fmt: skip
    x, offsets = np.array([0, 1, 1, 2, 4, 1]), np.array([0, 2, 3])
    w = randn(5, 3) * 4
    tw, pw = torch.tensor(w.copy()), pdl.tensor(w.copy(), device=device)
    out_t = TF.embedding_bag(torch.tensor(x), tw, torch.tensor(offsets), max_norm=1.0, mode=mode)
    out_p = PF.embedding_bag(pdl.tensor(x, device=device), pw, pdl.tensor(offsets, device=device), max_norm=1.0,
                             mode=mode)  # fmt: skip
    np.testing.assert_allclose(out_p.cpu().numpy(), out_t.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pw.cpu().numpy(), tw.numpy(), rtol=1e-5, atol=1e-6)


def test_embedding_bag_gradcheck() -> None:
    x, off = pdl.tensor(np.array([0, 1, 1, 2, 3])), pdl.tensor(np.array([0, 2, 2]))
    for mode in ("sum", "mean", "max"):
        gradcheck(lambda w, m=mode: PF.embedding_bag(x, w, off, mode=m) ** 2, [rng.standard_normal((4, 3))],
                  double=True)  # fmt: skip
    gradcheck(lambda w, s: PF.embedding_bag(x, w, off, mode="sum", per_sample_weights=s) ** 2,
              [rng.standard_normal((4, 3)), rng.standard_normal(5)], double=True)  # fmt: skip


def test_embedding_bag_errors() -> None:
    w = pdl.tensor(randn(5, 3))
    x = pdl.tensor(np.array([0, 1, 1, 2]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        PF.embedding_bag(x, w)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        PF.embedding_bag(pdl.tensor(np.array([[0, 1]])), w, pdl.tensor([0]))
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        PF.embedding_bag(x, w, pdl.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="can not be greater than input's length"):
        PF.embedding_bag(x, w, pdl.tensor([0, 5]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        PF.embedding_bag(x, w, pdl.tensor([0, 2]), per_sample_weights=pdl.ones(4))
    with pytest.raises(ValueError, match="must have the same shape as the input"):
        PF.embedding_bag(x, w, pdl.tensor([0, 2]), per_sample_weights=pdl.ones(3), mode="sum")
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        PF.embedding_bag(x, w, pdl.tensor([0, 2]), mode="avg")
    with pytest.raises(ValueError, match="input has to be 1D or 2D Tensor"):
        PF.embedding_bag(pdl.tensor(np.zeros((1, 1, 2), dtype=np.int64)), w)
    with pytest.raises(RuntimeError, match="not in the valid range"):
        PF.embedding_bag(pdl.tensor([0, 6]), w, pdl.tensor([0]))
