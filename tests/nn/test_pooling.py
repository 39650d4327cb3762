"""Pooling layers against their torch twins."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from portable_dl import nn

from ._twin import check_twin

rng = np.random.default_rng(2)


def _x(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


CASES = [
    ("MaxPool1d", (3,), {}, (2, 3, 10)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}, (2, 3, 11)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 8)),
    ("MaxPool2d", ((3, 2),), {"stride": (2, 1), "padding": (1, 0), "ceil_mode": True}, (2, 3, 7, 5)),
    ("MaxPool2d", (2,), {"return_indices": True}, (1, 2, 4, 4)),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, (2, 3, 10)),
    ("AvgPool1d", (2,), {"ceil_mode": True}, (2, 3, 9)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1}, (2, 3, 7, 7)),
    ("AvgPool2d", (2,), {"divisor_override": 3}, (2, 3, 4, 6)),
    ("AvgPool2d", ((3, 2),), {"count_include_pad": False, "padding": 1, "ceil_mode": True}, (1, 2, 5, 5)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, 4),), {}, (2, 3, 7, 9)),
    ("AdaptiveAvgPool2d", ((None, 2),), {}, (2, 3, 7, 9)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 5, 5)),
    ("AdaptiveMaxPool1d", (3,), {}, (2, 3, 10)),
    ("AdaptiveMaxPool2d", ((2, 3),), {}, (2, 3, 7, 9)),
    ("AdaptiveMaxPool2d", (2,), {"return_indices": True}, (1, 2, 5, 5)),
    ("MaxPool3d", (2,), {"padding": 1, "ceil_mode": True}, (2, 2, 5, 4, 6)),
    ("AvgPool3d", (2,), {"stride": 1, "padding": 1, "count_include_pad": False}, (2, 2, 3, 4, 3)),
    ("AvgPool3d", (2,), {"divisor_override": 5}, (1, 2, 4, 4, 4)),
    ("AdaptiveAvgPool3d", ((2, 3, None),), {}, (2, 2, 5, 4, 3)),
    ("AdaptiveMaxPool3d", (2,), {}, (2, 2, 5, 4, 3)),
]


@pytest.mark.parametrize(("name", "args", "kw", "shape"), CASES)
def test_pool_matches_torch(name: str, args: tuple, kw: dict, shape: tuple) -> None:
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == []
    check_twin(ours, theirs, [_x(*shape)])
    check_twin(ours, theirs, [_x(*shape[1:])])  # unbatched
