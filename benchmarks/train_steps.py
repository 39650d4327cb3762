"""Training steps of two classic models, PyTorch vs portable_dl, with peak resident memory.

- cnn:  the PyTorch MNIST example net (conv 1->32 3x3, ReLU, conv 32->64 3x3, ReLU, maxpool 2,
        linear 9216->128, ReLU, linear 128->10), batch 64 of 1x28x28, cross-entropy, SGD.
- lstm: LSTM(input 64, hidden 128) over 32 steps, batch 32, a linear head on the last step, SGD.

Timing runs both frameworks in this process, alternating rounds, from the same weights (copied from
the torch model through state_dict); memory runs each framework in a fresh interpreter (peak RSS
after 10 steps, and how much of it came after imports and model creation).
Run: python benchmarks/train_steps.py [cnn] [lstm]  (prints JSON)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import THREADS, emit, paired, pin_threads

pin_threads()
HERE = str(Path(__file__).resolve().parent)


def make_model(lib: Any, model: str) -> Any:
    nn = lib.nn
    if model == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10),
        )  # fmt: skip

    class LstmClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(64, 128)
            self.head = nn.Linear(128, 10)

        def forward(self, x: Any) -> Any:
            out, _ = self.lstm(x)
            return self.head(out[-1])

    return LstmClassifier()


def build(name: str, model: str, shared_weights: bool = True) -> Any:
    """One framework's training step, on weights (copied from a seeded torch model) and data shared by both.

    ``shared_weights=False`` keeps torch out of a portable_dl process (for memory measurements).
    """
    import numpy as np

    if name == "torch" or shared_weights:
        import torch

        torch.manual_seed(0)
        torch.set_num_threads(THREADS)
    lib = __import__("torch" if name == "torch" else "portable_dl")
    net = make_model(lib, model)
    if name != "torch" and shared_weights:
        reference = make_model(torch, model)
        net.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    rng = np.random.default_rng(0)
    shape = (64, 1, 28, 28) if model == "cnn" else (32, 32, 64)
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, shape[0] if model == "cnn" else 32))
    opt = lib.optim.SGD(net.parameters(), lr=0.01)

    def step() -> Any:
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def high_water_mb() -> float:
    """This process's peak resident memory (Linux VmHWM: unlike ru_maxrss, not inherited from a parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not found in /proc/self/status (Linux only)")


def peak_memory(name: str, model: str) -> dict:
    """Run 10 steps in a fresh interpreter; report its peak RSS and the part added by training."""
    code = (
        f"import sys; sys.path.insert(0, {HERE!r}); import train_steps as t; "
        f"step = t.build({name!r}, {model!r}, shared_weights=False); before = t.high_water_mb(); "
        "[step() for _ in range(10)]; print(before, t.high_water_mb())"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, peak = (float(v) for v in result.stdout.split()[-2:])
    return {"peak_rss_mb": round(peak, 1), "training_rss_mb": round(peak - before, 1)}


def main() -> None:
    for model in sys.argv[1:] or ["cnn", "lstm"]:
        steps = {name: build(name, model) for name in ("torch", "portable_dl")}
        first = {name: round(step().item(), 5) for name, step in steps.items()}
        times = paired(steps, repeats=5 if model == "cnn" else 10, rounds=5)
        memory = {name: peak_memory(name, model) for name in steps}
        torch_rss = max(memory["torch"]["training_rss_mb"], 1e-9)
        emit({
            "benchmark": f"{model}_train_step",
            "threads": THREADS,
            "first_loss": first,
            "ms_per_step": {k: round(v * 1e3, 2) for k, v in times.items()},
            "ratio_vs_torch": round(times["portable_dl"] / times["torch"], 3),
            "memory": memory,
            "training_rss_ratio_vs_torch": round(memory["portable_dl"]["training_rss_mb"] / torch_rss, 3),
        })  # fmt: skip


if __name__ == "__main__":
    main()
