"""Convolutions against PyTorch: conv1d/2d/3d, transposed convolutions, unfold/fold, gradients of any order."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import portable_dl as pdl
import portable_dl.nn.functional as PF
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)


def r(*shape: int, dtype: type = np.float32) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


CONV2D = [
    ((2, 3, 7, 6), (4, 3, 3, 3), {}),
    ((2, 3, 7, 6), (4, 3, 3, 2), {"stride": 2, "padding": 1}),
    ((1, 4, 9, 8), (6, 2, 3, 3), {"groups": 2, "dilation": 2, "padding": (2, 1)}),
    ((2, 3, 7, 6), (4, 3, 4, 3), {"padding": "same"}),
    ((2, 3, 7, 6), (4, 3, 2, 2), {"padding": "same", "dilation": (2, 1)}),
    ((2, 3, 7, 6), (4, 3, 2, 2), {"padding": "valid", "stride": (2, 3)}),
    ((3, 7, 6), (4, 3, 3, 3), {"padding": 1}),  # unbatched
    ((2, 4, 5, 5), (4, 1, 3, 3), {"groups": 4, "stride": 2}),  # depthwise
    ((2, 3, 6, 5), (3, 1, 3, 2), {"groups": 3, "padding": "same", "dilation": 2}),  # depthwise, stride 1
    ((2, 3, 6, 5), (6, 1, 3, 3), {"groups": 3, "padding": 1}),  # channel multiplier 2
    ((2, 3, 5, 5), (2, 3, 5, 5), {}),  # kernel == input
    ((2, 3, 6, 6), (5, 3, 2, 2), {"stride": 2}),  # non-overlapping (patchify)
    ((2, 3, 7, 6), (4, 3, 3, 3), {"stride": 3, "padding": 2}),  # unused trailing input
]


@pytest.mark.parametrize("xs,ws,kw", CONV2D)
def test_conv2d_parity(xs: tuple, ws: tuple, kw: dict, device: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about 'same' with even kernels
        parity(lambda x, w, b: PF.conv2d(x, w, b, **kw), [r(*xs), r(*ws), r(ws[0])],
               lambda x, w, b: TF.conv2d(x, w, b, **kw), device=device, double=True)  # fmt: skip
        parity(lambda x, w: PF.conv2d(x, w, **kw), [r(*xs), r(*ws)], lambda x, w: TF.conv2d(x, w, **kw),
               device=device, double=True)  # fmt: skip


def test_conv2d_partial_grads(device: str) -> None:
    for req in ([0], [1], [2], [0, 2]):
        parity(lambda x, w, b: PF.conv2d(x, w, b, padding=1), [r(2, 3, 5, 4), r(4, 3, 3, 3), r(4)],
               lambda x, w, b: TF.conv2d(x, w, b, padding=1), device=device, requires_grad=req, double=True)  # fmt: skip


CONV_T2D = [
    ((2, 3, 5, 4), (3, 4, 3, 3), {}),
    ((2, 3, 5, 4), (3, 2, 3, 2), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((1, 4, 4, 5), (4, 3, 3, 3), {"groups": 2, "dilation": 2, "padding": (2, 1), "stride": (2, 3), "output_padding": (1, 2)}),
    ((3, 5, 4), (3, 4, 3, 3), {"stride": 2}),  # unbatched
    ((2, 3, 3, 3), (3, 2, 2, 2), {"stride": 2}),  # non-overlapping
    ((2, 3, 4, 4), (3, 2, 3, 3), {"padding": 2}),
    ((2, 3, 4, 4), (3, 2, 3, 2), {"dilation": 2, "output_padding": 1}),  # stride 1, extra trailing row/col
    ((2, 4, 4, 4), (4, 1, 3, 3), {"groups": 4, "padding": 1}),
    ((2, 4, 4, 4), (4, 1, 3, 3), {"groups": 4, "padding": 1, "stride": 2, "output_padding": 1}),
]  # fmt: skip


@pytest.mark.parametrize("xs,ws,kw", CONV_T2D)
def test_conv_transpose2d_parity(xs: tuple, ws: tuple, kw: dict, device: str) -> None:
    c_out = ws[1] * kw.get("groups", 1)
    parity(lambda x, w, b: PF.conv_transpose2d(x, w, b, **kw), [r(*xs), r(*ws), r(c_out)],
           lambda x, w, b: TF.conv_transpose2d(x, w, b, **kw), device=device, double=True)  # fmt: skip


def test_conv1d_and_transpose1d(device: str) -> None:
    for xs, ws, kw in [((2, 3, 9), (4, 3, 3), {"stride": 2, "padding": 1}),
                       ((2, 4, 9), (4, 2, 4), {"groups": 2, "padding": "same", "dilation": 2}),
                       ((3, 9), (4, 3, 3), {}),
                       ((2, 3, 9), (3, 1, 3), {"groups": 3, "padding": 2, "dilation": 2})]:  # fmt: skip
        parity(lambda x, w, b, kw=kw: PF.conv1d(x, w, b, **kw), [r(*xs), r(*ws), r(ws[0])],
               lambda x, w, b, kw=kw: TF.conv1d(x, w, b, **kw), device=device, double=True)  # fmt: skip
    kw = {"stride": 3, "padding": 1, "output_padding": 2}
    parity(lambda x, w, b: PF.conv_transpose1d(x, w, b, **kw), [r(2, 3, 5), r(3, 2, 4), r(2)],
           lambda x, w, b: TF.conv_transpose1d(x, w, b, **kw), device=device, double=True)  # fmt: skip
    parity(lambda x, w: pdl.conv1d(x, w), [r(1, 2, 6), r(3, 2, 2)], lambda x, w: torch.conv1d(x, w), device=device)


def test_conv3d_and_transpose3d(device: str) -> None:
    parity(lambda x, w, b: PF.conv3d(x, w, b, stride=2, padding=1), [r(2, 3, 5, 4, 5), r(2, 3, 3, 2, 3), r(2)],
           lambda x, w, b: TF.conv3d(x, w, b, stride=2, padding=1), device=device, double=True)  # fmt: skip
    parity(lambda x, w: PF.conv_transpose3d(x, w, stride=2), [r(1, 2, 3, 2, 3), r(2, 2, 2, 3, 2)],
           lambda x, w: TF.conv_transpose3d(x, w, stride=2), device=device, double=True)  # fmt: skip
    parity(lambda x, w: PF.conv3d(x, w, padding=(1, 0, 2), dilation=(1, 2, 1)), [r(2, 2, 4, 5, 3), r(3, 2, 2, 2, 3)],
           lambda x, w: TF.conv3d(x, w, padding=(1, 0, 2), dilation=(1, 2, 1)), device=device, double=True)  # fmt: skip


def test_conv_gradcheck() -> None:
    d = np.float64
    gradcheck(lambda x, w, b: PF.conv2d(x, w, b, stride=2, padding=1, groups=2),
              [r(2, 4, 5, 4, dtype=d), r(4, 2, 3, 2, dtype=d), r(4, dtype=d)], double=True)  # fmt: skip
    gradcheck(lambda x, w, b: PF.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
              [r(2, 2, 3, 3, dtype=d), r(2, 3, 3, 2, dtype=d), r(3, dtype=d)], double=True)  # fmt: skip
    gradcheck(lambda x, w: PF.conv1d(x, w, padding="same", dilation=2), [r(1, 2, 7, dtype=d), r(3, 2, 4, dtype=d)],
              double=True)  # fmt: skip
    for stride in (1, 2):
        gradcheck(lambda x, w, stride=stride: PF.conv2d(x, w, padding=1, stride=stride, groups=2),
                  [r(2, 2, 4, 5, dtype=d), r(2, 1, 3, 2, dtype=d)], double=True)  # fmt: skip


def test_conv_special_inputs(device: str) -> None:
    parity(lambda x, w: PF.conv2d(x, w, padding=1), [r(0, 3, 5, 5), r(4, 3, 3, 3)],
           lambda x, w: TF.conv2d(x, w, padding=1), device=device)  # fmt: skip
    xi, wi = rng.integers(-5, 5, (2, 3, 5, 5)), rng.integers(-5, 5, (4, 3, 3, 3))
    parity(lambda x, w: PF.conv2d(x, w, padding=1), [xi, wi], lambda x, w: TF.conv2d(x, w, padding=1), device=device)
    parity(lambda x, w: PF.conv_transpose2d(x, w, stride=2), [xi, rng.integers(-5, 5, (3, 2, 3, 3))],
           lambda x, w: TF.conv_transpose2d(x, w, stride=2), device=device)  # fmt: skip
    parity(lambda x, w: PF.conv2d(x, w), [r(1, 3, 5, 5, dtype=np.float64), r(2, 3, 3, 3, dtype=np.float64)],
           lambda x, w: TF.conv2d(x, w), device=device, double=True)  # fmt: skip
    x = r(1, 1, 4, 4)
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 3, 3] = np.inf
    parity(lambda x, w: PF.conv2d(x, w), [x, r(1, 1, 2, 2)], lambda x, w: TF.conv2d(x, w), device=device, grad=False)


def test_unfold_fold(device: str) -> None:
    kw = {"dilation": (1, 2), "padding": 1, "stride": (2, 1)}
    parity(lambda x: PF.unfold(x, (2, 3), **kw), [r(2, 3, 6, 7)], lambda x: TF.unfold(x, (2, 3), **kw), device=device,
           double=True)  # fmt: skip
    parity(lambda x: PF.fold(x, (6, 7), (2, 3), **kw), [r(2, 18, 20)], lambda x: TF.fold(x, (6, 7), (2, 3), **kw),
           device=device, double=True)  # fmt: skip
    parity(lambda x: PF.fold(x, (6, 7), (2, 3), **kw), [r(18, 20)], lambda x: TF.fold(x, (6, 7), (2, 3), **kw),
           device=device)  # fmt: skip
    parity(lambda x: PF.unfold(x, 2, stride=2), [r(3, 6, 7)], lambda x: TF.unfold(x, 2, stride=2), device=device)
    with pytest.raises(RuntimeError, match="expected size of input's dimension 2 to match the calculated number"):
        PF.fold(pdl.randn(2, 12, 15), (5, 5), 2)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        PF.fold(pdl.randn(2, 13, 16), (5, 5), 2)
    with pytest.raises(RuntimeError, match="Expected 3D or 4D"):
        PF.unfold(pdl.randn(2, 3, 5, 5, 5), 2)


def test_conv_matches_manual_correlation() -> None:
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    w = np.array([[[[1, 0], [0, -1]]]], np.float32)
    out = PF.conv2d(pdl.tensor(x), pdl.tensor(w)).numpy()
    np.testing.assert_array_equal(out, np.full((1, 1, 3, 3), -5.0, np.float32))


def test_conv_errors() -> None:
    t = pdl.randn
    x = t(2, 3, 8, 8)
    cases = [
        (lambda: PF.conv2d(x, t(4, 2, 3, 3)), "Given groups=1, weight of size [4, 2, 3, 3], expected input[2, 3, 8, 8] to have 2 channels, but got 3 channels instead"),
        (lambda: PF.conv2d(x, t(4, 3, 9, 9)), "Kernel size can't be greater than actual input size"),
        (lambda: PF.conv2d(t(3, 8), t(4, 3, 3, 3)), "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [3, 8]"),
        (lambda: PF.conv2d(x, t(4, 3, 3, 3), t(5)), "expected bias to be 1-dimensional with 4 elements, but got bias of size [5]"),
        (lambda: PF.conv2d(x, t(4, 3, 3, 3, dtype=pdl.float64)), "Input type (torch.FloatTensor) and weight type (torch.DoubleTensor) should be the same"),
        (lambda: PF.conv2d(x, t(4, 3, 3, 3), t(4, dtype=pdl.float64)), "Input type (float) and bias type (double) should be the same"),
        (lambda: PF.conv2d(x, t(4, 1, 3, 3), groups=3), "expected weight to be divisible by 3 at dimension 0"),
        (lambda: PF.conv2d(x, t(4, 1, 3, 3), groups=2), "expected input[2, 3, 8, 8] to have 2 channels"),
        (lambda: PF.conv2d(x, t(4, 3, 3, 3), stride=0), "non-positive stride is not supported"),
        (lambda: PF.conv2d(x, t(4, 3, 3, 3), padding=-1), "negative padding is not supported"),
        (lambda: PF.conv2d(x, t(4, 3, 3, 3), dilation=0), "non-positive dilation is not supported"),
        (lambda: PF.conv2d(x, t(4, 3, 3, 3), padding="same", stride=2), "padding='same' is not supported for strided convolutions"),
        (lambda: PF.conv2d(x, t(4, 3, 3, 3), padding="foo"), "Invalid padding string: 'foo'"),
        (lambda: PF.conv2d(x, t(4, 3, 3, 3), stride=(1, 2, 3)), "expected stride to be a single integer value or a list of 2 values"),
        (lambda: PF.conv2d(x, t(0, 3, 3, 3)), "expected weight to be at least 1 at dimension 0"),
        (lambda: PF.conv2d(x, t(4, 3, 3)), "expected weight to be 4-D"),
        (lambda: PF.conv_transpose2d(x, t(3, 4, 3, 3), output_padding=1), "output padding must be smaller than either stride or dilation"),
        (lambda: PF.conv_transpose2d(x, t(4, 4, 3, 3)), "Given transposed=1, weight of size [4, 4, 3, 3], expected input[2, 3, 8, 8] to have 4 channels"),
        (lambda: PF.conv_transpose2d(x, t(3, 4, 3, 3), t(5)), "expected bias to be 1-dimensional with 4 elements"),
        (lambda: PF.conv_transpose2d(t(2, 3, 1, 1), t(3, 4, 1, 1), padding=1), "Output size is too small"),
    ]  # fmt: skip
    for fn, message in cases:
        with pytest.raises(RuntimeError) as info:
            fn()
        assert message in str(info.value), (message, str(info.value))
    with pytest.raises(TypeError, match="must be tuple of ints, not str"):
        PF.conv_transpose2d(x, t(3, 4, 3, 3), padding="same")
    with pytest.raises(NotImplementedError, match="Bool"):
        PF.conv2d(pdl.ones(1, 1, 3, 3, dtype=pdl.bool), pdl.ones(1, 1, 2, 2, dtype=pdl.bool))


def test_conv_transpose_is_conv_adjoint() -> None:
    x, w, y = r(2, 3, 7, 6).astype(np.float64), r(4, 3, 3, 2).astype(np.float64), r(2, 4, 4, 3).astype(np.float64)
    kw = {"stride": 2, "padding": 1, "dilation": (1, 2)}
    lhs = float((PF.conv2d(pdl.tensor(x), pdl.tensor(w), **kw).numpy() * y).sum())
    back = PF.conv_transpose2d(pdl.tensor(y), pdl.tensor(w), output_padding=(0, 1), **kw)
    assert back.shape == (2, 3, 7, 6)
    np.testing.assert_allclose(lhs, float((back.numpy() * x).sum()), rtol=1e-10)
