"""``nn.utils`` against torch: gradient clipping and parameter/vector conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl
from portable_dl import nn


def _params_with_grads(scale: float, seed: int = 0) -> tuple[list, list]:
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    ours, ref = [], []
    for shape in shapes:
        data = rng.standard_normal(shape).astype("float32")
        grad = (rng.standard_normal(shape) * scale).astype("float32")
        p = nn.Parameter(pdl.tensor(data))
        p.grad = pdl.tensor(grad)
        q = torch.nn.Parameter(torch.tensor(data))
        q.grad = torch.tensor(grad)
        ours.append(p)
        ref.append(q)
    return ours, ref


def _assert_grads_equal(ours: list, ref: list) -> None:
    for p, q in zip(ours, ref):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), "inf"])
@pytest.mark.parametrize("scale", [0.01, 10.0])
def test_clip_grad_norm_matches_torch(norm_type: float, scale: float) -> None:
    ours, ref = _params_with_grads(scale)
    total = nn.utils.clip_grad_norm_(ours, max_norm=1.0, norm_type=norm_type)
    ref_total = torch.nn.utils.clip_grad_norm_(ref, max_norm=1.0, norm_type=norm_type)
    assert isinstance(total, pdl.Tensor) and total.shape == () and total.dtype == pdl.float32
    np.testing.assert_allclose(total.item(), ref_total.item(), rtol=1e-5)
    _assert_grads_equal(ours, ref)


def test_clip_grad_norm_single_tensor_generator_and_missing_grads() -> None:
    ours, ref = _params_with_grads(5.0)
    ours[1].grad = None
    ref[1].grad = None
    total = nn.utils.clip_grad_norm_((p for p in ours), 1.0)
    np.testing.assert_allclose(total.item(), torch.nn.utils.clip_grad_norm_((p for p in ref), 1.0).item(), rtol=1e-5)
    _assert_grads_equal([ours[0], ours[2]], [ref[0], ref[2]])
    single = nn.utils.clip_grad_norm_(ours[0], 0.1)
    ref_single = torch.nn.utils.clip_grad_norm_(ref[0], 0.1)
    np.testing.assert_allclose(single.item(), ref_single.item(), rtol=1e-5)
    assert nn.utils.clip_grad_norm_([nn.Parameter(pdl.zeros(2))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite() -> None:
    ours, _ = _params_with_grads(1.0)
    ours[0].grad = pdl.tensor(np.array([[np.inf] * 4] * 3, dtype="float32"))
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    total = nn.utils.clip_grad_norm_(ours, 1.0, foreach=None)
    assert not np.isfinite(total.item())


def test_clip_grad_value_matches_torch() -> None:
    ours, ref = _params_with_grads(3.0)
    assert nn.utils.clip_grad_value_(ours, 0.5) is None
    torch.nn.utils.clip_grad_value_(ref, 0.5)
    _assert_grads_equal(ours, ref)


def test_clip_grad_in_a_training_step_keeps_grad_objects() -> None:
    model = nn.Linear(4, 3)
    x = pdl.tensor(np.random.default_rng(2).standard_normal((5, 4)).astype("float32"))
    (model(x) * 100).sum().backward()
    grad = model.weight.grad
    nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    assert model.weight.grad is grad
    total = nn.utils.get_total_norm([p.grad for p in model.parameters()])
    assert total.item() == pytest.approx(0.5, rel=1e-4)


def test_parameters_to_vector_and_back() -> None:
    ours, ref = _params_with_grads(1.0)
    vec = nn.utils.parameters_to_vector(ours)
    ref_vec = torch.nn.utils.parameters_to_vector(ref)
    np.testing.assert_array_equal(vec.detach().numpy(), ref_vec.detach().numpy())
    assert vec.requires_grad  # differentiable, like torch's
    new = pdl.arange(vec.numel(), dtype=pdl.float32)
    nn.utils.vector_to_parameters(new, ours)
    torch.nn.utils.vector_to_parameters(torch.arange(ref_vec.numel(), dtype=torch.float32), ref)
    for p, q in zip(ours, ref):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
        assert isinstance(p, nn.Parameter)
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        nn.utils.vector_to_parameters([1.0], ours)
