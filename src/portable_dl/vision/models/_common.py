"""Pieces shared by the model files: ``Conv2dNormActivation`` (torchvision.ops) and the ``weights`` check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ... import nn


def check_no_weights(weights: Any, name: str) -> None:
    """Pretrained weights are not downloaded here: load a safetensors state_dict instead."""
    if weights is not None:
        raise ValueError(
            f"{name}: pretrained weights are not bundled; build with weights=None and load a checkpoint with "
            f"model.load_state_dict(portable_dl.load('{name}.safetensors')) (a torchvision state_dict saved with "
            "safetensors.torch.save_file loads unchanged)"
        )


def make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """The nearest multiple of ``divisor`` not below ``min_value`` and not more than 10% under ``v``."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Conv2dNormActivation(nn.Sequential):
    """Conv2d (bias only without a norm layer), norm layer, activation: keys ``0.weight``, ``1.running_mean``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int | None = None, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU, dilation: int = 1,
                 inplace: bool | None = True, bias: bool | None = None) -> None:  # fmt: skip
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels, out_channels, kernel_size, stride, padding, dilation=dilation, groups=groups, bias=bias
            )  # fmt: skip
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels
