"""Models against torch.nn twins written to torchvision's published structure: keys, shapes, outputs, init."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch as ref
from torch import nn as tnn

import portable_dl as torch
from portable_dl.vision import models
from portable_dl.vision.models.vgg import cfgs, make_layers

# ----- torch twins (torchvision's structure, written out with torch.nn) ------------------------------------------


class TwinBasicBlock(tnn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: tnn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: ref.Tensor) -> ref.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class TwinResNet18(tnn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for i, planes in enumerate((64, 128, 256, 512)):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or inplanes != planes:
                down = tnn.Sequential(tnn.Conv2d(inplanes, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes))
            setattr(self, f"layer{i + 1}", tnn.Sequential(TwinBasicBlock(inplanes, planes, stride, down),
                                                           TwinBasicBlock(planes, planes)))  # fmt: skip
            inplanes = planes
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512, num_classes)

    def forward(self, x: ref.Tensor) -> ref.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(ref.flatten(self.avgpool(x), 1))


def twin_conv_bn_act(inp: int, out: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> tnn.Sequential:
    return tnn.Sequential(tnn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                          tnn.BatchNorm2d(out), tnn.ReLU6(inplace=True))  # fmt: skip


class TwinInvertedResidual(tnn.Module):
    def __init__(self, inp: int, oup: int, stride: int, t: int) -> None:
        super().__init__()
        hidden = int(round(inp * t))
        self.use_res = stride == 1 and inp == oup
        layers = [twin_conv_bn_act(inp, hidden, 1)] if t != 1 else []
        layers += [twin_conv_bn_act(hidden, hidden, 3, stride, hidden), tnn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
                   tnn.BatchNorm2d(oup)]  # fmt: skip
        self.conv = tnn.Sequential(*layers)

    def forward(self, x: ref.Tensor) -> ref.Tensor:
        return x + self.conv(x) if self.use_res else self.conv(x)


class TwinMobileNetV2(tnn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        setting = [
            [1, 16, 1, 1],
            [6, 24, 2, 2],
            [6, 32, 3, 2],
            [6, 64, 4, 2],
            [6, 96, 3, 1],
            [6, 160, 3, 2],
            [6, 320, 1, 1],
        ]
        features = [twin_conv_bn_act(3, 32, stride=2)]
        inp = 32
        for t, c, n, s in setting:
            for i in range(n):
                features.append(TwinInvertedResidual(inp, c, s if i == 0 else 1, t))
                inp = c
        features.append(twin_conv_bn_act(inp, 1280, 1))
        self.features = tnn.Sequential(*features)
        self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(1280, num_classes))

    def forward(self, x: ref.Tensor) -> ref.Tensor:
        x = tnn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(ref.flatten(x, 1))


def twin_vgg_features(cfg: list) -> tnn.Sequential:
    layers, inp = [], 3
    for v in cfg:
        if v == "M":
            layers.append(tnn.MaxPool2d(2, 2))
        else:
            layers += [tnn.Conv2d(inp, v, 3, padding=1), tnn.ReLU(inplace=True)]
            inp = v
    return tnn.Sequential(*layers)


# ----- helpers -------------------------------------------------------------------------------------------------


def shapes(state: dict) -> dict[str, tuple]:
    return {k: tuple(v.shape) for k, v in state.items()}


def copy_into(model: torch.nn.Module, twin: tnn.Module) -> None:
    """Randomise the twin's BN statistics (so they matter), then load its state_dict into ``model``."""
    gen = ref.Generator().manual_seed(0)
    for m in twin.modules():
        if isinstance(m, tnn.BatchNorm2d):
            m.running_mean.copy_(ref.randn(m.running_mean.shape, generator=gen) * 0.1)
            m.running_var.copy_(ref.rand(m.running_var.shape, generator=gen) + 0.5)
            m.weight.data.copy_(ref.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.data.copy_(ref.randn(m.bias.shape, generator=gen) * 0.1)
    state = {k: torch.tensor(v.detach().numpy()) for k, v in twin.state_dict().items()}
    model.load_state_dict(state)


def compare(model: torch.nn.Module, twin: tnn.Module, x: np.ndarray, atol: float) -> None:
    with ref.no_grad():
        expected = twin(ref.from_numpy(x)).numpy()
    got = model(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=atol)


# ----- tests ---------------------------------------------------------------------------------------------------


def test_resnet18_matches_twin_in_eval_and_train() -> None:
    model, twin = models.resnet18(num_classes=7), TwinResNet18(7)
    assert shapes(model.state_dict()) == shapes(twin.state_dict())
    assert list(model.state_dict()) == list(twin.state_dict())
    assert "layer2.0.downsample.0.weight" in model.state_dict() and "bn1.running_mean" in model.state_dict()
    copy_into(model, twin)
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    model.eval(), twin.eval()
    compare(model, twin, x[:1], atol=1e-4)
    model.train(), twin.train()
    compare(model, twin, x, atol=1e-4)
    np.testing.assert_allclose(model.state_dict()["layer3.1.bn2.running_var"].numpy(),
                               twin.state_dict()["layer3.1.bn2.running_var"].numpy(), rtol=1e-4, atol=1e-5)  # fmt: skip


def test_mobilenet_v2_matches_twin_in_eval() -> None:
    model, twin = models.mobilenet_v2(num_classes=5), TwinMobileNetV2(5)
    assert shapes(model.state_dict()) == shapes(twin.state_dict())
    assert "features.1.conv.0.0.weight" in model.state_dict() and "features.2.conv.3.running_mean" in model.state_dict()
    copy_into(model, twin)
    model.eval(), twin.eval()
    compare(model, twin, np.random.default_rng(1).standard_normal((1, 3, 64, 64)).astype(np.float32), atol=1e-4)


def test_vgg11_features_match_twin() -> None:
    features, twin = make_layers(cfgs["A"]), twin_vgg_features(cfgs["A"])
    assert shapes(features.state_dict()) == shapes(twin.state_dict())
    copy_into(features, twin)
    compare(features, twin, np.random.default_rng(2).standard_normal((1, 3, 32, 32)).astype(np.float32), atol=1e-4)


def test_resnet50_keys_and_classes() -> None:
    state = models.resnet50(num_classes=3).state_dict()
    assert tuple(state["fc.weight"].shape) == (3, 2048)
    assert tuple(state["layer1.0.conv3.weight"].shape) == (256, 64, 1, 1)
    assert tuple(state["layer4.0.downsample.0.weight"].shape) == (2048, 1024, 1, 1)
    assert len([k for k in state if k.endswith("num_batches_tracked")]) == 53


def test_torchvision_initialisation() -> None:
    torch.manual_seed(0)
    model = models.resnet18()
    std = float(model.conv1.weight.std())
    assert abs(std - math.sqrt(2.0 / (64 * 7 * 7))) < 0.03 * std  # kaiming_normal, fan_out, relu
    assert float(model.bn1.weight.min()) == 1.0 and float(model.bn1.bias.abs().max()) == 0.0
    mobile = models.mobilenet_v2()
    linear = mobile.classifier[1]
    assert abs(float(linear.weight.std()) - 0.01) < 0.0005 and float(linear.bias.abs().max()) == 0.0


def test_lenet_shapes_and_training_step() -> None:
    model = models.lenet(num_classes=10)
    assert shapes(model.state_dict())["fc1.weight"] == (120, 400)
    x, y = torch.randn(4, 1, 28, 28), torch.tensor([0, 1, 2, 3])
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    assert model.conv1.weight.grad is not None and tuple(model(x).shape) == (4, 10)
    with pytest.raises(ValueError, match="28 x 28"):
        model(torch.randn(1, 1, 32, 32))


def test_weights_argument_is_refused() -> None:
    with pytest.raises(ValueError, match="load_state_dict"):
        models.resnet18(weights="IMAGENET1K_V1")
