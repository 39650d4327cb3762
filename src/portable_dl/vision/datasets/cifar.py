"""``CIFAR10`` from the *binary* release (``cifar-10-batches-bin/*.bin``): fixed-length records, never pickle.

Each record is one label byte then 3,072 pixel bytes (1,024 red, 1,024 green, 1,024 blue, row-major 32 x 32).
``data`` is a uint8 NumPy array ``N x 32 x 32 x 3`` and ``targets`` a list of ints, as in torchvision; a sample's
image is a uint8 ``32 x 32 x 3`` array (torchvision gives a PIL image; ``ToTensor`` accepts both).
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from ..._atomic import write_bytes
from .._image import np
from ._download import download_file
from .vision import VisionDataset

_RECORD = 1 + 3 * 32 * 32


def read_cifar_binary(path: str | os.PathLike) -> tuple[Any, Any]:
    """``(images N x 32 x 32 x 3 uint8, labels N int64)`` from one CIFAR-10 binary batch file."""
    raw = Path(path).read_bytes()
    if len(raw) == 0 or len(raw) % _RECORD:
        raise ValueError(f"{path}: {len(raw)} bytes is not a whole number of {_RECORD}-byte CIFAR-10 records")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise ValueError(f"{path}: found label {int(labels.max())}; CIFAR-10 labels are 0-9")
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
    return images, labels


class CIFAR10(VisionDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images, 32 x 32, in 10 classes."""

    base_folder = "cifar-10-batches-bin"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    filename = "cifar-10-binary.tar.gz"
    tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    meta_file = "batches.meta.txt"
    default_classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root: str | os.PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:  # fmt: skip
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        names = self.train_list if train else self.test_list
        folder = self._find(names)
        if folder is None and download:
            self.download()
            folder = self._find(names)
        if folder is None:
            raise RuntimeError(
                f"CIFAR10 {'training' if train else 'test'} files not found: expected {', '.join(names)} in "
                f"{os.path.join(self.root, self.base_folder)} (or directly in {self.root}). Download {self.url} "
                f"(MD5 {self.tgz_md5}) and extract it into {self.root}, or pass download=True."
            )
        parts = [read_cifar_binary(folder / name) for name in names]
        self.data = np.concatenate([images for images, _ in parts])
        self.targets: list[int] = [int(t) for _, labels in parts for t in labels]
        meta = folder / self.meta_file
        names_in_meta = meta.read_text(encoding="utf-8").split() if meta.is_file() else []
        self.classes = names_in_meta if len(names_in_meta) == 10 else list(self.default_classes)
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _find(self, names: list[str]) -> Path | None:
        for folder in (Path(self.root, self.base_folder), Path(self.root)):
            if all((folder / name).is_file() for name in names):
                return folder
        return None

    def download(self) -> None:
        """Fetch the binary archive (MD5-checked) and extract only its regular files under ``base_folder``."""
        archive = download_file([self.url], self.root, self.filename, self.tgz_md5)
        target = Path(self.root, self.base_folder)
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                parts = PurePosixPath(member.name).parts
                if (
                    not member.isfile()
                    or len(parts) != 2
                    or parts[0] != self.base_folder
                    or parts[1] in ("", ".", "..")
                ):
                    continue
                source = tar.extractfile(member)
                if source is None:
                    continue
                write_bytes(target / parts[1], source.read())

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self._apply(self.data[index].copy(), self.targets[index])

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"
