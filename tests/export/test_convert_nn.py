"""Converters for attention, transposed convolution, unfold, pooling edge cases and norm variants: ONNX Runtime
(and ONNX's reference evaluator) against eager portable_dl at two batch sizes."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import portable_dl as pdl
from portable_dl.export import registry
from portable_dl.export.tracer import TracingError

from .exportcheck import check_export

nn = pdl.nn
F = nn.functional


def _needs(*kinds: str) -> None:
    """Skip while a converter another module provides is not registered yet."""
    registry.load_all()
    missing = [k for k in kinds if registry.lookup(k, 21) is None]
    if missing:
        pytest.skip(f"no converter yet for {missing}")


def _normal(*shape: int, seed: int = 0) -> callable:
    rng = np.random.default_rng(seed)
    return lambda n: [rng.standard_normal((n, *shape)).astype(np.float32)]


def _params_random(model: nn.Module) -> nn.Module:
    """Non-trivial affine parameters (the defaults are ones and zeros)."""
    for p in model.parameters():
        p.data.copy_(pdl.randn(*p.shape))
    return model


# ----- scaled dot-product attention -------------------------------------------------------------------------
def _qkv(length: int = 4, source: int = 5, heads: tuple = (2, 2), seed: int = 0) -> callable:
    rng = np.random.default_rng(seed)

    def make(n: int) -> list:
        q = rng.standard_normal((n, heads[0], length, 8)).astype(np.float32)
        k = rng.standard_normal((n, heads[1], source, 8)).astype(np.float32)
        v = rng.standard_normal((n, heads[1], source, 8)).astype(np.float32)
        return [q, k, v]

    return make


@pytest.mark.parametrize(
    "kwargs", [{}, {"scale": 0.3}, {"is_causal": True}, {"is_causal": True, "scale": 2.0}], ids=str
)
def test_sdpa(kwargs: dict) -> None:
    pdl.manual_seed(0)
    check_export(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs), _qkv(), opsets=(13, 18))


def test_sdpa_causal_with_dynamic_sequence() -> None:
    make = _qkv()

    def same_length(n: int) -> list:
        q, k, v = make(2)
        rng = np.random.default_rng(n)
        return [rng.standard_normal((2, 2, n + 1, 8)).astype(np.float32) for _ in range(3)]

    proto = check_export(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), same_length,
                         batch_axes={0: [2], 1: [2], 2: [2]}, opsets=(13, 21))  # fmt: skip
    assert "Range" in {n.op_type for n in proto.graph.node}  # the mask follows the sequence length


def _masks(rng: np.random.Generator, n: int) -> np.ndarray:
    m = rng.random((n, 1, 4, 5)) > 0.4
    m[0, 0, 1] = False  # a fully masked row: torch gives zeros, not NaN
    m[-1, 0, 2] = True
    return m


def test_sdpa_bool_mask_input_with_fully_masked_row() -> None:
    rng = np.random.default_rng(1)
    make = _qkv(seed=1)
    proto = check_export(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                         lambda n: make(n) + [_masks(rng, n)], opsets=(13, 18))  # fmt: skip
    sess_out = _run(proto, make(1) + [np.zeros((1, 1, 4, 5), bool)])[0]
    np.testing.assert_array_equal(sess_out, np.zeros_like(sess_out))  # every row masked -> zeros


def test_sdpa_bool_mask_computed_from_an_input() -> None:
    """The op receives the bool mask as a raw array: it must still follow the input, not be frozen."""
    rng = np.random.default_rng(2)
    make = _qkv(seed=2)

    def fn(q, k, v, keep):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=keep.to(pdl.bool))

    check_export(fn, lambda n: make(n) + [_masks(rng, n).astype(np.float32)], opsets=(13,))


def test_sdpa_float_mask_and_nan_rows_stay_nan() -> None:
    rng = np.random.default_rng(3)
    make = _qkv(seed=3)

    def inputs(n: int) -> list:
        mask = rng.standard_normal((n, 2, 4, 5)).astype(np.float32)
        mask[0, 0, 0, :] = -np.inf  # fully masked by the float mask: NaN in torch (only bool/causal are "safe")
        mask[0, 1, 1, 2] = -np.inf
        return make(n) + [mask]

    check_export(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), inputs, opsets=(13, 21))


def test_sdpa_grouped_query_heads() -> None:
    proto = check_export(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
                         _qkv(length=3, heads=(4, 2)), opsets=(13, 21))  # fmt: skip
    assert "Expand" in {n.op_type for n in proto.graph.node}


def test_sdpa_with_dropout_is_refused() -> None:
    model = _module(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, dropout_p=0.5))
    args = tuple(pdl.tensor(a) for a in _qkv()(2))
    with pytest.raises(TracingError, match="dropout_p"):
        pdl.onnx.export(model, args, io.BytesIO())


def _module(fn: callable) -> nn.Module:
    from .exportcheck import FunctionModule

    return FunctionModule(fn).eval()


def _run(proto: object, arrays: list) -> list:
    from .exportcheck import run_ort

    return run_ort(proto, arrays)


# ----- multi-head attention ----------------------------------------------------------------------------------
class _SelfAttention(nn.Module):
    def __init__(self, **kwargs: object) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(16, 4, batch_first=True, **kwargs)

    def forward(self, x, key_padding_mask, attn_mask):
        out, weights = self.mha(x, x, x, key_padding_mask=key_padding_mask, attn_mask=attn_mask)
        return out, weights


def _float_masks(rng: np.random.Generator, n: int, t: int) -> list:
    kpm = np.where(rng.random((n, t)) > 0.7, -np.inf, 0.0).astype(np.float32)
    kpm[:, 0] = 0.0  # every query keeps one key
    causal = np.triu(np.full((t, t), -np.inf, np.float32), 1)
    return [kpm, causal]


def test_multihead_attention_key_padding_mask_dynamic_batch_and_sequence() -> None:
    _needs("Split")
    pdl.manual_seed(0)
    model = _SelfAttention()
    _params_random(model)
    rng = np.random.default_rng(4)

    def inputs(n: int) -> list:
        t = n + 3
        return [rng.standard_normal((n, t, 16)).astype(np.float32), _float_masks(rng, n, t)[0]]

    check_export(lambda x, kpm: model(x, kpm, None), inputs, batch_axes={0: [0, 1], 1: [0, 1]}, opsets=(13, 17),
                 atol=1e-4)  # fmt: skip


def test_multihead_attention_float_key_padding_and_causal_masks() -> None:
    _needs("Split")
    pdl.manual_seed(0)
    model = _SelfAttention()
    _params_random(model)
    rng = np.random.default_rng(5)

    def inputs(n: int) -> list:
        return [rng.standard_normal((n, 6, 16)).astype(np.float32)] + _float_masks(rng, n, 6)

    check_export(model, inputs, batch_axes={0: [0], 1: [0]}, opsets=(13, 17), atol=1e-4)


def test_multihead_cross_attention_with_kdim_vdim_and_dynamic_lengths() -> None:
    """A fixed query length, a memory length and batch that change: the head reshapes must follow both."""
    pdl.manual_seed(0)
    mha = _params_random(nn.MultiheadAttention(16, 2, kdim=12, vdim=10, batch_first=False))
    rng = np.random.default_rng(12)

    def inputs(n: int) -> list:
        q = rng.standard_normal((3, n, 16)).astype(np.float32)  # (L, N, E)
        return [q, rng.standard_normal((n + 3, n, 12)).astype(np.float32),
                rng.standard_normal((n + 3, n, 10)).astype(np.float32)]  # fmt: skip

    check_export(lambda q, k, v: mha(q, k, v)[0], inputs, batch_axes={0: [1], 1: [0, 1], 2: [0, 1]},
                 opsets=(13, 17), atol=1e-4)  # fmt: skip


def test_transformer_encoder_layer_norm_first_gelu() -> None:
    _needs("Split", "Gelu")
    pdl.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, 32, activation="gelu", norm_first=True, batch_first=True)
    rng = np.random.default_rng(13)
    check_export(layer, lambda n: [rng.standard_normal((n, n + 2, 16)).astype(np.float32)], batch_axes={0: [0, 1]},
                 opsets=(13, 17), atol=1e-4)  # fmt: skip


def test_multihead_attention_bool_masks() -> None:
    _needs("Split", "MaskedFill")
    pdl.manual_seed(0)
    model = _SelfAttention()
    rng = np.random.default_rng(5)

    def inputs(n: int) -> list:
        kpm = rng.random((n, 6)) > 0.7
        kpm[:, 0] = False
        return [rng.standard_normal((n, 6, 16)).astype(np.float32), kpm, ~np.tri(6, 6, dtype=bool)]

    check_export(model, inputs, batch_axes={0: [0], 1: [0]}, opsets=(13, 17), atol=1e-4)


# ----- transposed convolution ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"stride": 2},
        {"stride": 2, "padding": 1, "output_padding": 1},
        {"stride": (2, 1), "padding": (0, 1), "bias": False},
        {"stride": 3, "padding": 2, "dilation": 2, "output_padding": 2, "groups": 2},
    ],
    ids=str,
)
def test_conv_transpose2d(kwargs: dict) -> None:
    pdl.manual_seed(0)
    model = nn.ConvTranspose2d(4, 6, 3, **kwargs)
    # onnx's reference ConvTranspose mis-reshapes grouped weights: ONNX Runtime only for groups
    check_export(model, _normal(4, 5, 6), opsets=(13, 21), atol=1e-4, reference="groups" not in kwargs)


def test_conv_transpose_1d_3d_and_output_size() -> None:
    pdl.manual_seed(0)
    check_export(nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1), _normal(3, 7), opsets=(13,), atol=1e-4)
    check_export(nn.ConvTranspose3d(2, 2, 2, stride=2), _normal(2, 3, 3, 2), opsets=(13,), atol=1e-4)

    class WithOutputSize(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)

        def forward(self, x):
            return self.up(x, output_size=[10, 12])

    check_export(WithOutputSize(), _normal(4, 5, 6), opsets=(13,), atol=1e-4)


def test_conv_transpose_dynamic_spatial_size() -> None:
    pdl.manual_seed(0)
    rng = np.random.default_rng(6)
    model = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
    check_export(model, lambda n: [rng.standard_normal((2, 4, n + 2, n + 3)).astype(np.float32)],
                 batch_axes={0: [2, 3]}, opsets=(13,), atol=1e-4)  # fmt: skip


# ----- unfold ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs", [{"kernel_size": 2}, {"kernel_size": (2, 3), "stride": 2, "padding": 1, "dilation": (1, 2)}], ids=str
)
def test_unfold(kwargs: dict) -> None:
    check_export(lambda x: F.unfold(x, **kwargs), _normal(3, 5, 6), opsets=(13, 21))


def test_unfold_copies_inf_and_nan() -> None:
    grid = np.array([[[[np.inf, 1, np.nan], [2, -np.inf, 3], [4, 5, 6]]]], np.float32)
    check_export(lambda x: F.unfold(x, 2, padding=1), lambda n: [grid.repeat(n, 0)], opsets=(13,), reference=False)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 2},
        {"kernel_size": (2, 3), "stride": 2, "padding": 1, "dilation": (1, 2)},
        {"kernel_size": 3, "stride": (1, 2), "padding": (0, 1)},
    ],
    ids=str,
)
def test_fold_sums_overlapping_blocks(kwargs: dict) -> None:
    size = (5, 6)
    blocks = F.unfold(pdl.zeros(1, 2, *size), **kwargs).shape  # (1, C * K, L) for this geometry
    rng = np.random.default_rng(11)
    make = lambda n: [rng.standard_normal((n, blocks[1], blocks[2])).astype(np.float32)]
    check_export(lambda cols: F.fold(cols, size, **kwargs), make, opsets=(13, 21))


def test_fold_keeps_inf_and_nan() -> None:
    cols = np.ones((1, 4, 4), np.float32)
    cols[0, 0, 0], cols[0, 3, 3] = np.inf, np.nan
    check_export(lambda c: F.fold(c, (3, 3), 2), lambda n: [cols.repeat(n, 0)], opsets=(13,), reference=False)


# ----- pooling ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [
        {"ceil_mode": True},
        {"ceil_mode": True, "count_include_pad": False},
        {"count_include_pad": False},
        {"ceil_mode": True, "divisor_override": 5},
        {"padding": 0, "kernel_size": 2, "stride": 2, "ceil_mode": True},
    ],
    ids=str,
)
def test_avg_pool_edge_cases(kwargs: dict) -> None:
    args = {"kernel_size": 3, "stride": 2, "padding": 1, **kwargs}
    check_export(lambda x: F.avg_pool2d(x, **args), _normal(2, 7, 6), opsets=(13, 21))


def test_avg_pool_unbatched_and_int64() -> None:
    check_export(lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True), lambda n: _normal(7, 6)(2), batch_axes={},
                 opsets=(13,))  # fmt: skip
    rng = np.random.default_rng(7)
    ints = lambda n: [rng.integers(-50, 50, (n, 2, 7))]
    check_export(lambda x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True), ints, opsets=(13,))  # torch truncates


@pytest.mark.parametrize("size", [1, (3, 2), (4, 5), (7, 1)], ids=str)
def test_adaptive_max_pool2d(size: object) -> None:
    proto = check_export(lambda x: F.adaptive_max_pool2d(x, size), _normal(2, 7, 6), opsets=(13, 18))
    if size == 1:
        assert "GlobalMaxPool" in {n.op_type for n in proto.graph.node}


@pytest.mark.parametrize("size", [1, 2, 3], ids=str)
def test_adaptive_max_pool_int64(size: int) -> None:
    ints = np.arange(2 * 20).reshape(2, 1, 5, 4)[:, :, ::-1].copy()
    check_export(lambda t: F.adaptive_max_pool2d(t, size), lambda n: [np.concatenate([ints] * 4)[:n]], opsets=(13,))


def test_adaptive_max_pool_1d_and_unbatched() -> None:
    check_export(lambda x: F.adaptive_max_pool1d(x, 3), _normal(3, 8), opsets=(13,))
    check_export(lambda x: F.adaptive_max_pool2d(x, 3), lambda n: _normal(7, 6)(2), batch_axes={}, opsets=(13,))


def test_adaptive_avg_pool_global() -> None:
    check_export(nn.AdaptiveAvgPool2d(1), _normal(3, 5, 4), opsets=(13,))


# ----- normalisation ----------------------------------------------------------------------------------------------
_NORMS = {
    "group_norm": lambda: _params_random(nn.GroupNorm(3, 6)),
    "group_norm_no_affine": lambda: nn.GroupNorm(2, 6, affine=False),
    "instance_norm": lambda: nn.InstanceNorm2d(6),
    "instance_norm_affine": lambda: _params_random(nn.InstanceNorm2d(6, affine=True)),
    "layer_norm_no_affine": lambda: nn.LayerNorm((5, 4), elementwise_affine=False),
    "layer_norm_no_bias": lambda: _params_random(nn.LayerNorm(4, bias=False)),
    "rms_norm": lambda: _params_random(nn.RMSNorm(4)),
    "rms_norm_no_affine": lambda: nn.RMSNorm((5, 4), elementwise_affine=False, eps=1e-3),
}


@pytest.mark.parametrize("name", sorted(_NORMS))
def test_norm_variants(name: str) -> None:
    pdl.manual_seed(0)
    rng = np.random.default_rng(8)
    inputs = lambda n: [(rng.standard_normal((n, 6, 5, 4)) * 3 + 1).astype(np.float32)]
    check_export(_NORMS[name](), inputs, opsets=(13, 17), atol=1e-4)


def test_group_and_instance_norm_with_dynamic_spatial_dims() -> None:
    pdl.manual_seed(0)
    rng = np.random.default_rng(9)
    inputs = lambda n: [rng.standard_normal((n, 6, n + 2, 3)).astype(np.float32)]
    check_export(_params_random(nn.GroupNorm(3, 6)), inputs, batch_axes={0: [0, 2]}, opsets=(13, 17), atol=1e-4)
    check_export(nn.InstanceNorm2d(6), inputs, batch_axes={0: [0, 2]}, opsets=(13, 17), atol=1e-4)


# ----- embedding ----------------------------------------------------------------------------------------------------
def test_embedding_with_padding_idx_follows_the_input() -> None:
    pdl.manual_seed(0)
    rng = np.random.default_rng(10)
    check_export(nn.Embedding(10, 4, padding_idx=0), lambda n: [rng.integers(0, 10, (n, 3))], opsets=(13,))


@pytest.mark.parametrize("padding_idx", [None, 2], ids=lambda p: f"padding_idx={p}")
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_fixed_length_bags(mode: str, padding_idx: int | None) -> None:
    pdl.manual_seed(0)
    rng = np.random.default_rng(14)

    def ids(n: int) -> list:
        x = rng.integers(0, 10, (n, 3))
        x[0] = 2  # with padding_idx=2: an empty bag (0 in torch)
        return [x]

    proto = check_export(nn.EmbeddingBag(10, 4, mode=mode, padding_idx=padding_idx), ids, opsets=(13, 18))
    assert "Gather" in {n.op_type for n in proto.graph.node}


@pytest.mark.parametrize("include_last_offset", [False, True], ids=lambda v: f"include_last_offset={v}")
@pytest.mark.parametrize("padding_idx", [None, 2], ids=lambda p: f"padding_idx={p}")
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_with_offsets(mode: str, padding_idx: int | None, include_last_offset: bool) -> None:
    """1-D indices of a length that changes, cut into 3 bags (one empty) by ``offsets``."""
    pdl.manual_seed(0)
    rng = np.random.default_rng(15)

    def inputs(n: int) -> list:
        total = 3 * n + 4
        x = rng.integers(0, 10, total)
        x[:2] = 2
        cuts = np.sort(rng.integers(0, total + 1, 3 if include_last_offset else 2))
        offsets = np.concatenate([[0, cuts[0]], cuts]).astype(np.int64)  # bag 1 is empty
        return [x, offsets]

    model = nn.EmbeddingBag(10, 4, mode=mode, padding_idx=padding_idx, include_last_offset=include_last_offset)
    check_export(model, inputs, batch_axes={0: [0]}, opsets=(13, 18))


def test_embedding_bag_per_sample_weights_and_max_norm_refused() -> None:
    pdl.manual_seed(0)
    rng = np.random.default_rng(16)
    bag = nn.EmbeddingBag(10, 4, mode="sum")

    def inputs(n: int) -> list:
        weights = rng.standard_normal(2 * n).astype(np.float32)
        return [rng.integers(0, 10, 2 * n), np.array([0, 1, 1], np.int64), weights]

    check_export(lambda x, o, w: bag(x, o, per_sample_weights=w), inputs, batch_axes={0: [0], 2: [0]}, opsets=(13,))
    with pytest.raises(TracingError, match="max_norm"):
        pdl.onnx.export(nn.EmbeddingBag(10, 4, max_norm=1.0), (pdl.tensor(np.array([[1, 2]])),), io.BytesIO())
