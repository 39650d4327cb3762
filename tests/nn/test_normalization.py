"""BatchNorm / LayerNorm / GroupNorm against their torch twins (train and eval, running statistics)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl
from portable_dl import nn

from ._twin import check_buffers, check_twin

rng = np.random.default_rng(3)


def _x(*shape: int) -> np.ndarray:
    return (rng.standard_normal(shape) * 2 + 0.5).astype(np.float32)


BN_KW = [
    {},
    {"momentum": None},
    {"momentum": 0.3, "eps": 1e-3},
    {"affine": False},
    {"track_running_stats": False},
    {"bias": False},
]


@pytest.mark.parametrize("kw", BN_KW)
@pytest.mark.parametrize(
    ("cls", "shape"), [("BatchNorm1d", (6, 4)), ("BatchNorm1d", (5, 4, 3)), ("BatchNorm2d", (3, 4, 5, 2))]
)
def test_batchnorm_matches_torch(cls: str, shape: tuple, kw: dict) -> None:
    ours, theirs = getattr(nn, cls)(4, **kw), getattr(torch.nn, cls)(4, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if ours.weight is not None:  # non-trivial affine parameters
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            if theirs.bias is not None:
                theirs.bias.uniform_(-0.5, 0.5)
    load = True
    for step in range(4):  # several training steps: running stats must follow torch's
        check_twin(ours, theirs, [_x(*shape)], load=load, seed=step)
        load = False
        check_buffers(ours, theirs)
        ours.zero_grad()
        theirs.zero_grad()
    ours.eval()
    theirs.eval()
    check_twin(ours, theirs, [_x(*shape)], load=False)
    check_buffers(ours, theirs)


def test_batchnorm_buffers_and_init() -> None:
    m = nn.BatchNorm2d(3)
    assert [n for n, _ in m.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert m.num_batches_tracked.dtype == pdl.int64 and int(m.num_batches_tracked.item()) == 0
    np.testing.assert_array_equal(m.running_mean.numpy(), 0)
    np.testing.assert_array_equal(m.running_var.numpy(), 1)
    np.testing.assert_array_equal(m.weight.detach().numpy(), 1)
    np.testing.assert_array_equal(m.bias.detach().numpy(), 0)
    m(pdl.randn(2, 3, 2, 2))
    m.reset_running_stats()
    assert int(m.num_batches_tracked.item()) == 0
    d = nn.BatchNorm1d(3, dtype=pdl.float64)
    assert d.weight.dtype == pdl.float64 and d.running_mean.dtype == pdl.float64
    assert d.num_batches_tracked.dtype == pdl.int64
    with pytest.raises(ValueError):
        nn.BatchNorm2d(3)(pdl.randn(2, 3))


def test_batchnorm_load_torch_state_dict_then_eval() -> None:
    theirs = torch.nn.BatchNorm1d(4)
    for _ in range(3):
        theirs(torch.randn(8, 4) * 3 + 1)
    theirs.eval()
    ours = nn.BatchNorm1d(4).eval()
    check_twin(ours, theirs, [_x(5, 4)])
    check_buffers(ours, theirs)


@pytest.mark.parametrize(
    ("args", "kw", "shape"),
    [((5,), {}, (3, 5)), (((3, 4),), {"eps": 1e-3}, (2, 3, 4)), ((4,), {"elementwise_affine": False}, (2, 3, 4)),
     ((4,), {"bias": False}, (2, 4))],
)  # fmt: skip
def test_layernorm_matches_torch(args: tuple, kw: dict, shape: tuple) -> None:
    ours, theirs = nn.LayerNorm(*args, **kw), torch.nn.LayerNorm(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert ours.normalized_shape == theirs.normalized_shape
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
    check_twin(ours, theirs, [_x(*shape)])


@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"eps": 1e-3, "bias": False}])
def test_groupnorm_matches_torch(kw: dict) -> None:
    ours, theirs = nn.GroupNorm(2, 6, **kw), torch.nn.GroupNorm(2, 6, **kw)
    assert repr(ours) == repr(theirs)
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
    check_twin(ours, theirs, [_x(3, 6, 4)])
    check_twin(ours, theirs, [_x(2, 6, 3, 2)], load=False)
    with pytest.raises(ValueError):
        nn.GroupNorm(4, 6)


@pytest.mark.parametrize("kw", [{}, {"momentum": None}])
def test_batchnorm3d_matches_torch(kw: dict) -> None:
    ours, theirs = nn.BatchNorm3d(3, **kw), torch.nn.BatchNorm3d(3, **kw)
    assert repr(ours) == repr(theirs)
    load = True
    for step in range(3):
        check_twin(ours, theirs, [_x(2, 3, 2, 3, 2)], load=load, seed=step)
        load = False
        check_buffers(ours, theirs)
    ours.eval()
    theirs.eval()
    check_twin(ours, theirs, [_x(2, 3, 2, 3, 2)], load=False)


@pytest.mark.parametrize(
    "kw", [{}, {"affine": True}, {"track_running_stats": True}, {"affine": True, "track_running_stats": True, "momentum": 0.3}]
)  # fmt: skip
@pytest.mark.parametrize(("cls", "shape"), [("InstanceNorm1d", (3, 4, 5)), ("InstanceNorm2d", (2, 4, 3, 3)),
                                            ("InstanceNorm3d", (2, 4, 2, 3, 2))])  # fmt: skip
def test_instancenorm_matches_torch(cls: str, shape: tuple, kw: dict) -> None:
    ours, theirs = getattr(nn, cls)(4, **kw), getattr(torch.nn, cls)(4, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            theirs.bias.uniform_(-0.5, 0.5)
    load = True
    for step in range(2):
        check_twin(ours, theirs, [_x(*shape)], load=load, seed=step)
        load = False
        check_buffers(ours, theirs)
    check_twin(ours, theirs, [_x(*shape[1:])], load=False)  # unbatched
    ours.eval()
    theirs.eval()
    check_twin(ours, theirs, [_x(*shape)], load=False)


@pytest.mark.parametrize(
    ("args", "kw"), [((4,), {}), (((3, 4),), {"eps": 1e-3}), ((4,), {"elementwise_affine": False})]
)
def test_rmsnorm_matches_torch(args: tuple, kw: dict) -> None:
    ours, theirs = nn.RMSNorm(*args, **kw), torch.nn.RMSNorm(*args, **kw)
    assert repr(ours) == repr(theirs)
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
    check_twin(ours, theirs, [_x(2, 3, 4)])
