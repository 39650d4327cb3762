"""``portable_dl.vision``: torchvision's data sets, transforms, models and image utilities, on portable_dl.

Imported explicitly (``import portable_dl.vision``), never by ``import portable_dl``. Differences from torchvision:
data set samples are uint8 NumPy arrays rather than PIL images (``transforms.ToTensor`` accepts both), and models
are built without pretrained weights (load a safetensors state_dict). Pillow is needed only for ImageFolder,
PIL images and ``save_image``.
"""

from __future__ import annotations

from . import datasets, models, transforms, utils

__all__ = ["datasets", "models", "transforms", "utils"]
