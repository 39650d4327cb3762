"""Property-based parity with PyTorch (hypothesis): random broadcastable shapes, dims and dtypes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.parity import parity

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


@st.composite
def broadcastable_pair(draw: st.DrawFn) -> tuple[tuple, tuple]:
    """Two shapes that broadcast together: each dim of the shorter one is its partner's size or 1."""
    a = draw(st.lists(st.integers(0, 4), min_size=0, max_size=4))
    n = draw(st.integers(0, len(a)))
    b = [draw(st.sampled_from([size, 1])) for size in a[len(a) - n :]]
    if draw(st.booleans()):
        a, b = b, a
    return tuple(a), tuple(b)


@SETTINGS
@given(shapes=broadcastable_pair(), op=st.sampled_from(["add", "sub", "mul", "div", "maximum", "pow"]))
def test_binary_ops_broadcast_like_torch(shapes: tuple, op: str) -> None:
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2.0, shapes[0])
    b = rng.uniform(0.5, 2.0, shapes[1])
    fns = {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y,
        "maximum": lambda x, y: x.maximum(y),
        "pow": lambda x, y: x**y,
    }
    parity(fns[op], [a, b], double=True)


@SETTINGS
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    data=st.data(),
    op=st.sampled_from(["sum", "mean", "amax", "logsumexp", "var"]),
    keepdim=st.booleans(),
)
def test_reductions_over_random_dims_like_torch(shape: list, data: st.DataObject, op: str, keepdim: bool) -> None:
    dims = data.draw(
        st.lists(
            st.integers(-len(shape), len(shape) - 1),
            min_size=1,
            max_size=len(shape),
            unique_by=lambda d: d % len(shape),
        )
    )
    x = np.random.default_rng(1).standard_normal(shape)
    parity(lambda t: getattr(t, op)(dim=tuple(dims), keepdim=keepdim), [x], double=True)


@SETTINGS
@given(
    shape=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_]),
    other=st.sampled_from([np.float32, np.float64, np.int16, np.int64, np.bool_]),
)
def test_type_promotion_of_mixed_tensors_like_torch(shape: list, dtype: type, other: type) -> None:
    rng = np.random.default_rng(2)
    a = (rng.random(shape) * 3).astype(dtype)
    b = (rng.random(shape[-1:]) * 3 + 1).astype(other)
    parity(lambda x, y: x * y + x, [a, b], grad=False)
    parity(lambda x, y: x / y, [a, b], grad=False)
