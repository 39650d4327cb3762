"""``portable_dl.vision.datasets``: MNIST, FashionMNIST, CIFAR10 (binary) and ImageFolder.

Images come back as uint8 NumPy arrays (``H x W`` or ``H x W x C``) rather than PIL images; ``transforms.ToTensor``
turns them into float tensors ``C x H x W`` in [0, 1].
"""

from __future__ import annotations

from .cifar import CIFAR10, read_cifar_binary
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader, find_classes, make_dataset
from .idx import read_idx
from .mnist import MNIST, FashionMNIST
from .vision import VisionDataset

__all__ = [
    "MNIST", "FashionMNIST", "CIFAR10", "ImageFolder", "DatasetFolder", "VisionDataset", "IMG_EXTENSIONS",
    "default_loader", "find_classes", "make_dataset", "read_idx", "read_cifar_binary",
]  # fmt: skip
