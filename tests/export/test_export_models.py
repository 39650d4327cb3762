"""Whole models exported with a dynamic batch axis (and sequence axis for the transformer): ONNX Runtime
against eager portable_dl at two sizes, opsets 13 and 17. BatchNorm layers get random running statistics."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import portable_dl as pdl
from portable_dl.export import registry

from .exportcheck import check_export, run_ort

nn = pdl.nn
OPSETS = (13, 17)


def _needs(*kinds: str) -> None:
    """Skip while a converter another module provides is not registered yet."""
    registry.load_all()
    missing = [k for k in kinds if registry.lookup(k, 21) is None]
    if missing:
        pytest.skip(f"no converter yet for {missing}")


def _randomize_batchnorm(model: nn.Module) -> nn.Module:
    """Non-trivial running statistics and affine parameters for every BatchNorm (defaults are 0/1)."""
    for m in model.modules():
        if type(m).__name__.startswith("BatchNorm"):
            c = m.num_features
            m.running_mean.copy_(pdl.randn(c) * 0.5)
            m.running_var.copy_(pdl.rand(c) + 0.5)
            m.weight.data.copy_(pdl.rand(c) + 0.5)
            m.bias.data.copy_(pdl.randn(c) * 0.1)
    return model.eval()


def _images(c: int, hw: int, seed: int = 0) -> callable:
    rng = np.random.default_rng(seed)
    return lambda n: [rng.standard_normal((n, c, hw, hw)).astype(np.float32)]


# ----- CNN -----------------------------------------------------------------------------------------------------
def test_cnn_with_batchnorm_and_dropout() -> None:
    pdl.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout2d(0.2),
        nn.Conv2d(8, 16, 3), nn.BatchNorm2d(16), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(16 * 2 * 2, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10),
    )  # fmt: skip
    proto = check_export(_randomize_batchnorm(model), _images(3, 12), opsets=OPSETS, atol=1e-4)
    assert not {"Dropout", "RandomUniformLike", "Bernoulli"} & {n.op_type for n in proto.graph.node}


# ----- ResNet ------------------------------------------------------------------------------------------------
class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus the shortcut (a strided 1x1 conv + BN when the shape changes), ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(pdl.flatten(self.pool(x), 1))


def test_small_resnet() -> None:
    pdl.manual_seed(0)
    check_export(_randomize_batchnorm(ResNet()), _images(3, 10, seed=1), opsets=OPSETS, atol=1e-4)


# ----- DCGAN generator -------------------------------------------------------------------------------------------
def test_dcgan_generator_from_latent() -> None:
    pdl.manual_seed(0)
    nz = 16
    model = nn.Sequential(
        nn.ConvTranspose2d(nz, 32, 4, 1, 0, bias=False), nn.BatchNorm2d(32), nn.ReLU(True),
        nn.ConvTranspose2d(32, 16, 4, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(True),
        nn.ConvTranspose2d(16, 3, 4, 2, 1, bias=False), nn.Tanh(),
    )  # fmt: skip
    rng = np.random.default_rng(2)
    proto = check_export(_randomize_batchnorm(model), lambda n: [rng.standard_normal((n, nz, 1, 1)).astype(np.float32)],
                         opsets=OPSETS, atol=1e-4)  # fmt: skip
    assert proto.graph.output[0].type.tensor_type.shape.dim[2].dim_value == 16


# ----- recommender ---------------------------------------------------------------------------------------------
class Recommender(nn.Module):
    """Matrix factorisation (dot product + user, item and global biases) and an MLP over both embeddings."""

    def __init__(self, users: int = 30, items: int = 40, dim: int = 8) -> None:
        super().__init__()
        self.user = nn.Embedding(users, dim)
        self.item = nn.Embedding(items, dim)
        self.user_bias = nn.Embedding(users, 1)
        self.item_bias = nn.Embedding(items, 1)
        self.bias = nn.Parameter(pdl.tensor([0.25]))
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())

    def forward(self, user_ids, item_ids):
        u, i = self.user(user_ids), self.item(item_ids)
        dot = (u * i).sum(-1, keepdim=True) + self.user_bias(user_ids) + self.item_bias(item_ids) + self.bias
        return dot, self.mlp(pdl.cat([u, i], dim=-1))


def test_embedding_recommender_with_int64_ids() -> None:
    _needs("Sum")
    pdl.manual_seed(0)
    rng = np.random.default_rng(3)

    def ids(n: int) -> list:
        users = rng.integers(0, 30, n).astype(np.int64)
        users[0] = 29  # the last row of each table is used too
        return [users, rng.integers(0, 40, n).astype(np.int64)]

    proto = check_export(Recommender(), ids, opsets=OPSETS)
    assert proto.graph.input[0].type.tensor_type.elem_type == 7  # int64 ids stay int64


# ----- transformer encoder classifier -----------------------------------------------------------------------
class EncoderClassifier(nn.Module):
    """Token + learned positional embeddings, a 2-layer encoder with a key padding mask, the mean over the
    valid tokens, and a linear head. ``bool_mask``: pass the bool mask to the encoder as is (else as a float
    mask with -inf at the padded positions, built in the graph from the bool input)."""

    def __init__(self, vocab: int = 50, d_model: int = 32, max_len: int = 16, bool_mask: bool = False) -> None:
        super().__init__()
        self.bool_mask = bool_mask
        self.tokens = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(pdl.randn(1, max_len, d_model) * 0.1)
        layer = nn.TransformerEncoderLayer(d_model, 4, 64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, 3)

    def forward(self, ids, pad):
        x = self.tokens(ids) + self.pos[:, : ids.shape[1]]
        mask = pad if self.bool_mask else pad.to(x.dtype).masked_fill(pad, float("-inf"))
        h = self.encoder(x, src_key_padding_mask=mask)
        valid = 1.0 - pad.to(h.dtype).unsqueeze(-1)
        return self.head((h * valid).sum(1) / valid.sum(1))


_SEQ = {1: 5, 2: 6, 7: 9}  # batch -> sequence length: checked at (1, 5) and (7, 9), exported at (2, 6)


def _tokens_and_padding(seed: int, length: callable = _SEQ.__getitem__) -> callable:
    rng = np.random.default_rng(seed)

    def make(n: int) -> list:
        t = length(n)
        lengths = rng.integers(1, t + 1, n)
        lengths[0] = t  # one full row, one with a single token
        lengths[-1] = 1 if n > 1 else t
        pad = np.arange(t)[None, :] >= lengths[:, None]
        return [rng.integers(0, 50, (n, t)).astype(np.int64), pad]

    return make


@pytest.mark.parametrize("bool_mask", [False, True], ids=["float_mask_from_bool_input", "bool_mask"])
def test_transformer_encoder_classifier_dynamic_batch_and_sequence(bool_mask: bool) -> None:
    _needs("Split", "Sum", "MaskedFill")
    pdl.manual_seed(0)
    model = EncoderClassifier(bool_mask=bool_mask)
    proto = check_export(model, _tokens_and_padding(4), batch_axes={0: [0, 1], 1: [0, 1]}, opsets=OPSETS,
                         example_size=2, atol=1e-4)  # fmt: skip
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ["dim0", "dim1"]


def test_transformer_encoder_classifier_dynamic_batch() -> None:
    """The same classifier with a fixed sequence length (only the batch is dynamic)."""
    _needs("Split", "Sum", "MaskedFill")
    pdl.manual_seed(0)
    check_export(EncoderClassifier(), _tokens_and_padding(6, length=lambda n: 7), opsets=OPSETS, atol=1e-4)


# ----- transformer decoder layer ---------------------------------------------------------------------------
class CausalDecoder(nn.Module):
    """One decoder layer over a memory, with a causal (T, T) target mask."""

    def __init__(self, d_model: int = 16, length: int = 6) -> None:
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(d_model, 4, 32, dropout=0.1, batch_first=True)
        self.register_buffer("causal", pdl.triu(pdl.full((length, length), float("-inf")), diagonal=1))

    def forward(self, tgt, memory):
        return self.layer(tgt, memory, tgt_mask=self.causal, tgt_is_causal=True)


def test_transformer_decoder_layer_with_causal_mask() -> None:
    _needs("Split")
    pdl.manual_seed(0)
    rng = np.random.default_rng(5)

    def make(n: int) -> list:
        return [rng.standard_normal((n, 6, 16)).astype(np.float32), rng.standard_normal((n, 4, 16)).astype(np.float32)]

    proto = check_export(CausalDecoder(), make, opsets=OPSETS, atol=1e-4)
    # in the exported graph, changing the last target position leaves the earlier outputs alone
    tgt, memory = make(3)
    changed = tgt.copy()
    changed[:, -1] += 1.0
    first, second = run_ort(proto, [tgt, memory])[0], run_ort(proto, [changed, memory])[0]
    np.testing.assert_allclose(first[:, :-1], second[:, :-1], atol=1e-5)
    assert np.abs(first[:, -1] - second[:, -1]).max() > 1e-3
