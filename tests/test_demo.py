"""``portable-dl demo`` fits sin(x) with autograd and its loss goes down (the quickstart is in test_quickstart.py)."""

from __future__ import annotations


def test_demo_subcommand_on_cpu() -> None:
    from portable_dl.demo import fit_sine

    losses = fit_sine(steps=100, seed=1)
    assert losses[-1] < losses[0]
