"""``MNIST`` and ``FashionMNIST``: IDX files, torchvision's arguments, mirrors, file names and MD5s.

Samples are ``(image, target)`` with ``image`` a uint8 NumPy ``28 x 28`` array (torchvision gives a PIL image;
``transforms.ToTensor`` turns either into a float ``1 x 28 x 28`` tensor in [0, 1]) and ``target`` an int.

Files are looked for, gzip-compressed or not, in ``root/<ClassName>/raw`` (torchvision's layout), then
``root/<ClassName>``, then ``root`` itself, so a folder holding the ``.gz`` files directly works. Only the split
asked for must be there. MD5s are checked on download; files found locally are checked by their IDX headers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...ops.creation import from_numpy
from ...tensor import Tensor
from ._download import download_file
from .idx import read_idx
from .vision import VisionDataset


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28 x 28 grey, labels 0-9."""

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]  # fmt: skip

    def __init__(self, root: str | os.PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:  # fmt: skip
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        prefix = "train" if train else "t10k"
        names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        folder = self._find(names)
        if folder is None and download:
            self.download()
            folder = self._find(names)
        if folder is None:
            raise RuntimeError(self._not_found_message(names))
        images, labels = (read_idx(self._file(folder, name)) for name in names)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{folder}: expected images N x H x W and N labels, got {images.shape} and {labels.shape}")
        self._images = images.astype("uint8", copy=False)
        self._labels = labels.astype("int64")
        self.data: Tensor = from_numpy(self._images)
        self.targets: Tensor = from_numpy(self._labels)

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def _candidates(self) -> list[Path]:
        return [Path(self.raw_folder), Path(self.root, type(self).__name__), Path(self.root)]

    @staticmethod
    def _file(folder: Path, name: str) -> Path:
        gz = folder / f"{name}.gz"
        return gz if gz.is_file() else folder / name

    def _find(self, names: tuple[str, ...]) -> Path | None:
        for folder in self._candidates():
            if all(self._file(folder, name).is_file() for name in names):
                return folder
        return None

    def _not_found_message(self, names: tuple[str, ...]) -> str:
        files = ", ".join(f"{n}.gz" for n in names)
        urls = " or ".join(self.mirrors)
        return (
            f"{type(self).__name__} {'training' if self.train else 'test'} files not found. Put {files} (from {urls}) "
            f"into {self.raw_folder} or directly into {self.root}, or pass download=True to fetch and verify them."
        )

    def download(self) -> None:
        """Fetch the four files into ``raw_folder``, checking each MD5; existing verified files are kept."""
        for filename, md5 in self.resources:
            download_file([mirror + filename for mirror in self.mirrors], self.raw_folder, filename, md5)

    def __len__(self) -> int:
        return len(self._images)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self._apply(self._images[index].copy(), int(self._labels[index]))

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28 x 28 grey images of 10 kinds of clothing, MNIST's file format and sizes."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]  # fmt: skip
