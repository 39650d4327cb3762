"""nn.Embedding / nn.EmbeddingBag against their torch twins."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl
from portable_dl import nn

from ._twin import check_twin

rng = np.random.default_rng(5)


@pytest.mark.parametrize(
    "kw", [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True}, {"max_norm": 1.0},
           {"max_norm": 1.5, "norm_type": 1.0}],
)  # fmt: skip
def test_embedding_matches_torch(kw: dict) -> None:
    ours, theirs = nn.Embedding(10, 4, **kw), torch.nn.Embedding(10, 4, **kw)
    assert repr(ours) == repr(theirs)
    assert ours.padding_idx == theirs.padding_idx
    idx = rng.integers(0, 10, size=(3, 5)).astype(np.int64)
    idx[0, 0] = 9
    idx[1, 1] = 2
    check_twin(ours, theirs, [idx])
    # max_norm renormalises the looked-up rows of the weight in place, as torch does
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_embedding_init_and_padding_row() -> None:
    m = nn.Embedding(2000, 50, padding_idx=3)
    w = m.weight.detach().numpy()
    np.testing.assert_array_equal(w[3], 0)
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    assert list(m.state_dict()) == ["weight"]
    with pytest.raises(AssertionError):
        nn.Embedding(5, 2, padding_idx=5)
    assert nn.Embedding(5, 2, dtype=pdl.float64).weight.dtype == pdl.float64


def test_embedding_from_pretrained() -> None:
    w = rng.standard_normal((5, 3)).astype(np.float32)
    ours = nn.Embedding.from_pretrained(pdl.tensor(w))
    theirs = torch.nn.Embedding.from_pretrained(torch.from_numpy(w.copy()))
    assert repr(ours) == repr(theirs)
    assert not ours.weight.requires_grad
    idx = np.array([[0, 4], [2, 2]], dtype=np.int64)
    check_twin(ours, theirs, [idx])
    thawed = nn.Embedding.from_pretrained(pdl.tensor(w), freeze=False, padding_idx=1)
    assert thawed.weight.requires_grad and thawed.padding_idx == 1
    np.testing.assert_array_equal(thawed.weight.detach().numpy(), w)
    with pytest.raises(AssertionError):
        nn.Embedding.from_pretrained(pdl.tensor(w[0]))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1}, {"max_norm": 1.0}])
def test_embedding_bag_matches_torch(mode: str, kw: dict) -> None:
    ours, theirs = nn.EmbeddingBag(8, 3, mode=mode, **kw), torch.nn.EmbeddingBag(8, 3, mode=mode, **kw)
    assert repr(ours) == repr(theirs)
    idx2d = rng.integers(0, 8, size=(4, 3)).astype(np.int64)
    idx2d[0, 1] = 1
    check_twin(ours, theirs, [idx2d])
    ours.zero_grad()
    theirs.zero_grad()
    flat = np.array([1, 2, 4, 5, 4, 3, 2, 7], dtype=np.int64)
    offsets = np.array([0, 2, 2, 5], dtype=np.int64)  # includes an empty bag
    check_twin(ours, theirs, [flat, offsets], load=False)


def test_embedding_bag_per_sample_weights_and_last_offset() -> None:
    ours = nn.EmbeddingBag(8, 3, mode="sum", include_last_offset=True)
    theirs = torch.nn.EmbeddingBag(8, 3, mode="sum", include_last_offset=True)
    flat = np.array([1, 2, 4, 5, 4, 3], dtype=np.int64)
    offsets = np.array([0, 2, 5, 6], dtype=np.int64)
    psw = rng.standard_normal(6).astype(np.float32)
    check_twin(ours, theirs, [flat, offsets, psw])
    bag = nn.EmbeddingBag.from_pretrained(pdl.tensor(rng.standard_normal((4, 2)).astype(np.float32)), mode="sum")
    assert not bag.weight.requires_grad and bag.mode == "sum"
    assert repr(bag) == "EmbeddingBag(4, 2, mode='sum')"
