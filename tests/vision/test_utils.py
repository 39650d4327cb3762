"""make_grid against a NumPy tiling written here; save_image read back with Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import portable_dl as torch
from portable_dl.vision.utils import make_grid, save_image


def numpy_grid(batch: np.ndarray, nrow: int, padding: int, pad_value: float) -> np.ndarray:
    n, c, h, w = batch.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, batch.dtype)
    for k in range(n):
        r, q = divmod(k, cols)
        y, x = padding + r * (h + padding), padding + q * (w + padding)
        grid[:, y : y + h, x : x + w] = batch[k]
    return grid


@pytest.mark.parametrize(("n", "nrow", "padding"), [(5, 2, 2), (8, 8, 0), (3, 5, 1)])
def test_make_grid_tiles_like_numpy(n: int, nrow: int, padding: int) -> None:
    batch = np.random.default_rng(n).random((n, 3, 4, 6), dtype=np.float32)
    out = make_grid(torch.tensor(batch), nrow=nrow, padding=padding, pad_value=0.5)
    np.testing.assert_array_equal(out.numpy(), numpy_grid(batch, nrow, padding, 0.5))


def test_make_grid_gray_list_and_normalize() -> None:
    batch = np.random.default_rng(1).random((3, 1, 4, 4), dtype=np.float32) * 10 - 3
    out = make_grid([torch.tensor(b) for b in batch], nrow=3, normalize=True)
    scaled = (batch - batch.min()) / (batch.max() - batch.min())
    np.testing.assert_allclose(out.numpy(), numpy_grid(np.repeat(scaled, 3, axis=1), 3, 2, 0.0), atol=1e-6)
    each = make_grid(torch.tensor(batch), nrow=3, normalize=True, scale_each=True).numpy()
    per = np.stack([(b - b.min()) / (b.max() - b.min()) for b in batch])
    np.testing.assert_allclose(each, numpy_grid(np.repeat(per, 3, axis=1), 3, 2, 0.0), atol=1e-6)
    ranged = make_grid(torch.tensor(batch), normalize=True, value_range=(0.0, 5.0)).numpy()
    np.testing.assert_allclose(ranged, numpy_grid(np.repeat(np.clip(batch, 0, 5) / 5, 3, axis=1), 8, 2, 0.0), atol=1e-6)
    single = make_grid(torch.tensor(batch[:1]))
    assert tuple(single.shape) == (3, 4, 4)  # one image: no padding, gray repeated to RGB
    assert np.array_equal(batch, torch.tensor(batch).numpy())  # the input is not modified
    with pytest.raises(TypeError, match="value_range"):
        make_grid(torch.tensor(batch), normalize=True, value_range=[0, 1])


def test_save_image_writes_png(tmp_path: Path) -> None:
    Image = pytest.importorskip("PIL.Image")
    batch = np.random.default_rng(2).random((4, 3, 5, 5), dtype=np.float32)
    path = tmp_path / "grid.png"
    save_image(torch.tensor(batch), path, nrow=2, padding=1)
    with Image.open(path) as img:
        assert img.format == "PNG"
        pixels = np.asarray(img)
    expected = np.clip(numpy_grid(batch, 2, 1, 0.0) * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(pixels, expected)
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]  # no temporary file left behind
