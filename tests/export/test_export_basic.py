"""The exporter end to end on small models: ONNX Runtime vs eager at two batch sizes, opsets 13/17/21."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import portable_dl as pdl

from .exportcheck import check_export

nn = pdl.nn


def _images(c: int, hw: int) -> callable:
    rng = np.random.default_rng(0)
    return lambda n: [rng.standard_normal((n, c, hw, hw)).astype(np.float32)]


def test_mlp_is_three_nodes() -> None:
    pdl.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5))
    rng = np.random.default_rng(1)
    proto = check_export(model, lambda n: [rng.standard_normal((n, 20)).astype(np.float32)])
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Relu", "Gemm"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "dim0"


def test_cnn_with_batchnorm_dropout_and_layernorm() -> None:
    pdl.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AvgPool2d(2), nn.Dropout(0.3),
        nn.Conv2d(8, 8, 3, stride=2), nn.MaxPool2d(2, ceil_mode=True), nn.Flatten(), nn.LayerNorm(32),
        nn.Linear(32, 10), nn.LogSoftmax(1),
    )  # fmt: skip
    bn = model[1]
    bn.running_mean.copy_(pdl.randn(8))
    bn.running_var.copy_(pdl.rand(8) + 0.5)
    check_export(model, _images(1, 14))


def test_view_with_batch_from_shape_and_minus_one() -> None:
    pdl.manual_seed(0)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(48, 4)

        def forward(self, x):
            a = x.view(x.size(0), -1)
            b = x.reshape(-1, 48)
            return self.fc(a) + self.fc(b), x.flatten(1).sum(1, keepdim=True) if False else self.fc(a)

    check_export(Net(), _images(3, 4))
