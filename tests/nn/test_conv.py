"""nn.Conv1d / Conv2d / ConvTranspose1d / ConvTranspose2d against their torch twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import portable_dl as pdl
from portable_dl import nn

from ._twin import check_twin

rng = np.random.default_rng(1)


def _x(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


CONV2D_CASES = [
    {},
    {"stride": 2, "padding": 1},
    {"padding": (1, 2), "dilation": (2, 1), "bias": False},
    {"groups": 2, "padding": 1},
    {"padding": "same", "dilation": 2},
    {"padding": "valid"},
    {"padding": 1, "padding_mode": "reflect"},
    {"padding": (2, 1), "padding_mode": "replicate"},
    {"padding": 1, "padding_mode": "circular", "stride": 2},
    {"padding": "same", "padding_mode": "reflect"},
]


@pytest.mark.parametrize("kw", CONV2D_CASES)
def test_conv2d_matches_torch(kw: dict) -> None:
    ours, theirs = nn.Conv2d(4, 6, 3, **kw), torch.nn.Conv2d(4, 6, 3, **kw)
    assert repr(ours) == repr(theirs)
    assert ours._reversed_padding_repeated_twice == list(theirs._reversed_padding_repeated_twice)
    check_twin(ours, theirs, [_x(2, 4, 7, 8)])


@pytest.mark.parametrize(
    "kw",
    [{}, {"stride": 2, "padding": 2, "dilation": 2}, {"groups": 2, "bias": False}, {"padding": 2, "padding_mode": "circular"},
     {"padding": "same"}],
)  # fmt: skip
def test_conv1d_matches_torch(kw: dict) -> None:
    ours, theirs = nn.Conv1d(4, 6, 3, **kw), torch.nn.Conv1d(4, 6, 3, **kw)
    assert repr(ours) == repr(theirs)
    check_twin(ours, theirs, [_x(3, 4, 11)])
    check_twin(ours, theirs, [_x(4, 11)])  # unbatched


@pytest.mark.parametrize(
    "kw",
    [{}, {"stride": 2, "padding": 1, "output_padding": 1}, {"groups": 2, "dilation": 2, "bias": False},
     {"stride": (2, 3), "output_padding": (1, 2), "padding": (0, 1)}],
)  # fmt: skip
def test_conv_transpose2d_matches_torch(kw: dict) -> None:
    ours, theirs = nn.ConvTranspose2d(4, 6, 3, **kw), torch.nn.ConvTranspose2d(4, 6, 3, **kw)
    assert repr(ours) == repr(theirs)
    assert tuple(ours.weight.shape) == tuple(theirs.weight.shape)
    check_twin(ours, theirs, [_x(2, 4, 5, 6)])


def test_conv_transpose_output_size() -> None:
    ours, theirs = (
        nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
        torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
    )
    x = _x(1, 3, 4, 4)
    load = True
    for size in ([8, 8], [1, 2, 7, 8]):
        p, t = check_twin(ours, theirs, [x, size], load=load)
        load = False
        assert tuple(p.shape) == tuple(t.shape)
    with pytest.raises(ValueError):
        ours(pdl.tensor(x), output_size=[10, 10])


@pytest.mark.parametrize("kw", [{}, {"stride": 3, "padding": 1, "output_padding": 2, "groups": 2}])
def test_conv_transpose1d_matches_torch(kw: dict) -> None:
    ours, theirs = nn.ConvTranspose1d(4, 2, 4, **kw), torch.nn.ConvTranspose1d(4, 2, 4, **kw)
    assert repr(ours) == repr(theirs)
    check_twin(ours, theirs, [_x(2, 4, 6)])


def test_conv_init_statistics_and_keys() -> None:
    m = nn.Conv2d(16, 32, 3)
    t = torch.nn.Conv2d(16, 32, 3)
    assert list(m.state_dict()) == list(t.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(16 * 9)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    np.testing.assert_allclose(w.std(), t.weight.detach().numpy().std(), rtol=0.05)
    assert np.abs(b).max() <= bound
    tr = nn.ConvTranspose2d(8, 4, 3, groups=2)
    assert tuple(tr.weight.shape) == (8, 2, 3, 3)
    assert np.abs(tr.weight.detach().numpy()).max() <= 1 / math.sqrt(2 * 9)


def test_conv_errors_and_dtype() -> None:
    with pytest.raises(ValueError):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError):
        nn.Conv2d(4, 4, 3, padding="same", stride=2)
    with pytest.raises(ValueError):
        nn.Conv2d(4, 4, 3, padding_mode="bogus")
    with pytest.raises(ValueError):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")
    m = nn.Conv1d(2, 2, 2, dtype=pdl.float64)
    assert m.weight.dtype == pdl.float64 and m.bias.dtype == pdl.float64


@pytest.mark.parametrize(
    "kw", [{}, {"stride": 2, "padding": 1, "groups": 2}, {"padding": 1, "padding_mode": "replicate"}]
)
def test_conv3d_matches_torch(kw: dict) -> None:
    ours, theirs = nn.Conv3d(4, 2, 3, **kw), torch.nn.Conv3d(4, 2, 3, **kw)
    assert repr(ours) == repr(theirs)
    check_twin(ours, theirs, [_x(2, 4, 5, 4, 6)])


def test_conv_transpose3d_matches_torch() -> None:
    kw = {"stride": 2, "padding": 1, "output_padding": 1}
    ours, theirs = nn.ConvTranspose3d(2, 4, 3, **kw), torch.nn.ConvTranspose3d(2, 4, 3, **kw)
    assert repr(ours) == repr(theirs)
    check_twin(ours, theirs, [_x(1, 2, 3, 4, 3)])


def test_small_cnn_from_torch_state_dict() -> None:
    def build(lib: object) -> object:
        return lib.nn.Sequential(
            lib.nn.Conv2d(3, 4, 3, padding=1),
            lib.nn.BatchNorm2d(4),
            lib.nn.ReLU(),
            lib.nn.MaxPool2d(2),
            lib.nn.Conv2d(4, 6, 3, groups=2, padding_mode="reflect", padding=1),
            lib.nn.AdaptiveAvgPool2d(1),
            lib.nn.Flatten(),
            lib.nn.Dropout(0.3),
            lib.nn.Linear(6, 5),
        )

    ours, theirs = build(pdl), build(torch)
    assert repr(ours) == repr(theirs)
    ours.eval()  # dropout off; BatchNorm uses the (loaded) running statistics
    theirs.eval()
    check_twin(ours, theirs, [_x(2, 3, 8, 8)])
