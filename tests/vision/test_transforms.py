"""Transforms against documented formulas, NumPy, and torch's interpolate / grid_sample (torchvision's tensor path)."""

from __future__ import annotations

import colorsys
import math

import numpy as np
import pytest
import torch as ref

import portable_dl as torch
from portable_dl.vision import transforms as T
from portable_dl.vision.transforms import functional as F


@pytest.fixture
def rgb() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(37, 53, 3), dtype=np.uint8)


def test_to_tensor_uint8_array_is_chw_scaled(rgb: np.ndarray) -> None:
    out = T.ToTensor()(rgb)
    assert out.dtype == torch.float32 and tuple(out.shape) == (3, 37, 53)
    np.testing.assert_allclose(out.numpy(), rgb.transpose(2, 0, 1).astype(np.float32) / 255.0, rtol=0, atol=1e-7)
    gray = rgb[:, :, 0]
    np.testing.assert_allclose(T.ToTensor()(gray).numpy(), gray[None].astype(np.float32) / 255.0, atol=1e-7)


def test_to_tensor_accepts_pil_images(rgb: np.ndarray) -> None:
    Image = pytest.importorskip("PIL.Image")
    out = T.ToTensor()(Image.fromarray(rgb))
    np.testing.assert_allclose(out.numpy(), rgb.transpose(2, 0, 1) / 255.0, atol=1e-6)
    out = T.ToTensor()(Image.fromarray(rgb[:, :, 1]))  # mode L
    assert tuple(out.shape) == (1, 37, 53)
    with pytest.raises(TypeError, match="PIL Image or a NumPy ndarray"):
        T.ToTensor()([1, 2, 3])


def test_normalize_matches_formula(rgb: np.ndarray) -> None:
    x = T.ToTensor()(rgb)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    expected = (x.numpy() - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    np.testing.assert_allclose(T.Normalize(mean, std)(x).numpy(), expected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize((0.5,), (0.0,))(x)
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0.5,), (0.5,))(torch.zeros(3, 4, 4, dtype=torch.uint8))


def _interpolate(x: np.ndarray, size: tuple[int, int], antialias: bool = True, mode: str = "bilinear") -> np.ndarray:
    kwargs = {"align_corners": False, "antialias": antialias} if mode == "bilinear" else {}
    return ref.nn.functional.interpolate(ref.from_numpy(x)[None], size=size, mode=mode, **kwargs)[0].numpy()


def test_resize_int_sets_smaller_edge_and_matches_torch_antialias() -> None:
    x = np.random.default_rng(1).random((3, 37, 53), dtype=np.float32)
    out = T.Resize(20)(torch.tensor(x))
    assert tuple(out.shape) == (3, 20, int(20 * 53 / 37))
    np.testing.assert_allclose(out.numpy(), _interpolate(x, (20, 28)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [(50, 70), (13, 61), (37, 20)])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_sizes_match_torch(size: tuple[int, int], antialias: bool) -> None:
    x = np.random.default_rng(2).random((2, 3, 37, 53), dtype=np.float32)
    out = F.resize(torch.tensor(x), list(size), antialias=antialias).numpy()
    expected = ref.nn.functional.interpolate(ref.from_numpy(x), size=size, mode="bilinear", align_corners=False,
                                             antialias=antialias).numpy()  # fmt: skip
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_resize_nearest_matches_torch() -> None:
    x = np.random.default_rng(3).random((3, 37, 53), dtype=np.float32)
    out = F.resize(torch.tensor(x), [20, 31], interpolation=T.InterpolationMode.NEAREST).numpy()
    np.testing.assert_array_equal(out, _interpolate(x, (20, 31), mode="nearest"))


def test_resize_uint8_array_keeps_layout_and_rounds(rgb: np.ndarray) -> None:
    out = T.Resize((20, 30))(rgb)
    assert out.dtype == np.uint8 and out.shape == (20, 30, 3)
    expected = _interpolate(rgb.transpose(2, 0, 1).astype(np.float32), (20, 30))
    assert np.abs(out.transpose(2, 0, 1).astype(np.float32) - expected).max() <= 0.5 + 1e-3


def test_center_crop_offsets_and_padding(rgb: np.ndarray) -> None:
    out = T.CenterCrop((20, 30))(rgb)
    top, left = int(round((37 - 20) / 2)), int(round((53 - 30) / 2))
    np.testing.assert_array_equal(out, rgb[top : top + 20, left : left + 30])
    x = torch.tensor(rgb.transpose(2, 0, 1).copy())
    big = T.CenterCrop(60)(x).numpy()  # larger than the image: zero padding as torchvision
    padded = np.pad(
        rgb.transpose(2, 0, 1), ((0, 0), ((60 - 37) // 2, (60 - 37 + 1) // 2), ((60 - 53) // 2, (60 - 53 + 1) // 2))
    )
    np.testing.assert_array_equal(big, padded)


def test_random_crop_with_padding_is_a_window_of_the_padded_image() -> None:
    img = np.arange(8 * 9, dtype=np.uint8).reshape(8, 9)  # unique values: a window identifies its offset
    padded = np.pad(img, 4)
    crop = T.RandomCrop(8, padding=4)
    offsets = set()
    torch.manual_seed(0)
    for _ in range(40):
        out = crop(img)
        assert out.shape == (8, 8)
        found = [(i, j) for i in range(9) for j in range(10) if np.array_equal(padded[i : i + 8, j : j + 8], out)]
        assert len(found) == 1
        offsets.add(found[0])
    assert len(offsets) > 10  # the offset is random
    torch.manual_seed(5)
    first = [crop(img) for _ in range(5)]
    torch.manual_seed(5)
    again = [crop(img) for _ in range(5)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_random_crop_pad_if_needed_and_modes() -> None:
    img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = T.RandomCrop((5, 4), pad_if_needed=True, padding_mode="edge")(img)
    padded = np.pad(img, ((2, 2), (0, 0)), mode="edge")  # torchvision pads both sides by the shortfall
    assert out.shape == (5, 4) and any(np.array_equal(padded[i : i + 5], out) for i in range(3))
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(10)(img)
    reflect = F.pad(torch.tensor(img[None].astype(np.float32)), [1, 2], padding_mode="reflect").numpy()[0]
    np.testing.assert_array_equal(reflect, np.pad(img, ((2, 2), (1, 1)), mode="reflect"))


def test_flips_follow_the_seed() -> None:
    img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[:, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(img), img[::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(img), img)
    flip = T.RandomHorizontalFlip()
    torch.manual_seed(123)
    first = [bool(np.array_equal(flip(img), img[:, ::-1])) for _ in range(200)]
    torch.manual_seed(123)
    again = [bool(np.array_equal(flip(img), img[:, ::-1])) for _ in range(200)]
    assert first == again and 60 < sum(first) < 140
    x = torch.tensor(img[None].astype(np.float32))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(x).numpy()[0], img[:, ::-1])


def test_rotation_by_90_nearest_is_rot90() -> None:
    img = np.random.default_rng(4).integers(0, 256, size=(9, 9, 3), dtype=np.uint8)
    out = T.RandomRotation((90, 90))(img)
    np.testing.assert_array_equal(out, np.rot90(img))  # counter-clockwise, as torchvision


def test_rotation_bilinear_matches_grid_sample() -> None:
    x = np.random.default_rng(5).random((3, 16, 16), dtype=np.float32)
    angle, fill = 30.0, 0.25
    out = F.rotate(torch.tensor(x), angle, interpolation=T.InterpolationMode.BILINEAR, fill=fill).numpy()
    r = math.radians(angle)  # output -> input: rotate the sampling grid by -angle in image (y-down) coordinates
    theta = ref.tensor([[[math.cos(r), -math.sin(r), 0.0], [math.sin(r), math.cos(r), 0.0]]], dtype=ref.float32)
    grid = ref.nn.functional.affine_grid(theta, (1, 4, 16, 16), align_corners=False)
    stacked = ref.cat([ref.from_numpy(x), ref.ones(1, 16, 16)])[None]
    sampled = ref.nn.functional.grid_sample(stacked, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[
        0
    ]
    mask = sampled[-1:]
    expected = (sampled[:-1] * mask + (1 - mask) * fill).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_rotation_expand_holds_the_whole_image() -> None:
    img = np.ones((10, 20), dtype=np.uint8) * 200
    out = F.rotate(img, 90, expand=True)
    assert out.shape == (20, 10) and out.min() == 200


def _gray(img: np.ndarray) -> np.ndarray:
    return 0.2989 * img[0] + 0.587 * img[1] + 0.114 * img[2]


def test_color_adjustments_match_formulas() -> None:
    x = np.random.default_rng(6).random((3, 5, 7), dtype=np.float32)
    t = torch.tensor(x)
    np.testing.assert_allclose(F.adjust_brightness(t, 1.5).numpy(), np.clip(1.5 * x, 0, 1), atol=1e-6)
    mean = _gray(x).mean()
    np.testing.assert_allclose(F.adjust_contrast(t, 0.3).numpy(), np.clip(0.3 * x + 0.7 * mean, 0, 1), atol=1e-6)
    np.testing.assert_allclose(F.adjust_saturation(t, 2.0).numpy(), np.clip(2 * x - _gray(x), 0, 1), atol=1e-6)
    hue = F.adjust_hue(t, 0.2).numpy()
    for i, j in [(0, 0), (2, 3), (4, 6)]:
        h, s, v = colorsys.rgb_to_hsv(*x[:, i, j])
        np.testing.assert_allclose(hue[:, i, j], colorsys.hsv_to_rgb((h + 0.2) % 1.0, s, v), atol=1e-5)


def test_color_jitter_is_reproducible_and_keeps_uint8(rgb: np.ndarray) -> None:
    jitter = T.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    torch.manual_seed(9)
    a = jitter(rgb)
    torch.manual_seed(9)
    b = jitter(rgb)
    assert a.dtype == np.uint8 and a.shape == rgb.shape
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, rgb)
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=(0, 0.8))


def test_compose_pipeline_on_dataset_sample(rgb: np.ndarray) -> None:
    pipeline = T.Compose([T.Resize(32), T.CenterCrop(32), T.ToTensor(), T.Normalize((0.5,) * 3, (0.5,) * 3)])
    out = pipeline(rgb)
    assert tuple(out.shape) == (3, 32, 32) and out.dtype == torch.float32
    assert float(out.min()) >= -1.0 and float(out.max()) <= 1.0
    assert "Resize" in repr(pipeline)


def test_rotation_without_fill_is_plain_zero_padded_grid_sample() -> None:
    x = np.random.default_rng(7).random((1, 12, 12), dtype=np.float32)
    out = F.rotate(torch.tensor(x), -20.0, interpolation=T.InterpolationMode.BILINEAR).numpy()
    r = math.radians(-20.0)
    theta = ref.tensor([[[math.cos(r), -math.sin(r), 0.0], [math.sin(r), math.cos(r), 0.0]]], dtype=ref.float32)
    grid = ref.nn.functional.affine_grid(theta, (1, 1, 12, 12), align_corners=False)
    expected = ref.nn.functional.grid_sample(ref.from_numpy(x)[None], grid, align_corners=False)[0].numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
