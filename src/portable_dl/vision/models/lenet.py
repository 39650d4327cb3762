"""LeNet-5 for 28 x 28 inputs (MNIST), with ReLU and max pooling in place of the original's tanh and subsampling.

Not a torchvision model (torchvision has none); the names follow PyTorch's tutorial: ``conv1, conv2, fc1, fc2, fc3``.
``conv1`` pads by 2 so a 28 x 28 image gives LeNet-5's 32 x 32 geometry: 6@28x28 -> pool -> 16@10x10 -> pool ->
16@5x5 -> 120 -> 84 -> ``num_classes``.
"""

from __future__ import annotations

from typing import Any

from ... import nn
from ...nn import functional as F
from ...ops import flatten
from ...tensor import Tensor


class LeNet(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or tuple(x.shape[-2:]) != (28, 28):
            raise ValueError(f"LeNet expects N x C x 28 x 28 input, got shape {tuple(x.shape)}")
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(flatten(x, 1)))
        return self.fc3(F.relu(self.fc2(x)))


def lenet(*, num_classes: int = 10, **kwargs: Any) -> LeNet:
    return LeNet(num_classes=num_classes, **kwargs)


__all__ = ["LeNet", "lenet"]
