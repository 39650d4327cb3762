"""The README's first command: the quickstart fits sin(x) and its loss goes down."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quickstart_loss_goes_down() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    losses = [float(line.split()[-1]) for line in result.stdout.splitlines() if line.startswith("step")]
    assert len(losses) >= 5
    assert losses[-1] < 0.2 * losses[0], losses


def test_demo_subcommand_on_cpu() -> None:
    from portable_dl.demo import fit_sine

    losses = fit_sine(steps=100, seed=1)
    assert losses[-1] < losses[0]
