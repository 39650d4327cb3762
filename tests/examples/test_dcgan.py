"""examples/dcgan.py end to end: the real script in a subprocess with ``--smoke`` (DCGAN and WGAN-GP), the saved
generator checked against ONNX Runtime called directly, and the gradient penalty's double backward against PyTorch."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest

import portable_dl as pdl

from .example_helpers import (
    PNG_MAGIC,
    assert_missing_data_refused,
    dynamic_batch_session,
    load_example,
    needs_data,
    require_example_packages,
    run_smoke,
)

require_example_packages()

NAME = "dcgan"
needs_mnist = needs_data("mnist/t10k-images-idx3-ubyte.gz")


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    raw = path.read_bytes()
    assert raw[:8] == PNG_MAGIC, path
    return struct.unpack(">II", raw[16:24])


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return run_smoke(tmp_path_factory, NAME)


def _check_summary(out: Path, summary: dict, mode: str) -> None:
    assert summary["mode"] == mode
    assert summary["losses_finite"] is True
    assert len(summary["d_loss"]) == len(summary["g_loss"]) == summary["epochs"] == 1
    assert all(math.isfinite(v) for v in summary["d_loss"] + summary["g_loss"]), summary
    grid = Path(summary["samples_png"])
    assert grid.parent == out and grid.name == "samples_epoch_01.png"
    assert _png_size(grid) == (242, 242)  # 8 x 8 digits of 28 px with 2 px padding
    for name in ("model.safetensors", "discriminator.safetensors", "model.onnx"):
        assert (out / name).stat().st_size > 0, name
    assert _png_size(out / "losses.png")[0] > 0
    assert summary["onnx_max_abs_diff"] < 1e-4, summary
    assert summary["onnx_output_shape"] == [64, 1, 28, 28]


@needs_mnist
def test_smoke_dcgan_trains_and_onnx_agrees(smoke: tuple[Path, dict]) -> None:
    out, summary = smoke
    _check_summary(out, summary, "dcgan")


@needs_mnist
def test_smoke_wgan_gp_runs(tmp_path_factory: pytest.TempPathFactory) -> None:
    out, summary = run_smoke(tmp_path_factory, NAME, "--wgan-gp", "--n-critic", "2")
    _check_summary(out, summary, "wgan-gp")


@needs_mnist
def test_saved_generator_matches_onnx_runtime_with_dynamic_batch(smoke: tuple[Path, dict]) -> None:
    out, _ = smoke
    generator = load_example(NAME).Generator(nz=32, ngf=8)  # the --smoke sizes
    generator.load_state_dict(pdl.load(out / "model.safetensors"))
    generator.eval()

    session, name = dynamic_batch_session(out / "model.onnx")
    rng = np.random.default_rng(0)
    for batch in (1, 9):
        z = rng.normal(size=(batch, 32)).astype(np.float32)
        with pdl.no_grad():
            eager = generator(pdl.tensor(z)).numpy()
        (images,) = session.run(None, {name: z})
        assert images.shape == (batch, 1, 28, 28)
        assert np.abs(images).max() <= 1.0  # Tanh output
        np.testing.assert_allclose(images, eager, atol=1e-5)


def test_gradient_penalty_double_backward_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    script = load_example(NAME)
    pdl.manual_seed(0)
    critic = script.Discriminator(ndf=4, batch_norm=False)
    ref = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 4, 2, 1, bias=False), torch.nn.LeakyReLU(0.2),
        torch.nn.Conv2d(4, 8, 4, 2, 1, bias=True), torch.nn.Identity(), torch.nn.LeakyReLU(0.2),
        torch.nn.Conv2d(8, 1, 7, 1, 0, bias=False),
    )  # fmt: skip
    state = {k: torch.tensor(v.numpy()) for k, v in critic.main.state_dict().items()}
    ref.load_state_dict(state)
    x = np.random.default_rng(1).normal(size=(3, 1, 28, 28)).astype(np.float32)

    # real == fake makes every interpolate equal x, whatever alpha the function draws.
    penalty = script.gradient_penalty(critic, pdl.tensor(x), pdl.tensor(x))
    penalty.backward()

    xt = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(ref(xt).flatten().sum(), xt, create_graph=True)
    expected = ((g.flatten(1).pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
    expected.backward()

    np.testing.assert_allclose(penalty.item(), expected.item(), rtol=1e-5)
    ours = dict(critic.main.named_parameters())
    for name, param in ref.named_parameters():
        # The conv bias does not reach the input gradient (LeakyReLU is piecewise linear): no grad on either side.
        mine = np.zeros(param.shape) if ours[name].grad is None else ours[name].grad.numpy()
        theirs = np.zeros(param.shape) if param.grad is None else param.grad.numpy()
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6, err_msg=name)
    assert np.abs(ours["0.weight"].grad.numpy()).max() > 0  # the penalty does reach the weights


def test_missing_data_exits_2_naming_the_option(tmp_path: Path) -> None:
    assert_missing_data_refused(NAME, tmp_path)
