"""Generative model: a DCGAN on MNIST digits (or a WGAN-GP with ``--wgan-gp``), with the generator exported to ONNX.

The generator maps a latent vector to a 28 x 28 digit by transposed convolutions (1 -> 7 -> 14 -> 28, BatchNorm +
ReLU, Tanh at the end); the discriminator mirrors it with strided convolutions and LeakyReLU. Both train with Adam,
betas (0.5, 0.999) as in the DCGAN paper. A grid of samples from fixed noise is saved after every epoch
(``samples_epoch_NN.png``) beside a grid of real digits, and ``losses.png`` plots D and G losses. At the end the
generator is saved (``model.safetensors``, discriminator in ``discriminator.safetensors``), exported to ``model.onnx``
with a dynamic batch axis on the latent input, run in ONNX Runtime on the fixed noise and compared with the eager
generator in eval mode (``onnx_samples.png`` shows the ONNX output). The last stdout line is a JSON summary.

``--wgan-gp`` trains a Wasserstein critic (no BatchNorm, no sigmoid) with the gradient penalty of Gulrajani et al.:
``lambda * (|grad_x D(x_hat)| - 1)^2`` on random interpolates ``x_hat``, where the gradient comes from
``portable_dl.autograd.grad(create_graph=True)`` so the penalty itself is differentiated (a double backward).
Adam uses betas (0.5, 0.9) there, and 2 critic steps per generator step (the paper's 5 needs many more epochs than
a CPU run allows; ``--n-critic 5 --lr 1e-4`` gives only blurry shapes after 5 epochs).

Run: python examples/dcgan.py               (default: a few minutes on 2 CPU cores)
     python examples/dcgan.py --wgan-gp
     python examples/dcgan.py --smoke       (seconds: 512 digits, 1 epoch, a narrower network)
On a machine busy with other jobs, ``OPENBLAS_NUM_THREADS=1`` avoids BLAS threads waiting on each other.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import portable_dl as torch
from portable_dl import nn
from portable_dl.utils.data import DataLoader, Subset
from portable_dl.vision import transforms
from portable_dl.vision.datasets import MNIST
from portable_dl.vision.utils import make_grid, save_image

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


class Generator(nn.Module):
    """``nz`` latent -> 1 x 28 x 28 in [-1, 1]: ConvTranspose 7x7 (1 -> 7), then two stride-2 upsamplings to 28."""

    def __init__(self, nz: int = 32, ngf: int = 32) -> None:
        super().__init__()
        self.nz = nz
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, 4 * ngf, 7, 1, 0, bias=False), nn.BatchNorm2d(4 * ngf), nn.ReLU(True),
            nn.ConvTranspose2d(4 * ngf, 2 * ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ngf), nn.ReLU(True),
            nn.ConvTranspose2d(2 * ngf, 1, 4, 2, 1, bias=False), nn.Tanh(),
        )  # fmt: skip

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.view(z.shape[0], self.nz, 1, 1))


class Discriminator(nn.Module):
    """1 x 28 x 28 -> one logit (real vs fake) or critic score: stride-2 convs 28 -> 14 -> 7, then a 7x7 conv.

    BatchNorm sits in the middle block for the DCGAN; the WGAN-GP critic has none (the penalty is per sample).
    """

    def __init__(self, ndf: int = 32, batch_norm: bool = True) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=not batch_norm),
            nn.BatchNorm2d(2 * ndf) if batch_norm else nn.Identity(), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * ndf, 1, 7, 1, 0, bias=False),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).flatten()


def weights_init(m: nn.Module) -> None:
    """The DCGAN paper's init: conv weights ~ N(0, 0.02), BatchNorm weights ~ N(1, 0.02) and zero bias."""
    name = type(m).__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``mean((|grad D(x_hat)|_2 - 1)^2)`` on random interpolates, differentiable w.r.t. the critic's weights."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(x_hat)
    (grads,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = (grads.flatten(1).pow(2).sum(1) + 1e-12).sqrt()
    return ((norms - 1) ** 2).mean()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate of G and D")
    parser.add_argument("--nz", type=int, default=32, help="size of the latent vector")
    parser.add_argument("--width", type=int, default=32, help="base channel count of G and D (ngf = ndf)")
    parser.add_argument("--wgan-gp", action="store_true", help="Wasserstein loss with gradient penalty")
    parser.add_argument("--gp-weight", type=float, default=10.0, help="lambda of the gradient penalty")
    parser.add_argument("--n-critic", type=int, default=2, help="critic steps per generator step (WGAN-GP)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the MNIST t10k IDX files")
    parser.add_argument("--out", type=Path, default=Path("runs") / "dcgan")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="tiny run: 512 digits, 1 epoch, width 8")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "nz", "width", "n_critic"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.lr <= 0:
        parser.error(f"--lr must be > 0, got {args.lr}")
    if args.smoke:
        args.epochs, args.width = 1, 8
    return args


def load_data(args: argparse.Namespace) -> MNIST | Subset:
    """The MNIST test set as published (gzip IDX), scaled to [-1, 1] to match the generator's Tanh."""
    if not any((args.data / f"t10k-images-idx3-ubyte{ext}").is_file() for ext in (".gz", "")):
        print(f"error: MNIST files not found in {args.data}; pass --data DIR (a folder with t10k-*-idx*-ubyte.gz)",
              file=sys.stderr)  # fmt: skip
        sys.exit(2)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    data = MNIST(args.data, train=False, transform=tf)
    return Subset(data, range(512)) if args.smoke else data


def atomic_target(path: Path) -> Path:
    """A temporary path beside ``path`` (same suffix) to write first and ``os.replace`` afterwards."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    return Path(tmp)


def write_atomic(path: Path, write: object) -> None:
    """Call ``write(tmp_path)`` then rename the result onto ``path``."""
    tmp = atomic_target(path)
    try:
        write(tmp)  # type: ignore[operator]
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def plot_losses(history: dict[str, list[float]], batch_d: list[float], batch_g: list[float], path: Path) -> None:
    """D and G loss per batch (thin) and per epoch (markers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    per_epoch = len(batch_d) / max(1, len(history["d_loss"]))
    ax.plot(np.arange(len(batch_d)) / per_epoch, batch_d, lw=0.6, alpha=0.5, label="D (batch)")
    ax.plot(np.arange(len(batch_g)) / (len(batch_g) / max(1, len(history["g_loss"]))), batch_g, lw=0.6, alpha=0.5,
            label="G (batch)")  # fmt: skip
    epochs = np.arange(len(history["d_loss"])) + 0.5  # each epoch's mean at the middle of its batches
    ax.plot(epochs, history["d_loss"], "o-", label="D (epoch mean)")
    ax.plot(epochs, history["g_loss"], "s-", label="G (epoch mean)")
    ax.set(xlabel="epoch", ylabel="loss", title="GAN losses")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=100))
    plt.close(fig)


def export_and_compare(generator: Generator, fixed_noise: torch.Tensor, out: Path) -> dict[str, float]:
    """Export G (latent input with a dynamic batch), run it in ONNX Runtime, compare with eager G in eval mode."""
    from portable_dl.export import Runner

    generator.eval().cpu()
    onnx_path = out / "model.onnx"
    write_atomic(onnx_path, lambda tmp: torch.onnx.export(
        generator, (torch.zeros(1, generator.nz),), str(tmp), input_names=["z"], output_names=["image"],
        dynamic_axes={"z": {0: "batch"}, "image": {0: "batch"}}))  # fmt: skip
    runner = Runner(str(onnx_path), device="cpu")
    z = fixed_noise.cpu()
    with torch.no_grad():
        eager = generator(z).numpy()
    onnx_images = runner(z.numpy())
    odd = runner(z.numpy()[:5])  # another batch size through the dynamic axis
    save_image(torch.tensor(onnx_images), out / "onnx_samples.png", nrow=8, normalize=True, value_range=(-1, 1))
    return {
        "onnx_max_abs_diff": float(max(np.abs(onnx_images - eager).max(), np.abs(odd - eager[:5]).max())),
        "onnx_output_shape": list(onnx_images.shape),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    start = time.perf_counter()
    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            "error: --device cuda needs CuPy and a visible GPU (pip install -e '.[gpu]'); use --device cpu",
            file=sys.stderr,
        )
        sys.exit(2)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    dataset = load_data(args)
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, drop_last=True,
                        generator=np.random.default_rng(args.seed))  # fmt: skip
    if len(loader) == 0:
        print(f"error: --batch-size {args.batch_size} is larger than the {len(dataset)} images", file=sys.stderr)
        sys.exit(2)
    device = args.device

    net_g = Generator(args.nz, args.width).to(device)
    net_d = Discriminator(args.width, batch_norm=not args.wgan_gp).to(device)
    net_g.apply(weights_init)
    net_d.apply(weights_init)
    betas = (0.5, 0.9) if args.wgan_gp else (0.5, 0.999)
    opt_g = torch.optim.Adam(net_g.parameters(), lr=args.lr, betas=betas)
    opt_d = torch.optim.Adam(net_d.parameters(), lr=args.lr, betas=betas)
    criterion = nn.BCEWithLogitsLoss()
    fixed_noise = torch.randn(64, args.nz, device=device)
    real_batch = next(iter(DataLoader(dataset, batch_size=64)))[0]
    save_image(real_batch, args.out / "real_samples.png", nrow=8, normalize=True, value_range=(-1, 1))

    history: dict[str, list[float]] = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
    batch_d: list[float] = []
    batch_g: list[float] = []
    g_loss_value = float("nan")
    step = 0
    for epoch in range(1, args.epochs + 1):
        net_g.train()
        net_d.train()
        sums = {key: 0.0 for key in history}
        counts = {"d": 0, "g": 0}
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", leave=False, file=sys.stderr)
        for real, _ in bar:
            real = real.to(device)
            b = real.shape[0]
            # (1) discriminator / critic step
            opt_d.zero_grad()
            fake = net_g(torch.randn(b, args.nz, device=device))
            out_real, out_fake = net_d(real), net_d(fake.detach())
            if args.wgan_gp:
                loss_d = (
                    out_fake.mean() - out_real.mean() + args.gp_weight * gradient_penalty(net_d, real, fake.detach())
                )
                d_real, d_fake = out_real.mean().item(), out_fake.mean().item()
            else:
                loss_d = criterion(out_real, torch.ones(b, device=device)) + criterion(
                    out_fake, torch.zeros(b, device=device)
                )
                d_real, d_fake = torch.sigmoid(out_real).mean().item(), torch.sigmoid(out_fake).mean().item()
            loss_d.backward()
            opt_d.step()
            batch_d.append(loss_d.item())
            sums["d_loss"] += batch_d[-1]
            sums["d_real"] += d_real
            sums["d_fake"] += d_fake
            counts["d"] += 1
            # (2) generator step (every n_critic critic steps with WGAN-GP)
            step += 1
            if not args.wgan_gp or step % args.n_critic == 0:
                opt_g.zero_grad()
                out = net_d(fake)
                loss_g = -out.mean() if args.wgan_gp else criterion(out, torch.ones(b, device=device))
                loss_g.backward()
                opt_g.step()
                g_loss_value = loss_g.item()
                batch_g.append(g_loss_value)
                sums["g_loss"] += g_loss_value
                counts["g"] += 1
            bar.set_postfix(D=f"{batch_d[-1]:.3f}", G=f"{g_loss_value:.3f}", Dx=f"{d_real:.2f}", DGz=f"{d_fake:.2f}")
        history["d_loss"].append(sums["d_loss"] / counts["d"])
        history["g_loss"].append(sums["g_loss"] / counts["g"] if counts["g"] else float("nan"))
        history["d_real"].append(sums["d_real"] / counts["d"])
        history["d_fake"].append(sums["d_fake"] / counts["d"])
        net_g.eval()
        with torch.no_grad():
            samples = net_g(fixed_noise).cpu()
        grid_path = args.out / f"samples_epoch_{epoch:02d}.png"
        save_image(samples, grid_path, nrow=8, normalize=True, value_range=(-1, 1))
        print(f"epoch {epoch}: D loss {history['d_loss'][-1]:.4f} G loss {history['g_loss'][-1]:.4f} | "
              f"D(x) {history['d_real'][-1]:.3f} D(G(z)) {history['d_fake'][-1]:.3f} | {grid_path.name}")  # fmt: skip

    write_atomic(args.out / "model.safetensors", lambda tmp: torch.save(net_g.state_dict(), tmp))
    write_atomic(args.out / "discriminator.safetensors", lambda tmp: torch.save(net_d.state_dict(), tmp))
    plot_losses(history, batch_d, batch_g, args.out / "losses.png")
    onnx = export_and_compare(net_g, fixed_noise, args.out)
    print(f"generator: eager vs ONNX Runtime on {len(fixed_noise)} fixed latents, "
          f"max |diff| {onnx['onnx_max_abs_diff']:.2e}")  # fmt: skip

    # A cheap sanity figure for the samples: their pixel spread should resemble real digits (mostly -1 background).
    real_background = float((real_batch.numpy() < -0.9).mean())
    fake_background = float((samples.numpy() < -0.9).mean())
    window = max(1, min(20, len(batch_g) // 4))
    summary: dict[str, object] = {
        "example": "dcgan",
        "mode": "wgan-gp" if args.wgan_gp else "dcgan",
        "epochs": args.epochs,
        "train_size": len(dataset),
        "history": {k: [round(v, 5) for v in vals] for k, vals in history.items()},
        "d_loss": history["d_loss"],
        "g_loss": history["g_loss"],
        "first_d_loss": float(np.mean(batch_d[:window])),
        "last_d_loss": float(np.mean(batch_d[-window:])),
        "first_g_loss": float(np.mean(batch_g[:window])),
        "last_g_loss": float(np.mean(batch_g[-window:])),
        "losses_finite": all(math.isfinite(v) for v in batch_d + batch_g),
        "real_background_fraction": real_background,
        "fake_background_fraction": fake_background,
        "samples_png": str(grid_path),
        "grid_shape": list(make_grid(samples, nrow=8).shape),
        **onnx,
        "checkpoint": str(args.out / "model.safetensors"),
        "onnx": str(args.out / "model.onnx"),
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
