"""End-to-end checks against PyTorch: an MLP trained for several SGD steps, and a WGAN-GP
gradient penalty (double backward through a small critic)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

import portable_dl as pdl
import portable_dl.nn.functional as F


def _weights(sizes: tuple, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        out.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        out.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    return out


def _mlp(functional: object, params: list, x: object) -> object:
    h = x
    for i in range(0, len(params) - 2, 2):
        h = functional.relu(functional.linear(h, params[i], params[i + 1]))
    return functional.linear(h, params[-2], params[-1])


def test_mlp_sgd_steps_match_torch() -> None:
    rng = np.random.default_rng(0)
    weights = _weights((20, 32, 16, 5), seed=1)
    batches = [(rng.standard_normal((8, 20)).astype(np.float32), rng.integers(0, 5, 8)) for _ in range(5)]
    runs = {}
    for name, lib, functional in (("torch", torch, TF), ("pdl", pdl, F)):
        params = [lib.tensor(w.copy(), requires_grad=True) for w in weights]
        losses = []
        for xb, yb in batches:
            loss = functional.cross_entropy(_mlp(functional, params, lib.tensor(xb)), lib.tensor(yb))
            loss.backward()
            with lib.no_grad():
                for p in params:
                    p -= 0.5 * p.grad
                    p.grad = None
            losses.append(loss.item())
        runs[name] = (losses, [p.detach().numpy() for p in params])
    np.testing.assert_allclose(runs["pdl"][0], runs["torch"][0], rtol=1e-5, atol=1e-6)
    for ours, theirs in zip(runs["pdl"][1], runs["torch"][1]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def _critic(functional: object, params: list, x: object) -> object:
    h = functional.leaky_relu(functional.linear(x, params[0], params[1]), 0.2)
    h = functional.leaky_relu(functional.linear(h, params[2], params[3]), 0.2)
    return functional.linear(h, params[4], params[5])


def test_wgan_gp_gradient_penalty_matches_torch() -> None:
    rng = np.random.default_rng(3)
    weights = [w.astype(np.float64) for w in _weights((6, 16, 16, 1), seed=4)]
    real = rng.standard_normal((10, 6))
    fake = rng.standard_normal((10, 6))
    alpha = rng.random((10, 1))
    grads = {}
    for name, lib, functional in (("torch", torch, TF), ("pdl", pdl, F)):
        params = [lib.tensor(w.copy(), requires_grad=True) for w in weights]
        mixed = lib.tensor(alpha) * lib.tensor(real) + (1 - lib.tensor(alpha)) * lib.tensor(fake)
        mixed.requires_grad_(True)
        score = _critic(functional, params, mixed)
        (g,) = lib.autograd.grad(score, mixed, lib.ones_like(score), create_graph=True)
        penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
        loss = score.mean() + 10 * penalty
        loss.backward()
        grads[name] = (penalty.item(), [p.grad.numpy() for p in params])
    np.testing.assert_allclose(grads["pdl"][0], grads["torch"][0], rtol=1e-10)
    for ours, theirs in zip(grads["pdl"][1], grads["torch"][1]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
