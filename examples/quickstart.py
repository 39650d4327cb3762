"""Quickstart: fit a tiny network to sin(x) with portable_dl's autograd and watch the loss go down.

Run: python examples/quickstart.py
"""

from portable_dl.demo import fit_sine

if __name__ == "__main__":
    losses = fit_sine(steps=300)
    print(f"loss went from {losses[0]:.4f} to {losses[-1]:.4f}")
