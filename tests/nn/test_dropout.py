"""Dropout layers: identity in eval (matching torch exactly), torch's masking statistics in training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl
from portable_dl import nn

from ._twin import check_twin

rng = np.random.default_rng(4)

CASES = [
    ("Dropout", (4, 5, 6)),
    ("Dropout1d", (4, 5, 6)),
    ("Dropout2d", (4, 5, 6, 3)),
    ("Dropout3d", (2, 5, 3, 2, 3)),
    ("AlphaDropout", (4, 5, 6)),
    ("FeatureAlphaDropout", (4, 5, 6)),
]


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_dropout_eval_is_identity_and_repr(name: str, shape: tuple) -> None:
    ours, theirs = getattr(nn, name)(p=0.3), getattr(torch.nn, name)(p=0.3)
    assert repr(ours) == repr(theirs)
    assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())
    ours.eval()
    theirs.eval()
    check_twin(ours, theirs, [rng.standard_normal(shape).astype(np.float32)])


def test_dropout_train_statistics_and_gradient() -> None:
    m = nn.Dropout(0.25)
    x = pdl.ones(200, 100, requires_grad=True)
    y = m(x)
    vals = y.detach().numpy()
    kept = vals != 0
    np.testing.assert_allclose(vals[kept], 1 / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.02
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), vals)


@pytest.mark.parametrize(
    ("name", "shape"), [("Dropout1d", (8, 50, 6)), ("Dropout2d", (8, 50, 3, 4)), ("Dropout3d", (8, 50, 2, 2, 3))]
)
def test_channel_dropout_zeroes_whole_channels(name: str, shape: tuple) -> None:
    y = getattr(nn, name)(0.5)(pdl.ones(*shape)).numpy()
    flat = y.reshape(shape[0], shape[1], -1)
    per_channel = flat.max(axis=-1)
    assert np.all(flat == per_channel[..., None])
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert 0.35 < (per_channel > 0).mean() < 0.65


def test_alpha_dropout_keeps_selu_statistics() -> None:
    x = pdl.randn(200, 200)
    y = nn.AlphaDropout(0.2)(x).numpy()
    assert abs(y.mean()) < 0.05 and abs(y.std() - 1) < 0.05
    assert not np.allclose(y, x.numpy())


def test_dropout_p_bounds() -> None:
    with pytest.raises(ValueError):
        nn.Dropout(1.5)
    with pytest.raises(ValueError):
        nn.Dropout2d(-0.1)
    m = nn.Dropout(0.0)
    x = pdl.randn(3, 4)
    np.testing.assert_array_equal(m(x).numpy(), x.numpy())


def test_feature_alpha_dropout_masks_whole_channels() -> None:
    y = nn.FeatureAlphaDropout(0.5)(pdl.randn(8, 40, 5)).numpy()
    per_channel_constant = np.all(y == y[..., :1], axis=-1)
    assert 0.3 < per_channel_constant.mean() < 0.7
