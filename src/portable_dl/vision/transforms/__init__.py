"""``portable_dl.vision.transforms``: torchvision's common image transforms.

Images are portable_dl Tensors ``[..., C, H, W]``, NumPy ``H x W (x C)`` uint8 arrays (what the datasets here return
instead of PIL images) or PIL images; each transform returns the kind it was given, and ``ToTensor`` turns an array or
PIL image into a float32 ``C x H x W`` tensor in [0, 1]. Pillow is needed only for PIL images.
"""

from __future__ import annotations

from . import functional
from .transforms import *  # noqa: F403
from .transforms import __all__ as _transforms_all

__all__ = ["functional", *_transforms_all]
