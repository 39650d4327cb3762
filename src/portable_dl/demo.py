"""A first look at portable_dl: fit a one-hidden-layer network to sin(x) with autograd and plain SGD."""

from __future__ import annotations

import math

import portable_dl as pdl


def fit_sine(steps: int = 300, seed: int = 0, device: str = "cpu", hidden: int = 32, lr: float = 0.05) -> list[float]:
    """Train on 256 points of sin(x) over [-pi, pi]; prints and returns the loss every 50 steps."""
    pdl.manual_seed(seed)
    x = pdl.linspace(-math.pi, math.pi, 256, device=device).unsqueeze(1)
    y = pdl.sin(x)
    w1 = (pdl.randn(1, hidden, device=device) * 1.0).requires_grad_()
    b1 = pdl.zeros(hidden, device=device, requires_grad=True)
    w2 = (pdl.randn(hidden, 1, device=device) / math.sqrt(hidden)).requires_grad_()
    b2 = pdl.zeros(1, device=device, requires_grad=True)
    params = [w1, b1, w2, b2]
    history = []
    for step in range(steps + 1):
        prediction = pdl.tanh(x @ w1 + b1) @ w2 + b2
        loss = ((prediction - y) ** 2).mean()
        loss.backward()
        with pdl.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        if step % 50 == 0:
            history.append(loss.item())
            print(f"step {step:4d}  loss {loss.item():.5f}")
    return history
