"""Normalisation functions against PyTorch: layer/batch/group/instance/rms norm, normalize,
cosine_similarity, pairwise_distance (values, gradients of first and second order, running stats)."""

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


def lib(x: object) -> object:
    return torch if isinstance(x, torch.Tensor) else pdl


# ----- layer_norm ---------------------------------------------------------------------------------
LN_CASES = [((3, 4), (4,)), ((2, 3, 4), (3, 4)), ((2, 3, 4), (4,)), ((4,), (4,)), ((0, 4), (4,)), ((2, 1), (1,))]


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("shape,ns", LN_CASES)
def test_layer_norm(shape: tuple, ns: tuple, affine: bool, device: str) -> None:
    x = randn(*shape) * 3 + 1
    if affine:
        w, b = randn(*ns), randn(*ns)
        # torch's own double backward fails when the bias gradient takes part: bias is first-order only
        parity(lambda t, w, b: F(t).layer_norm(t, ns, w, b), [x, w, b], device=device)
        parity(lambda t, w, b: F(t).layer_norm(t, ns, w, b), [x, w, b], device=device, double=True,
               requires_grad=[0, 1])  # fmt: skip
        parity(lambda t, w: F(t).layer_norm(t, ns, weight=w, eps=1e-3), [x, w], device=device, double=True)
        parity(lambda t, b: lib(t).layer_norm(t, ns, None, b), [x, b], device=device, double=True,
               requires_grad=[0])  # fmt: skip
    else:
        parity(lambda t: F(t).layer_norm(t, ns), [x], device=device, double=True)


def test_layer_norm_gradcheck() -> None:
    x, w, b = rng.standard_normal((3, 2, 4)), rng.standard_normal(4), rng.standard_normal(4)
    gradcheck(lambda t, w, b: PF.layer_norm(t, (4,), w, b), [x, w, b], double=True)
    gradcheck(lambda t: PF.layer_norm(t, (2, 4), eps=0.1), [x], double=True)


def test_layer_norm_dtypes(device: str) -> None:
    x = randn(3, 5, dtype=np.float16)
    parity(lambda t: F(t).layer_norm(t, (5,)), [x], device=device, grad=False)
    parity(lambda t: F(t).layer_norm(t, (5,)), [randn(3, 5, dtype=np.float64)], device=device, double=True)


def test_layer_norm_errors() -> None:
    x = pdl.tensor(randn(2, 3, 4))
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 3\]"):
        PF.layer_norm(x, (3,))
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape as normalized_shape"):
        PF.layer_norm(x, (4,), weight=pdl.ones(3))
    with pytest.raises(RuntimeError, match="at least 1-dimensional"):
        PF.layer_norm(x, [])
    with pytest.raises(TypeError, match="normalized_shape"):
        PF.layer_norm(x, 4)
    with pytest.raises(NotImplementedError, match="layer_norm"):
        PF.layer_norm(pdl.tensor([[1, 2]]), (2,))
    with pytest.raises(RuntimeError, match="same dtype"):
        PF.layer_norm(x, (4,), weight=pdl.ones(4, dtype=pdl.float64))


# ----- rms_norm -----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,ns", [((3, 4), (4,)), ((2, 3, 4), (3, 4)), ((4,), (4,))])
def test_rms_norm(shape: tuple, ns: tuple, device: str) -> None:
    x = randn(*shape)
    parity(lambda t: F(t).rms_norm(t, ns), [x], device=device, double=True)
    parity(lambda t, w: F(t).rms_norm(t, ns, w, 1e-3), [x, randn(*ns)], device=device, double=True)
    parity(lambda t, w: lib(t).rms_norm(t, ns, w), [x.astype(np.float64), randn(*ns).astype(np.float64)],
           device=device, double=True)  # fmt: skip
    gradcheck(lambda t: PF.rms_norm(t, ns, eps=1e-2), [x.astype(np.float64)], double=True)


def test_rms_norm_errors() -> None:
    with pytest.raises(RuntimeError, match="expected input with shape"):
        PF.rms_norm(pdl.tensor(randn(2, 3)), (4,))


# ----- batch_norm ---------------------------------------------------------------------------------
BN_SHAPES = [(4, 3), (4, 3, 5), (2, 3, 4, 5), (3, 2, 2, 2, 2)]


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(shape: tuple, training: bool, device: str) -> None:
    c = shape[1]
    x = randn(*shape) * 2 + 0.5
    mean = randn(c)
    var = rng.random(c).astype(np.float32) + 0.5

    def fn(t: object, w: object, b: object) -> object:
        rm = lib(t).tensor(mean, device=t.device)
        rv = lib(t).tensor(var, device=t.device)
        return F(t).batch_norm(t, rm, rv, w, b, training, 0.1, 1e-5)

    parity(fn, [x, randn(c), randn(c)], device=device)
    parity(fn, [x, randn(c), randn(c)], device=device, double=True, requires_grad=[0, 1])
    parity(lambda t: F(t).batch_norm(t, None if training else lib(t).tensor(mean, device=t.device),
                                     None if training else lib(t).tensor(var, device=t.device), training=training),
           [x], device=device, double=True)  # fmt: skip


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4, 5)])
def test_batch_norm_running_stats(shape: tuple, device: str) -> None:
    c = shape[1]
    x = randn(*shape) + 2
    stats = {}
    for name, lb, fn in (("torch", torch, TF), ("pdl", pdl, PF)):
        kw = {"device": device} if lb is pdl else {}
        rm, rv = lb.zeros(c, **kw), lb.ones(c, **kw)
        for momentum in (0.1, 0.3):
            fn.batch_norm(lb.tensor(x, **kw), rm, rv, training=True, momentum=momentum)
        stats[name] = (rm.cpu().numpy(), rv.cpu().numpy())
        out = fn.batch_norm(lb.tensor(x, **kw), rm, rv, training=False)  # eval uses the running stats
        stats[name + "_eval"] = out.cpu().numpy()
    for ours, theirs in zip(stats["pdl"], stats["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats["pdl_eval"], stats["torch_eval"], rtol=1e-4, atol=1e-5)


def test_batch_norm_running_stats_get_no_grad() -> None:
    rm = pdl.zeros(3)
    rv = pdl.ones(3)
    x = pdl.tensor(randn(4, 3), requires_grad=True)
    out = PF.batch_norm(x, rm, rv, training=True)
    out.sum().backward()
    assert not rm.requires_grad and not rv.requires_grad
    assert x.grad is not None


def test_batch_norm_gradcheck() -> None:
    x, w, b = rng.standard_normal((4, 3, 2)), rng.standard_normal(3), rng.standard_normal(3)
    gradcheck(lambda t, w, b: PF.batch_norm(t, None, None, w, b, training=True), [x, w, b], double=True)
    rm, rv = pdl.tensor(rng.standard_normal(3)), pdl.tensor(rng.random(3) + 0.5)
    gradcheck(lambda t, w, b: PF.batch_norm(t, rm, rv, w, b, training=False), [x, w, b], double=True)


def test_batch_norm_half(device: str) -> None:
    parity(lambda t: F(t).batch_norm(t, None, None, training=True), [randn(4, 3, 2, dtype=np.float16)],
           device=device, grad=False)  # fmt: skip


def test_batch_norm_errors() -> None:
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        PF.batch_norm(pdl.tensor(randn(2, 3)), None, None, training=False)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        PF.batch_norm(pdl.tensor(randn(1, 3)), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        PF.batch_norm(pdl.tensor(randn(2, 3)), pdl.zeros(4), pdl.ones(4), training=True)
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 4"):
        PF.batch_norm(pdl.tensor(randn(2, 3)), None, None, pdl.ones(4), training=True)
    with pytest.raises(RuntimeError, match="at least 2 dims"):
        PF.batch_norm(pdl.tensor(randn(3)), None, None, training=True)


# ----- group_norm / instance_norm -----------------------------------------------------------------
@pytest.mark.parametrize(
    "shape,groups", [((2, 6, 4), 3), ((2, 6), 2), ((2, 4, 3, 3), 2), ((3, 4, 5), 1), ((2, 4, 3), 4)]
)
def test_group_norm(shape: tuple, groups: int, device: str) -> None:
    c = shape[1]
    x = randn(*shape) * 2 + 1
    parity(lambda t: F(t).group_norm(t, groups), [x], device=device, double=True)
    parity(lambda t, w, b: F(t).group_norm(t, groups, w, b, 1e-3), [x, randn(c), randn(c)], device=device)
    parity(lambda t, w, b: F(t).group_norm(t, groups, w, b, 1e-3), [x, randn(c), randn(c)], device=device,
           double=True, requires_grad=[0, 1])  # fmt: skip
    parity(lambda t, w: lib(t).group_norm(t, groups, w), [x, randn(c)], device=device)


def test_group_norm_gradcheck() -> None:
    x, w, b = rng.standard_normal((2, 4, 3)), rng.standard_normal(4), rng.standard_normal(4)
    gradcheck(lambda t, w, b: PF.group_norm(t, 2, w, b), [x, w, b], double=True)


def test_group_norm_errors() -> None:
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        PF.group_norm(pdl.tensor(randn(2, 6, 4)), 4)
    with pytest.raises(RuntimeError, match="number of channels"):
        PF.group_norm(pdl.tensor(randn(2, 6, 4)), 3, weight=pdl.ones(3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        PF.group_norm(pdl.tensor(randn(6)), 3)


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 2, 3)])
def test_instance_norm(shape: tuple, device: str) -> None:
    c = shape[1]
    x = randn(*shape) * 2 + 1
    parity(lambda t: F(t).instance_norm(t), [x], device=device, double=True)
    parity(lambda t, w, b: F(t).instance_norm(t, weight=w, bias=b), [x, randn(c), randn(c)], device=device)
    parity(lambda t, w, b: F(t).instance_norm(t, weight=w, bias=b), [x, randn(c), randn(c)], device=device,
           double=True, requires_grad=[0, 1])  # fmt: skip
    mean, var = randn(c), rng.random(c).astype(np.float32) + 0.5

    def fixed(t: object, w: object) -> object:
        rm, rv = lib(t).tensor(mean, device=t.device), lib(t).tensor(var, device=t.device)
        return F(t).instance_norm(t, rm, rv, w, None, use_input_stats=False)

    parity(fixed, [x, randn(c)], device=device, double=True)
    stats = {}
    for name, lb, fn in (("torch", torch, TF), ("pdl", pdl, PF)):
        kw = {"device": device} if lb is pdl else {}
        rm, rv = lb.tensor(mean, **kw), lb.tensor(var, **kw)
        fn.instance_norm(lb.tensor(x, **kw), rm, rv, momentum=0.2)
        stats[name] = (rm.cpu().numpy(), rv.cpu().numpy())
    for ours, theirs in zip(stats["pdl"], stats["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_instance_norm_errors() -> None:
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        PF.instance_norm(pdl.tensor(randn(2, 3)))
    with pytest.raises(RuntimeError, match="use_input_stats is false"):
        PF.instance_norm(pdl.tensor(randn(2, 3, 4)), use_input_stats=False)


# ----- normalize / cosine_similarity / pairwise_distance ------------------------------------------
@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1), (float("inf"), 1)])
def test_normalize(p: float, dim: int, device: str) -> None:
    x = randn(3, 4, 2)
    parity(lambda t: F(t).normalize(t, p, dim), [x], device=device, double=True)
    x[0] = 0
    parity(lambda t: F(t).normalize(t, p, dim), [x], device=device)
    gradcheck(lambda t: PF.normalize(t, p, dim), [rng.standard_normal((3, 4))], double=True)


@pytest.mark.parametrize("shapes,dim", [(((3, 4), (3, 4)), 1), (((2, 3, 4), (3, 4)), 1), (((5,), (5,)), 0),
                                        (((2, 3), (2, 1)), -1), (((2, 3), (2, 3)), 0)])  # fmt: skip
def test_cosine_similarity(shapes: tuple, dim: int, device: str) -> None:
    a, b = randn(*shapes[0]), randn(*shapes[1])
    parity(lambda x, y: F(x).cosine_similarity(x, y, dim), [a, b], device=device, double=True)
    parity(lambda x, y: lib(x).cosine_similarity(x, y, dim=dim, eps=1e-3), [a, b], device=device)
    gradcheck(lambda x, y: PF.cosine_similarity(x, y, dim), [a.astype(np.float64), b.astype(np.float64)],
              double=True)  # fmt: skip


def test_cosine_similarity_zero_vector(device: str) -> None:
    a = randn(3, 4)
    a[1] = 0
    parity(lambda x, y: F(x).cosine_similarity(x, y), [a, randn(3, 4)], device=device)


def test_cosine_similarity_errors() -> None:
    with pytest.raises(RuntimeError, match="floating point"):
        PF.cosine_similarity(pdl.tensor([1, 2]), pdl.tensor([1, 3]), dim=0)
    with pytest.raises(RuntimeError):
        PF.cosine_similarity(pdl.tensor(randn(2, 6, 3)), pdl.tensor(randn(5, 3)))


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3, 4), (3, 4)), ((5,), (5,)), ((3, 4), (4,))])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
def test_pairwise_distance(shapes: tuple, p: float, device: str) -> None:
    a, b = randn(*shapes[0]), randn(*shapes[1])
    parity(lambda x, y: F(x).pairwise_distance(x, y, p), [a, b], device=device, double=True)
    parity(lambda x, y: lib(x).pairwise_distance(x, y, p, 1e-3, True), [a, b], device=device)
