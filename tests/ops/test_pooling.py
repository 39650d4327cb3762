"""Pooling against PyTorch: max/avg (padding, dilation, ceil_mode, indices), adaptive pooling, gradients."""

from __future__ import annotations

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


MAX2D = [
    ((2, 3, 8, 7), {"kernel_size": 2}),
    ((2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((1, 2, 9, 9), {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0), "dilation": (2, 1)}),
    ((2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ((3, 8, 7), {"kernel_size": 2, "return_indices": True}),  # unbatched
    ((2, 3, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "return_indices": True}),
    ((1, 1, 5, 5), {"kernel_size": 3, "stride": 1}),  # heavy overlap
    ((2, 2, 4, 6), {"kernel_size": (4, 6)}),  # global
]


@pytest.mark.parametrize("xs,kw", MAX2D)
def test_max_pool2d_parity(xs: tuple, kw: dict, device: str) -> None:
    parity(lambda x: PF.max_pool2d(x, **kw), [r(*xs)], lambda x: TF.max_pool2d(x, **kw), device=device, double=True)


@pytest.mark.parametrize("xs,kw", [((2, 3, 9), {"kernel_size": 2}),
                                   ((2, 3, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "return_indices": True,
                                                "dilation": 2}),
                                   ((3, 10), {"kernel_size": 4, "stride": 3, "ceil_mode": True})])  # fmt: skip
def test_max_pool1d_parity(xs: tuple, kw: dict, device: str) -> None:
    parity(lambda x: PF.max_pool1d(x, **kw), [r(*xs)], lambda x: TF.max_pool1d(x, **kw), device=device, double=True)
    kw = {k: v for k, v in kw.items() if k != "return_indices"}  # torch.max_pool1d has no return_indices
    parity(lambda x: pdl.max_pool1d(x, **kw), [r(*xs)], lambda x: torch.max_pool1d(x, **kw), device=device)


def test_max_pool3d_and_with_indices(device: str) -> None:
    parity(lambda x: PF.max_pool3d(x, 2, padding=1, return_indices=True), [r(1, 2, 4, 5, 3)],
           lambda x: TF.max_pool3d(x, 2, padding=1, return_indices=True), device=device, double=True)  # fmt: skip
    parity(lambda x: PF.max_pool2d_with_indices(x, 2), [r(1, 2, 4, 4)], lambda x: TF.max_pool2d_with_indices(x, 2),
           device=device)  # fmt: skip
    parity(lambda x: pdl.max_pool1d_with_indices(x, 2), [r(1, 2, 4)], lambda x: torch.max_pool1d_with_indices(x, 2),
           device=device)  # fmt: skip


def test_max_pool_ties_nan_inf(device: str) -> None:
    ties = np.array([[[2.0, 2, 2, 2]]], np.float32)
    parity(lambda x: PF.max_pool1d(x, 2, stride=1, return_indices=True), [ties],
           lambda x: TF.max_pool1d(x, 2, stride=1, return_indices=True), device=device)  # fmt: skip
    nan = np.array([[[1.0, np.nan, 3, np.nan, 0, 1]]], np.float32)
    parity(lambda x: PF.max_pool1d(x, 4, stride=2, return_indices=True), [nan],
           lambda x: TF.max_pool1d(x, 4, stride=2, return_indices=True), device=device, grad=False)  # fmt: skip
    parity(lambda x: PF.max_pool1d(x, 4, stride=2), [nan], lambda x: TF.max_pool1d(x, 4, stride=2), device=device,
           grad=False)  # fmt: skip
    infs = np.array([[[-np.inf, -np.inf, 3, -np.inf]]], np.float32)
    parity(lambda x: PF.max_pool1d(x, 2, padding=1, return_indices=True), [infs],
           lambda x: TF.max_pool1d(x, 2, padding=1, return_indices=True), device=device, grad=False)  # fmt: skip


def test_max_pool_integer_and_empty(device: str) -> None:
    xi = rng.integers(-9, 9, (2, 3, 6, 6))
    parity(lambda x: PF.max_pool2d(x, 2, return_indices=True), [xi], lambda x: TF.max_pool2d(x, 2, return_indices=True),
           device=device)  # fmt: skip
    parity(
        lambda x: PF.max_pool2d(x, 3, 2, 1), [xi.astype(np.uint8)], lambda x: TF.max_pool2d(x, 3, 2, 1), device=device
    )
    parity(lambda x: PF.max_pool2d(x, 2), [r(0, 3, 4, 4)], lambda x: TF.max_pool2d(x, 2), device=device)


AVG2D = [
    ((2, 3, 8, 7), {"kernel_size": 2}),
    ((2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ((2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 3, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    ((3, 8, 7), {"kernel_size": (3, 2), "stride": (1, 2), "divisor_override": 5}),
    ((1, 2, 5, 5), {"kernel_size": 5}),
]


@pytest.mark.parametrize("xs,kw", AVG2D)
def test_avg_pool2d_parity(xs: tuple, kw: dict, device: str) -> None:
    parity(lambda x: PF.avg_pool2d(x, **kw), [r(*xs)], lambda x: TF.avg_pool2d(x, **kw), device=device, double=True)


def test_avg_pool1d_3d_and_integer(device: str) -> None:
    parity(lambda x: PF.avg_pool1d(x, 3, 2, 1, True, False), [r(2, 3, 10)],
           lambda x: TF.avg_pool1d(x, 3, 2, 1, True, False), device=device, double=True)  # fmt: skip
    parity(lambda x: pdl.avg_pool1d(x, 2), [r(3, 10)], lambda x: torch.avg_pool1d(x, 2), device=device)
    parity(lambda x: PF.avg_pool3d(x, 2, padding=1), [r(1, 2, 4, 5, 3)], lambda x: TF.avg_pool3d(x, 2, padding=1),
           device=device, double=True)  # fmt: skip
    xi = rng.integers(-9, 9, (2, 3, 6, 6))
    parity(lambda x: PF.avg_pool2d(x, 3, 2, 1), [xi], lambda x: TF.avg_pool2d(x, 3, 2, 1), device=device)
    parity(lambda x: PF.avg_pool1d(x, 2), [np.array([[[-3, -4, 5, 7, 8]]])], lambda x: TF.avg_pool1d(x, 2))


ADAPTIVE = [((2, 3, 8, 7), (3, 4)), ((2, 3, 8, 7), 1), ((2, 3, 8, 7), (4, 7)), ((3, 5, 7), (None, 3)),
            ((2, 3, 10, 9), (7, 5)), ((1, 2, 3, 3), (5, 4))]  # fmt: skip


@pytest.mark.parametrize("xs,out", ADAPTIVE)
def test_adaptive_pool2d_parity(xs: tuple, out: object, device: str) -> None:
    parity(lambda x: PF.adaptive_avg_pool2d(x, out), [r(*xs)], lambda x: TF.adaptive_avg_pool2d(x, out),
           device=device, double=True)  # fmt: skip
    parity(lambda x: PF.adaptive_max_pool2d(x, out, return_indices=True), [r(*xs)],
           lambda x: TF.adaptive_max_pool2d(x, out, return_indices=True), device=device, double=True)  # fmt: skip


def test_adaptive_pool1d_3d(device: str) -> None:
    parity(lambda x: PF.adaptive_avg_pool1d(x, 4), [r(2, 3, 10)], lambda x: TF.adaptive_avg_pool1d(x, 4),
           device=device, double=True)  # fmt: skip
    parity(lambda x: PF.adaptive_max_pool1d(x, 4, True), [r(2, 3, 10)], lambda x: TF.adaptive_max_pool1d(x, 4, True),
           device=device, double=True)  # fmt: skip
    parity(lambda x: pdl.adaptive_avg_pool1d(x, 3), [r(3, 7)], lambda x: torch.adaptive_avg_pool1d(x, 3), device=device)
    parity(lambda x: PF.adaptive_avg_pool3d(x, (2, 3, 1)), [r(1, 2, 4, 5, 3)],
           lambda x: TF.adaptive_avg_pool3d(x, (2, 3, 1)), device=device, double=True)  # fmt: skip
    parity(lambda x: PF.adaptive_max_pool3d(x, 2), [r(1, 2, 4, 5, 3)], lambda x: TF.adaptive_max_pool3d(x, 2),
           device=device)  # fmt: skip


def test_adaptive_max_ties_and_nan(device: str) -> None:
    ties = np.array([[[2.0, 2, 2, 2]]], np.float32)
    parity(lambda x: PF.adaptive_max_pool1d(x, 3, return_indices=True), [ties],
           lambda x: TF.adaptive_max_pool1d(x, 3, return_indices=True), device=device)  # fmt: skip
    nan = np.array([[[1.0, np.nan, 3, np.nan]]], np.float32)
    parity(lambda x: PF.adaptive_max_pool1d(x, 1, return_indices=True), [nan],
           lambda x: TF.adaptive_max_pool1d(x, 1, return_indices=True), device=device, grad=False)  # fmt: skip
    parity(lambda x: PF.adaptive_max_pool2d(x, (0, 2)), [r(2, 3, 4, 4)], lambda x: TF.adaptive_max_pool2d(x, (0, 2)),
           device=device, grad=False)  # fmt: skip


def test_pooling_gradcheck() -> None:
    d = np.float64
    gradcheck(lambda x: PF.max_pool2d(x, 3, 2, 1), [r(2, 2, 5, 5, dtype=d)], double=True)
    gradcheck(lambda x: PF.max_pool1d(x, 3, 1, dilation=2), [r(1, 2, 8, dtype=d)], double=True)
    gradcheck(lambda x: PF.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [r(2, 2, 6, 5, dtype=d)],
              double=True)  # fmt: skip
    gradcheck(lambda x: PF.adaptive_avg_pool2d(x, (3, 2)), [r(2, 2, 5, 5, dtype=d)], double=True)
    gradcheck(lambda x: PF.adaptive_max_pool2d(x, (3, 2)), [r(2, 2, 5, 5, dtype=d)], double=True)


def test_max_pool_grad_of_grad_is_gather() -> None:
    # d/dg of <MaxScatter(g), v> is a gather of v at the argmax positions
    x = pdl.tensor(r(1, 1, 4, 4), requires_grad=True)
    y = PF.max_pool2d(x, 2)
    g = pdl.ones(1, 1, 2, 2, requires_grad=True)
    (gx,) = pdl.autograd.grad(y, x, g, create_graph=True)
    v = pdl.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    (gg,) = pdl.autograd.grad(gx, g, v)
    _, idx = PF.max_pool2d(x.detach(), 2, return_indices=True)
    np.testing.assert_array_equal(gg.numpy().ravel(), idx.numpy().ravel().astype(np.float32))


def test_pooling_errors() -> None:
    t = pdl.randn
    x = t(2, 3, 8, 8)
    cases = [
        (lambda: PF.max_pool2d(x, 9), "Calculated output size: (3x0x0). Output size is too small"),
        (lambda: PF.max_pool2d(x, 3, padding=2), "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1"),
        (lambda: PF.max_pool2d(x, 3, stride=0), "stride should not be zero"),
        (lambda: PF.max_pool2d(t(8, 8), 3), "non-empty 3D or 4D (batch mode) tensor expected for input"),
        (lambda: PF.max_pool1d(t(5), 2), "max_pool1d: Expected 2D or 3D (batch mode) tensor"),
        (lambda: PF.max_pool2d(x, 2, dilation=0), "dilation should be greater than zero"),
        (lambda: PF.max_pool2d(x, 2, padding=-1), "pad must be non-negative"),
        (lambda: PF.max_pool2d(x, 2, stride=(1, 2, 3)), "stride must either be a single int, or a tuple of two ints"),
        (lambda: PF.max_pool2d(t(2, 3, 0, 8), 2), "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size"),
        (lambda: PF.avg_pool2d(x, 9), "Output size is too small"),
        (lambda: PF.avg_pool2d(x, 3, padding=2), "pad should be at most half of effective kernel size"),
        (lambda: PF.avg_pool2d(x, 2, divisor_override=0), "divisor must be not zero"),
        (lambda: PF.avg_pool1d(t(2, 3, 4, 5), 2), "Expected 2 to 3 dimensions, but got 4-dimensional tensor"),
        (lambda: PF.adaptive_avg_pool2d(t(5, 5), 2), "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [5, 5]"),
        (lambda: PF.adaptive_avg_pool2d(x, (2, 2, 2)), "adaptive_avg_pool2d: output_size must be 2"),
        (lambda: PF.adaptive_avg_pool2d(t(2, 3, 0, 5), 2), "Expected input to have non-zero size for non-batch dimensions"),
        (lambda: PF.adaptive_max_pool2d(t(5, 5), 2), "adaptive_max_pool2d(): Expected 3D or 4D tensor"),
    ]  # fmt: skip
    for fn, message in cases:
        with pytest.raises(RuntimeError) as info:
            fn()
        assert message in str(info.value), (message, str(info.value))
    for fn, message in [(lambda: PF.max_pool2d(pdl.ones(1, 1, 2, 2, dtype=pdl.bool), 2), "Bool"),
                        (lambda: PF.avg_pool2d(pdl.ones(1, 1, 2, 2, dtype=pdl.int32), 2), "Int"),
                        (lambda: PF.adaptive_avg_pool2d(pdl.ones(1, 1, 2, 2, dtype=pdl.int64), 2), "Long")]:  # fmt: skip
        with pytest.raises(NotImplementedError, match=message):
            fn()


def test_cnn_block_trains(device: str) -> None:
    """conv -> max pool -> adaptive avg pool -> linear, end to end against torch."""

    def block(x: object, w: object, b: object, lw: object) -> object:
        F = PF if isinstance(x, pdl.Tensor) else TF
        h = F.max_pool2d(F.conv2d(x, w, b, padding=1), 2)
        h = F.adaptive_avg_pool2d(h, (2, 3))
        return F.linear(h.reshape(h.shape[0], -1) if hasattr(h, "reshape") else h, lw)

    try:
        pdl.ones(2, 3).reshape(3, 2)
    except AttributeError:
        pytest.skip("reshape (shape ops) not available yet")
    parity(block, [r(2, 1, 8, 9), r(4, 1, 3, 3), r(4), r(5, 24)], device=device, double=True)
