"""Losses against torch.nn.functional: values, dtypes, gradients (input and target), double backward, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import portable_dl as pdl
import portable_dl.nn.functional as F
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)
REDUCTIONS = ["mean", "sum", "none"]


def randn(*shape: int, dtype: type = np.float32) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def rand(*shape: int, low: float = 0.0, high: float = 1.0, dtype: type = np.float32) -> np.ndarray:
    return rng.uniform(low, high, shape).astype(dtype)


def pair(name: str, **kw: object) -> tuple:
    """The same functional call spelled for portable_dl and for torch."""
    return (lambda *a: getattr(F, name)(*a, **kw)), (lambda *a: getattr(TF, name)(*a, **kw))


def check(name: str, inputs: list, *, device: str, requires_grad: list | None = None, double: bool = True,
          **kw: object) -> None:  # fmt: skip
    """Parity of F.name(*inputs, **kw): the array fast path (first order) and the Tensor path (double)."""
    ours, theirs = pair(name, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parity(ours, inputs, theirs, device=device, requires_grad=requires_grad)
        if double:
            parity(ours, inputs, theirs, device=device, requires_grad=requires_grad, double=True)


def targets(shape: tuple, n_classes: int, ignore: int | None = None) -> np.ndarray:
    t = rng.integers(0, n_classes, shape)
    if ignore is not None and t.size > 1:
        t.reshape(-1)[1] = ignore
    return t


# ----- cross_entropy / nll_loss with class indices ------------------------------------------------

CLASS_SHAPES = [((6, 4), (6,)), ((4,), ()), ((2, 4, 3), (2, 3)), ((2, 3, 2, 2), (2, 2, 2))]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("x_shape,t_shape", CLASS_SHAPES)
def test_cross_entropy_class_indices(x_shape: tuple, t_shape: tuple, reduction: str, device: str) -> None:
    c = x_shape[0] if len(x_shape) == 1 else x_shape[1]
    x, w = randn(*x_shape), rand(c, low=0.2)
    check("cross_entropy", [x, targets(t_shape, c)], device=device, reduction=reduction)
    check("cross_entropy", [x, targets(t_shape, c), w], device=device, requires_grad=[0], reduction=reduction)
    check("cross_entropy", [x, targets(t_shape, c, ignore=-100), w], device=device, requires_grad=[0],
          reduction=reduction, label_smoothing=0.2)  # fmt: skip
    check("cross_entropy", [x, targets(t_shape, c, ignore=1)], device=device, reduction=reduction, ignore_index=1,
          label_smoothing=0.1)  # fmt: skip


def test_class_indices_one_sample_target(device: str) -> None:
    # a (C,) input with a (1,) target is one sample (torch's own backward fails on it: forward only)
    for name in ("cross_entropy", "nll_loss"):
        for reduction in REDUCTIONS:
            ours, theirs = pair(name, reduction=reduction)
            parity(ours, [randn(4), np.array([2])], theirs, device=device, grad=False)


def test_cross_entropy_hot_path(device: str) -> None:
    """The MLP benchmark's case: (128, 10) logits, int64 targets, plain mean."""
    x = randn(128, 10) * 3
    check("cross_entropy", [x, targets((128,), 10)], device=device)
    check("cross_entropy", [x.astype(np.float64), targets((128,), 10)], device=device)
    check("cross_entropy", [x, targets((128,), 10).astype(np.uint8)], device=device)


def test_cross_entropy_extreme_logits(device: str) -> None:
    # rows far apart (the global-shift fast path must fall back) and huge logits
    x = np.array([[0.0, 1.0, 2.0], [-200.0, -201.0, -199.0], [1e4, 0.0, -1e4]], dtype=np.float32)
    check("cross_entropy", [x, np.array([2, 0, 1])], device=device)
    check("cross_entropy", [x, np.array([2, 0, 1])], device=device, reduction="none", label_smoothing=0.3)
    x = np.array([[0.0, -np.inf], [np.inf, 0.0]], dtype=np.float32)
    ours, theirs = pair("cross_entropy", reduction="none")
    parity(ours, [x, np.array([0, 1])], theirs, device=device, grad=False)


def test_cross_entropy_gradcheck() -> None:
    t = np.array([0, 2, -100, 1])
    w = np.array([0.5, 1.0, 2.0])
    gradcheck(lambda x: F.cross_entropy(x, pdl.tensor(t), pdl.tensor(w), label_smoothing=0.3), [randn(4, 3, dtype=np.float64)],
              double=True)  # fmt: skip
    gradcheck(lambda x: F.cross_entropy(x, pdl.tensor(t[:2]), reduction="none"), [randn(2, 3, dtype=np.float64)],
              double=True)  # fmt: skip
    gradcheck(lambda x: F.cross_entropy(x, pdl.tensor(np.array([1, 0]))), [randn(2, 3, dtype=np.float64)], double=True)


def test_cross_entropy_empty_and_ignored(device: str) -> None:
    for reduction in REDUCTIONS:
        check("cross_entropy", [randn(0, 3), np.zeros(0, dtype=np.int64)], device=device, reduction=reduction)
        check("nll_loss", [randn(0, 3), np.zeros(0, dtype=np.int64)], device=device, reduction=reduction)
    # every target ignored: nan loss, zero gradient; zero class weights: nan gradient (torch's 0/0)
    all_ignored = np.full(4, -100)
    check("cross_entropy", [randn(4, 3), all_ignored], device=device)
    check("cross_entropy", [randn(4, 3), all_ignored], device=device, label_smoothing=0.1)
    check("cross_entropy", [randn(4, 3), targets((4,), 3), np.zeros(3, np.float32)], device=device,
          requires_grad=[0], double=False)  # fmt: skip


def test_cross_entropy_second_output_hidden() -> None:
    x = pdl.tensor(randn(3, 4), requires_grad=True)
    loss = F.cross_entropy(x, pdl.tensor(np.array([0, 3, 1])))
    assert isinstance(loss, pdl.Tensor) and loss.shape == () and loss.requires_grad
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)
    with pdl.no_grad():
        assert not F.cross_entropy(x, pdl.tensor(np.array([0, 3, 1]))).requires_grad


def test_cross_entropy_gradient_penalty(device: str) -> None:
    """A gradient of the loss used inside another loss (WGAN-GP style): second derivatives through the logits."""
    x, w, t = randn(5, 4), randn(4, 4), targets((5,), 4)

    def penalty(lib: object, fn: object, xs: object, ws: object, ts: object) -> object:
        loss = fn.cross_entropy(xs @ ws, ts, label_smoothing=0.1)
        (g,) = lib.autograd.grad(loss, [xs], create_graph=True)
        return (g * g).sum() + loss

    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    xp, wp = pdl.tensor(x, requires_grad=True, device=device), pdl.tensor(w, requires_grad=True, device=device)
    penalty(torch, TF, xt, wt, torch.tensor(t)).backward()
    penalty(pdl, F, xp, wp, pdl.tensor(t, device=device)).backward()
    np.testing.assert_allclose(xp.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(wp.grad.cpu().numpy(), wt.grad.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("x_shape,t_shape", CLASS_SHAPES)
def test_nll_loss(x_shape: tuple, t_shape: tuple, reduction: str, device: str) -> None:
    c = x_shape[0] if len(x_shape) == 1 else x_shape[1]
    x, w = randn(*x_shape), rand(c, low=0.2)
    check("nll_loss", [x, targets(t_shape, c)], device=device, reduction=reduction)
    check("nll_loss", [x, targets(t_shape, c, ignore=-100), w], device=device, requires_grad=[0], reduction=reduction)
    check("nll_loss", [x, targets(t_shape, c, ignore=2)], device=device, reduction=reduction, ignore_index=2)


def test_nll_loss_gradcheck() -> None:
    t, w = pdl.tensor(np.array([0, 2, -100, 1])), pdl.tensor(np.array([0.5, 1.0, 2.0]))
    gradcheck(lambda x: F.nll_loss(x, t, w), [randn(4, 3, dtype=np.float64)], double=True)


# ----- cross_entropy with class probabilities -----------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 4, 3), (0, 4)])
def test_cross_entropy_probabilities(shape: tuple, reduction: str, device: str) -> None:
    c = shape[0] if len(shape) == 1 else shape[1]
    x, q, w = randn(*shape), rand(*shape), rand(c, low=0.2)
    check("cross_entropy", [x, q], device=device, reduction=reduction)
    check("cross_entropy", [x, q, w], device=device, requires_grad=[0, 1, 2], reduction=reduction,
          label_smoothing=0.25)  # fmt: skip


def test_cross_entropy_probabilities_promotion_and_gradcheck(device: str) -> None:
    check("cross_entropy", [randn(3, 4), rand(3, 4, dtype=np.float64)], device=device)
    gradcheck(lambda x, q, w: F.cross_entropy(x, q, w, label_smoothing=0.1),
              [randn(3, 4, dtype=np.float64), rand(3, 4, dtype=np.float64), rand(4, dtype=np.float64)],
              double=True)  # fmt: skip


# ----- binary cross-entropy -----------------------------------------------------------------------


def bcel(lib: object, reduction: str = "mean") -> object:
    """binary_cross_entropy_with_logits(x, y, weight, pos_weight) with pos_weight passed by keyword."""
    return lambda x, y, w=None, pw=None: lib.binary_cross_entropy_with_logits(x, y, w, reduction=reduction,
                                                                              pos_weight=pw)  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction: str, device: str) -> None:
    x, y = randn(4, 3) * 4, rand(4, 3)
    ours, theirs = bcel(F, reduction), bcel(TF, reduction)
    for inputs in ([x, y], [x, y, rand(4, 3), rand(3, low=0.5, high=3)], [x, y, rand(3)], [x, y, None, rand(4, 3)]):
        parity(ours, inputs, theirs, device=device, requires_grad=[0, 1])
        parity(ours, inputs, theirs, device=device, requires_grad=[0, 1], double=True)


def test_binary_cross_entropy_with_logits_extremes(device: str) -> None:
    x = np.array([-200.0, -30.0, -1.0, 0.0, 1.0, 30.0, 200.0], dtype=np.float32)
    y = rand(7)
    parity(bcel(F, "none"), [x, y], bcel(TF, "none"), device=device, double=True)
    parity(bcel(F, "sum"), [x, y, None, rand(7, high=3)], bcel(TF, "sum"), device=device, requires_grad=[0, 1],
           double=True)  # fmt: skip
    parity(bcel(F), [randn(0, 3), rand(0, 3)], bcel(TF), device=device)
    parity(bcel(F), [randn(3), rand(3, dtype=np.float64)], bcel(TF), device=device, double=True)


def test_binary_cross_entropy_with_logits_gradcheck() -> None:
    gradcheck(lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=pdl.tensor(np.array([0.5, 2.0]))),
              [randn(3, 2, dtype=np.float64), rand(3, 2, dtype=np.float64)], double=True)  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction: str, device: str) -> None:
    x, y = rand(4, 3, low=0.05, high=0.95), rand(4, 3)
    check("binary_cross_entropy", [x, y], device=device, reduction=reduction)
    check("binary_cross_entropy", [x, y, rand(4, 3)], device=device, requires_grad=[0, 1], reduction=reduction)
    check("binary_cross_entropy", [x, y, rand(3)], device=device, requires_grad=[0, 1], reduction=reduction)


def test_binary_cross_entropy_clamps_logs(device: str) -> None:
    x = np.array([0.0, 1e-30, 0.5, 1.0], dtype=np.float32)
    y = np.array([0.5, 0.5, 0.25, 0.0], dtype=np.float32)
    ours, theirs = pair("binary_cross_entropy", reduction="none")
    parity(ours, [x, y], theirs, device=device, requires_grad=[0])
    parity(ours, [x, np.array([1.0, 0.0, 1.0, 0.0], np.float32)], theirs, device=device, grad=False)
    gradcheck(lambda p, t: F.binary_cross_entropy(p, t), [rand(3, 2, low=0.1, high=0.9, dtype=np.float64),
              rand(3, 2, dtype=np.float64)], double=True)  # fmt: skip


# ----- pointwise regression losses ----------------------------------------------------------------

PAIR_SHAPES = [((4, 3), (4, 3)), ((), ()), ((0, 2), (0, 2))]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("a_shape,b_shape", PAIR_SHAPES)
@pytest.mark.parametrize("name,kw", [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}),
                                     ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
                                     ("huber_loss", {}), ("huber_loss", {"delta": 0.4})])  # fmt: skip
def test_pointwise_losses(name: str, kw: dict, a_shape: tuple, b_shape: tuple, reduction: str, device: str) -> None:
    check(name, [randn(*a_shape), randn(*b_shape)], device=device, reduction=reduction, **kw)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_pointwise_losses_broadcast_warns(name: str, device: str) -> None:
    check(name, [randn(4, 3), randn(3)], device=device)
    with pytest.warns(UserWarning, match="different to the input size"):
        getattr(F, name)(pdl.tensor(randn(4, 3)), pdl.tensor(randn(3)))
    with pytest.raises(RuntimeError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(F, name)(pdl.tensor(randn(4, 3)), pdl.tensor(randn(2)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_pointwise_losses_weighted(name: str, reduction: str, device: str) -> None:
    ours = lambda x, y, w: getattr(F, name)(x, y, reduction=reduction, weight=w)
    theirs = lambda x, y, w: getattr(TF, name)(x, y, reduction=reduction, weight=w)
    parity(ours, [randn(4, 3), randn(4, 3), rand(4, 3)], theirs, device=device, double=True)


def test_pointwise_losses_kinks_and_dtypes(device: str) -> None:
    x = np.array([1.0, 0.0, 2.0, -3.0], dtype=np.float32)
    y = np.array([0.0, 0.0, 1.5, -1.0], dtype=np.float32)
    for name in ("l1_loss", "smooth_l1_loss", "huber_loss"):
        check(name, [x, y], device=device, reduction="sum")
    check("mse_loss", [randn(3), randn(3, dtype=np.float64)], device=device)
    check("mse_loss", [randn(3), rng.integers(0, 3, 3)], device=device, requires_grad=[0])


def test_pointwise_gradcheck() -> None:
    a, b = randn(3, 2, dtype=np.float64), randn(3, 2, dtype=np.float64)
    for fn in (F.mse_loss, F.l1_loss, lambda p, q: F.smooth_l1_loss(p, q, beta=0.7),
               lambda p, q: F.huber_loss(p, q, delta=0.6)):  # fmt: skip
        gradcheck(fn, [a, b], double=True)


# ----- divergences and margin losses --------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
def test_kl_div(reduction: str, device: str) -> None:
    x = np.log(rand(4, 3, low=0.05))
    check("kl_div", [x, rand(4, 3, low=0.05)], device=device, reduction=reduction)
    check("kl_div", [x, np.log(rand(4, 3, low=0.05))], device=device, reduction=reduction, log_target=True)
    check("kl_div", [x, rand(3, low=0.05)], device=device, reduction=reduction)


def test_kl_div_zero_target_and_gradcheck(device: str) -> None:
    ours, theirs = pair("kl_div", reduction="none")
    parity(ours, [randn(3), np.array([0.0, 0.5, 1.0], np.float32)], theirs, device=device, requires_grad=[0, 1])
    gradcheck(lambda x, t: F.kl_div(x, t, reduction="batchmean"),
              [randn(3, 2, dtype=np.float64), rand(3, 2, low=0.1, dtype=np.float64)], double=True)  # fmt: skip
    gradcheck(lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True),
              [randn(3, 2, dtype=np.float64), randn(3, 2, dtype=np.float64)], double=True)  # fmt: skip


def sign_targets(*shape: int) -> np.ndarray:
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(np.float32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(reduction: str, device: str) -> None:
    check("soft_margin_loss", [randn(4, 3), sign_targets(4, 3)], device=device, requires_grad=[0],
          reduction=reduction)  # fmt: skip
    check("margin_ranking_loss", [randn(5), randn(5), sign_targets(5)], device=device, reduction=reduction,
          margin=0.3)  # fmt: skip
    check("hinge_embedding_loss", [randn(4, 3), sign_targets(4, 3)], device=device, requires_grad=[0],
          reduction=reduction, margin=0.7)  # fmt: skip
    check("cosine_embedding_loss", [randn(4, 3), randn(4, 3), sign_targets(4)], device=device, requires_grad=[0, 1],
          reduction=reduction, margin=0.1)  # fmt: skip
    check("cosine_embedding_loss", [randn(3), randn(3), np.array(-1.0, np.float32)], device=device,
          requires_grad=[0, 1], reduction=reduction)  # fmt: skip
    # torch has no double backward for multi_margin_loss
    check("multi_margin_loss", [randn(4, 3), targets((4,), 3)], device=device, reduction=reduction, double=False)
    check("multi_margin_loss", [randn(4, 3), targets((4,), 3)], device=device, reduction=reduction, p=2,
          margin=0.5, double=False)  # fmt: skip
    check("multilabel_soft_margin_loss", [randn(4, 3), (rand(4, 3) > 0.5).astype(np.float32), rand(3)],
          device=device, requires_grad=[0], reduction=reduction)  # fmt: skip


def test_multi_margin_loss_weight_parity(device: str) -> None:
    w = rand(3)
    parity(lambda x, t: F.multi_margin_loss(x, t, weight=pdl.tensor(w, device=device)), [randn(4, 3), targets((4,), 3)],
           lambda x, t: TF.multi_margin_loss(x, t, weight=torch.tensor(w)), device=device)  # fmt: skip
    check("multi_margin_loss", [randn(3), np.array(1)], device=device, reduction="none", double=False)
    check("multi_margin_loss", [randn(3), np.array([1])], device=device, reduction="none", double=False)
    gradcheck(lambda x: F.multi_margin_loss(x, pdl.tensor(np.array([0, 2])), p=2), [randn(2, 3, dtype=np.float64)],
              double=True)  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_likelihood_losses(reduction: str, device: str) -> None:
    x, counts = randn(4, 3), rng.poisson(2.0, (4, 3)).astype(np.float32)
    check("poisson_nll_loss", [x, counts], device=device, requires_grad=[0, 1], reduction=reduction)
    check("poisson_nll_loss", [rand(4, 3, low=0.1, high=3), counts], device=device, requires_grad=[0, 1],
          reduction=reduction, log_input=False, full=True)  # fmt: skip
    mean, target = randn(4, 3), randn(4, 3)
    check("gaussian_nll_loss", [mean, target, rand(4, 3, low=0.1)], device=device, reduction=reduction)
    check("gaussian_nll_loss", [mean, target, rand(4, low=0.1)], device=device, reduction=reduction, full=True)
    check("gaussian_nll_loss", [mean, target, rand(4, 1, low=0.1)], device=device, reduction=reduction)
    # entries below eps are clamped in value only: their gradient passes straight through
    check("gaussian_nll_loss", [mean, target, np.full((4, 3), 1e-8, np.float32)], device=device,
          reduction=reduction, eps=1e-3)  # fmt: skip
    ours, theirs = (
        (lambda a, b: F.gaussian_nll_loss(a, b, 0.5, reduction=reduction)),
        (lambda a, b: TF.gaussian_nll_loss(a, b, 0.5, reduction=reduction)),
    )
    parity(ours, [mean, target], theirs, device=device, double=True)


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("p", [2, 1, 3])
def test_triplet_margin_loss(p: float, swap: bool, device: str) -> None:
    a, pos, neg = randn(4, 3), randn(4, 3), randn(4, 3)
    for reduction in REDUCTIONS:
        check("triplet_margin_loss", [a, pos, neg], device=device, reduction=reduction, p=p, swap=swap, margin=2.0)
    check("triplet_margin_loss", [randn(3), randn(3), randn(3)], device=device, reduction="none", p=p, swap=swap)
    check("triplet_margin_with_distance_loss", [a, pos, neg], device=device, swap=swap, margin=1.5)


# ----- argument handling and errors ---------------------------------------------------------------


def test_legacy_reduction_arguments() -> None:
    x, t = randn(4, 3), targets((4,), 3)
    for kw, reduction in (({"size_average": False}, "sum"), ({"reduce": False}, "none"),
                          ({"size_average": True, "reduce": True}, "mean")):  # fmt: skip
        with pytest.warns(UserWarning, match=f"reduction='{reduction}'"):
            ours = F.cross_entropy(pdl.tensor(x), pdl.tensor(t), **kw)
        theirs = TF.cross_entropy(torch.tensor(x), torch.tensor(t), reduction=reduction)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert F.mse_loss(pdl.tensor(x), pdl.tensor(x), size_average=False).shape == ()
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.cross_entropy(pdl.tensor(x), pdl.tensor(t), reduction="foo")
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        F.mse_loss(pdl.tensor(x), pdl.tensor(x), reduction="batchmean")
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(pdl.tensor(x), pdl.tensor(x))


def test_class_target_errors() -> None:
    x = pdl.tensor(randn(4, 3))

    def t(*values: int, dtype: object = pdl.int64) -> pdl.Tensor:
        return pdl.tensor(list(values), dtype=dtype)

    for fn in (F.cross_entropy, F.nll_loss):
        with pytest.raises(IndexError, match="Target 3 is out of bounds."):
            fn(x, t(0, 1, 2, 3))
        with pytest.raises(IndexError, match="Target -1 is out of bounds."):
            fn(x, t(0, -1, 2, 1))
        with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
            fn(x, t(0, 1, 2, 1, dtype=pdl.int32))
        with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target batch_size \(3\)"):
            fn(x, t(0, 1, 2))
        with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 5\]"):
            fn(pdl.tensor(randn(2, 3, 4)), pdl.zeros(2, 5, dtype=pdl.int64))
        with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 3 classes"):
            fn(x, t(0, 1, 2, 1), pdl.ones(4))
        with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
            fn(x, t(0, 1, 2, 1), pdl.ones(3, dtype=pdl.float64))
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
            fn(x, t(0, 1, 2, 1), pdl.ones(3, requires_grad=True))
        with pytest.raises(ValueError, match="For 1D input, 1D target must have size 1"):
            fn(pdl.tensor(randn(3)), t(0, 1))
        with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
            fn(pdl.ones(4, 3, dtype=pdl.int64), t(0, 1, 2, 1))
        # ignored targets may lie outside [0, C)
        assert np.isfinite(fn(x, t(0, 7, 2, 1), ignore_index=7).item())
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Float"):
        F.cross_entropy(x, pdl.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="Expected 1 or more dimensions"):
        F.nll_loss(pdl.tensor(1.0), pdl.tensor(0))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(x, t(0, 1, 2, 1), label_smoothing=1.5)
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        F.cross_entropy(x, [0, 1, 2, 1])


def test_probability_target_errors() -> None:
    x = pdl.tensor(randn(4, 3))
    with pytest.raises(
        RuntimeError, match="Expected floating point type for target with class probabilities, got Long"
    ):
        F.cross_entropy(x, pdl.zeros(4, 3, dtype=pdl.int64))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(x, pdl.tensor(rand(4, 3)), ignore_index=1)
    with pytest.raises(RuntimeError, match="cross_entropy: weight tensor should be defined either for all 3 classes"):
        F.cross_entropy(x, pdl.tensor(rand(4, 3)), pdl.ones(4))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, pdl.tensor(rand(4, 3)), label_smoothing=1.1)


def test_binary_cross_entropy_errors() -> None:
    p, y = pdl.tensor(rand(3)), pdl.tensor(rand(3))
    with pytest.raises(ValueError, match="that is different to the input size"):
        F.binary_cross_entropy(p, pdl.tensor(rand(3, 1)))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(pdl.tensor([1.5, 0.5, 0.5]), y)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(pdl.tensor([float("nan"), 0.5, 0.5]), y)
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(p, pdl.tensor([2.0, 0.5, 0.5]))
    with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
        F.binary_cross_entropy(p, pdl.tensor(rand(3, dtype=np.float64)))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.binary_cross_entropy(p, y, pdl.ones(3, requires_grad=True))
    with pytest.raises(ValueError, match=r"Target size .* must be the same as input size"):
        F.binary_cross_entropy_with_logits(p, pdl.tensor(rand(3, 1)))
    with pytest.raises(RuntimeError, match=r"doesn't match the broadcast shape \[4, 3\]"):
        F.binary_cross_entropy_with_logits(p, y, pdl.ones(4, 3))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'pos_weight'"):
        F.binary_cross_entropy_with_logits(p, y, pos_weight=pdl.ones(3, requires_grad=True))


def test_other_loss_errors() -> None:
    x = pdl.tensor(randn(4, 3))
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        F.mse_loss(x, x, weight=pdl.ones(3))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.mse_loss(pdl.ones(3, dtype=pdl.int64), pdl.ones(3, dtype=pdl.int64))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'target'"):
        F.soft_margin_loss(x, pdl.ones(4, 3, requires_grad=True))
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        F.margin_ranking_loss(x, x, pdl.ones(3))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        F.cosine_embedding_loss(pdl.tensor(randn(2, 3, 4)), pdl.tensor(randn(2, 3, 4)), pdl.ones(2))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected"):
        F.cosine_embedding_loss(x, x, pdl.ones(4, 1))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, x, -1.0)
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, x, pdl.full((4, 3), -1.0))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, x, pdl.ones(3))
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(x, pdl.zeros(4, dtype=pdl.int64), p=3)
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, pdl.tensor([0, 1, 2, 3]))
    with pytest.raises(RuntimeError, match="inconsistent weight size, expected 3"):
        F.multi_margin_loss(x, pdl.tensor([0, 1, 2, 1]), weight=pdl.ones(2))
    with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
        F.triplet_margin_loss(x, x, x, margin=0)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 1D, and negative 2D"):
        F.triplet_margin_loss(x, pdl.ones(3), x)
