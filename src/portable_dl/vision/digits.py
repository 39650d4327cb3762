"""``load_digits``: 7,000 real MNIST digits shipped inside the package, so the quickstart needs no download.

The file ``data/digits.npz`` holds 6,000 training and 1,000 test digits cut from the MNIST test set by
``tools/build_digits.py`` (a seeded shuffle; see ``data/README.md`` for provenance and licence). It is read with
``np.load(allow_pickle=False)`` through ``importlib.resources``, so it works from a wheel, an sdist or a checkout.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from ._image import np

SPLITS = ("train", "test")
_FOLDER, _NAME = "data", "digits.npz"


def load_digits(split: str = "train") -> tuple[Any, Any]:
    """``(images, labels)`` of one split: uint8 NumPy ``N x 28 x 28`` (0 = background) and int64 ``N`` in 0-9."""
    if split not in SPLITS:
        raise ValueError(f"load_digits: split must be one of {', '.join(repr(s) for s in SPLITS)}, got {split!r}")
    resource = resources.files(__package__).joinpath(_FOLDER).joinpath(_NAME)
    try:
        with resource.open("rb") as f, np.load(f, allow_pickle=False) as archive:
            images, labels = archive[f"{split}_images"], archive[f"{split}_labels"]
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"load_digits: the embedded file {_FOLDER}/{_NAME} is missing from {__package__}; the installation is "
            "incomplete (reinstall portable-dl, or rebuild it with tools/build_digits.py in a checkout)"
        ) from error
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise ValueError(
            f"load_digits: {_FOLDER}/{_NAME} is malformed: {split} images {images.dtype} {images.shape}, "
            f"labels {labels.shape} (expected uint8 N x 28 x 28 and N labels)"
        )
    return images, labels.astype(np.int64, copy=False)
