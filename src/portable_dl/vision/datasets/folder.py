"""``DatasetFolder`` and ``ImageFolder``: one sub-folder per class, as in torchvision.

Classes are the sub-folder names sorted; ``class_to_idx`` maps them to 0..K-1; ``samples`` lists ``(path, index)``
in sorted walk order. ImageFolder's default loader opens the file with Pillow, converts it to RGB and returns a
uint8 NumPy ``H x W x 3`` array (torchvision returns the PIL image).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .._image import np, require_pil
from .vision import VisionDataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename: str, extensions: str | tuple[str, ...]) -> bool:
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def is_image_file(filename: str) -> bool:
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
    """Sorted sub-folder names of ``directory`` and their indices."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory: str | os.PathLike, class_to_idx: dict[str, int], extensions: Any = None,
                 is_valid_file: Callable[[str], bool] | None = None, allow_empty: bool = False) -> list[tuple[str, int]]:  # fmt: skip
    """``(path, class_index)`` for every accepted file under each class folder."""
    directory = os.path.expanduser(os.fspath(directory))
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    check = is_valid_file if is_valid_file is not None else lambda path: has_file_allowed_extension(path, extensions)
    instances = []
    empty = []
    for name in sorted(class_to_idx):
        folder = os.path.join(directory, name)
        if not os.path.isdir(folder):
            continue
        found = 0
        for dirpath, _, filenames in sorted(os.walk(folder, followlinks=True)):
            for filename in sorted(filenames):
                path = os.path.join(dirpath, filename)
                if check(path):
                    instances.append((path, class_to_idx[name]))
                    found += 1
        if found == 0:
            empty.append(name)
    if empty and not allow_empty:
        wanted = f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}" \
            if extensions is not None else "no file passed is_valid_file"  # fmt: skip
        raise FileNotFoundError(f"Found no valid file for the classes {', '.join(sorted(empty))}. {wanted}")
    return instances


def pil_loader(path: str) -> Any:
    """The image at ``path`` as a uint8 NumPy ``H x W x 3`` RGB array (Pillow decodes it)."""
    image_module = require_pil()
    with open(path, "rb") as f, image_module.open(f) as img:
        return np.asarray(img.convert("RGB"))


def default_loader(path: str) -> Any:
    return pil_loader(path)


class DatasetFolder(VisionDataset):
    """Samples ``(loader(path), class_index)`` from ``root/<class>/**/<file>``."""

    def __init__(self, root: str | os.PathLike, loader: Callable[[str], Any], extensions: Any = None,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 is_valid_file: Callable[[str], bool] | None = None, allow_empty: bool = False) -> None:  # fmt: skip
        super().__init__(root, transform=transform, target_transform=target_transform)
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f"{type(self).__name__}: root {self.root} is not a folder")
        classes, class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(self.root, class_to_idx, extensions, is_valid_file, allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.targets = [target for _, target in self.samples]

    @staticmethod
    def make_dataset(directory: str, class_to_idx: dict[str, int], extensions: Any = None,
                     is_valid_file: Callable[[str], bool] | None = None, allow_empty: bool = False) -> list[tuple[str, int]]:  # fmt: skip
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def find_classes(self, directory: str) -> tuple[list[str], dict[str, int]]:
        return find_classes(directory)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[index]
        return self._apply(self.loader(path), target)


class ImageFolder(DatasetFolder):
    """Images under ``root/<class>/``, decoded by Pillow into uint8 ``H x W x 3`` arrays."""

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None, loader: Callable[[str], Any] = default_loader,
                 is_valid_file: Callable[[str], bool] | None = None, allow_empty: bool = False) -> None:  # fmt: skip
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform=transform,
                         target_transform=target_transform, is_valid_file=is_valid_file, allow_empty=allow_empty)  # fmt: skip
        self.imgs = self.samples
