"""Data sets: real MNIST test files, IDX / CIFAR-10 binary files written here, ImageFolder on Pillow PNGs."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

import portable_dl as torch
from portable_dl.utils.data import DataLoader
from portable_dl.vision import datasets, transforms

SHARED_MNIST = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def write_idx(path: Path, array: np.ndarray, code: int) -> None:
    """IDX: 0, 0, type code, rank, big-endian uint32 dims, big-endian values (optionally gzip)."""
    big = array.astype(array.dtype.newbyteorder(">"))
    payload = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + big.tobytes()
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists(), reason=f"no MNIST under {SHARED_MNIST}")
def test_real_mnist_test_split() -> None:
    ds = datasets.MNIST(SHARED_MNIST, train=False)
    assert len(ds) == 10000
    img, target = ds[0]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    assert isinstance(target, int) and 0 <= target <= 9
    assert np.bincount(ds.targets.numpy(), minlength=10).tolist() == MNIST_TEST_COUNTS
    assert tuple(ds.data.shape) == (10000, 28, 28) and ds.data.dtype == torch.uint8
    x, y = next(
        iter(DataLoader(datasets.MNIST(SHARED_MNIST, train=False, transform=transforms.ToTensor()), batch_size=4))
    )
    assert tuple(x.shape) == (4, 1, 28, 28) and float(x.max()) <= 1.0 and y.dtype == torch.int64
    with pytest.raises(RuntimeError, match="train-images-idx3-ubyte.gz"):
        datasets.MNIST(SHARED_MNIST, train=True)


@pytest.mark.parametrize(("dtype", "code"), [(np.uint8, 0x08), (np.int16, 0x0B), (np.int32, 0x0C), (np.float32, 0x0D)])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_round_trip(tmp_path: Path, dtype: type, code: int, suffix: str) -> None:
    array = (np.arange(2 * 3 * 5) * 7 - 20).astype(dtype).reshape(2, 3, 5)
    if dtype is np.uint8:
        array = np.arange(30, dtype=np.uint8).reshape(2, 3, 5) * 8
    path = tmp_path / f"x-idx3{suffix}"
    write_idx(path, array, code)
    np.testing.assert_array_equal(datasets.read_idx(path), array)


def test_read_idx_rejects_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"\x00" * 5)
    with pytest.raises(ValueError, match="holds 13 bytes"):
        datasets.read_idx(short)


def _tiny_mnist(folder: Path, prefix: str, n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images, 0x08)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, 0x08)  # uncompressed works too
    return images, labels


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST])
def test_mnist_layout_and_transforms(tmp_path: Path, cls: type) -> None:
    images, labels = _tiny_mnist(tmp_path / cls.__name__ / "raw", "train")
    ds = cls(tmp_path, train=True, transform=transforms.ToTensor(), target_transform=lambda t: t + 100)
    assert len(ds) == 6 and len(ds.classes) == 10
    x, y = ds[3]
    np.testing.assert_allclose(x.numpy()[0], images[3] / 255.0, atol=1e-7)
    assert y == int(labels[3]) + 100
    with pytest.raises(RuntimeError, match=r"t10k-images-idx3-ubyte\.gz.*download=True"):
        cls(tmp_path, train=False)


def test_mnist_download_verifies_md5(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    _tiny_mnist(mirror, "train")
    _tiny_mnist(mirror, "t10k")
    for name in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        (mirror / f"{name}.gz").write_bytes(gzip.compress((mirror / name).read_bytes()))
    md5 = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in mirror.glob("*.gz")}

    class Local(datasets.MNIST):
        mirrors = ["file:///nonexistent/", mirror.as_uri() + "/"]
        resources = [(name, md5[name]) for name in sorted(md5)]

    ds = Local(tmp_path / "root", train=False, download=True)
    assert len(ds) == 6 and (tmp_path / "root" / "Local" / "raw" / "t10k-images-idx3-ubyte.gz").is_file()

    class Corrupt(Local):
        resources = [(name, "0" * 32) for name in sorted(md5)]

    with pytest.raises(RuntimeError, match="does not match the expected"):
        Corrupt(tmp_path / "other", train=False, download=True)
    assert not list((tmp_path / "other" / "Corrupt" / "raw").iterdir())  # nothing half-written is left


def _cifar_records(n: int, seed: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    planes = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    raw = b"".join(bytes([labels[i]]) + planes[i].tobytes() for i in range(n))
    return raw, labels, planes


def test_cifar10_binary_parsing(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    raw, labels, planes = _cifar_records(5, 1)
    (folder / "test_batch.bin").write_bytes(raw)
    ds = datasets.CIFAR10(tmp_path, train=False)
    assert len(ds) == 5 and ds.data.shape == (5, 32, 32, 3) and ds.targets == labels.tolist()
    img, target = ds[2]
    np.testing.assert_array_equal(img[:, :, 1], planes[2, 1])  # channel-last, green plane
    assert target == int(labels[2]) and ds.classes[0] == "airplane"
    for i in range(1, 6):
        (folder / f"data_batch_{i}.bin").write_bytes(_cifar_records(2, i)[0])
    assert len(datasets.CIFAR10(tmp_path, train=True)) == 10
    (folder / "test_batch.bin").write_bytes(raw[:-1])
    with pytest.raises(ValueError, match="whole number of 3073-byte"):
        datasets.CIFAR10(tmp_path, train=False)
    with pytest.raises(RuntimeError, match="cifar-10-binary.tar.gz"):
        datasets.CIFAR10(tmp_path / "empty", train=False)


def test_cifar10_download_extracts_only_its_batch_files(tmp_path: Path) -> None:
    raw, labels, _ = _cifar_records(3, 4)
    archive = tmp_path / "cifar-10-binary.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, payload in (("cifar-10-batches-bin/test_batch.bin", raw), ("../evil.bin", b"x"),
                              ("cifar-10-batches-bin/batches.meta.txt", "\n".join("abcdefghij").encode())):  # fmt: skip
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))

    class Local(datasets.CIFAR10):
        url = archive.as_uri()
        tgz_md5 = hashlib.md5(archive.read_bytes()).hexdigest()

    root = tmp_path / "root"
    ds = Local(root, train=False, download=True)
    assert ds.targets == labels.tolist() and ds.classes == list("abcdefghij")
    assert not (tmp_path / "evil.bin").exists() and not (root.parent / "evil.bin").exists()


def test_image_folder_on_pngs(tmp_path: Path) -> None:
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(2)
    written = {}
    for cls, count in (("dog", 2), ("cat", 3)):
        (tmp_path / cls / "sub").mkdir(parents=True)
        for i in range(count):
            pixels = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
            path = tmp_path / cls / ("sub" if i == 2 else "") / f"{i}.png"
            Image.fromarray(pixels).save(path)
            written[str(path)] = pixels
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "dog" / "gray.png")
    ds = datasets.ImageFolder(tmp_path)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 6 and ds.targets == [0, 0, 0, 1, 1, 1]
    for index, (path, target) in enumerate(ds.samples):
        img, label = ds[index]
        assert label == target and img.dtype == np.uint8 and img.shape[2] == 3
        if path in written:
            np.testing.assert_array_equal(img, written[path])
    only_zero = datasets.ImageFolder(tmp_path, is_valid_file=lambda p: p.endswith("0.png"), loader=lambda p: p)
    assert only_zero.imgs == only_zero.samples and [t for _, t in only_zero.samples] == [0, 1]
    assert only_zero[0][0].endswith("cat/0.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        datasets.ImageFolder(tmp_path)
    assert len(datasets.ImageFolder(tmp_path, allow_empty=True)) == 6
