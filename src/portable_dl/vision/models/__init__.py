"""``portable_dl.vision.models``: LeNet, ResNet, MobileNetV2 and VGG with torchvision's names and state_dict keys.

``weights`` must be None (nothing is downloaded); load a torchvision checkpoint saved as safetensors with
``model.load_state_dict(portable_dl.load(path))``.
"""

from __future__ import annotations

from ._common import Conv2dNormActivation
from .lenet import LeNet, lenet
from .mobilenet import InvertedResidual, MobileNetV2, mobilenet_v2
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50, resnet101, resnet152
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg16, vgg19

__all__ = [
    "Conv2dNormActivation", "LeNet", "lenet", "MobileNetV2", "InvertedResidual", "mobilenet_v2", "ResNet", "BasicBlock",
    "Bottleneck", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "VGG", "vgg11", "vgg11_bn", "vgg13",
    "vgg16", "vgg19",
]  # fmt: skip
