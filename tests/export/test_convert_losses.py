"""ONNX converters for the losses: every loss module of ``portable_dl.nn`` exported as a model
``loss(input, target)`` and compared (ONNX Runtime and ONNX's reference evaluator) with eager portable_dl at
batch sizes 1 and 7 (axis 0 dynamic), opsets 13 and 21."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import portable_dl as pdl
import portable_dl.export.converters.losses  # registers the converters until the package imports it
from portable_dl import nn

from .exportcheck import check_export

OPSETS = (13, 21)
C = 5


def _rng(n: int, seed: int) -> np.random.Generator:
    return np.random.default_rng(1000 * seed + n)


def _logits(n: int, seed: int = 0, *rest: int) -> np.ndarray:
    x = (_rng(n, seed).standard_normal((n, C, *rest)) * 3).astype(np.float32)
    x.reshape(-1)[::7] = 0.0
    return x


def _classes(n: int, seed: int = 1, *rest: int, ignore: int | None = None, dtype: type = np.int64) -> np.ndarray:
    t = _rng(n, seed).integers(0, C, (n, *rest)).astype(dtype)
    if ignore is not None:
        t.reshape(-1)[::3] = ignore  # the first target is always ignored: batch size 1 ignores everything
    return t


def _probs(n: int, seed: int = 2, *rest: int) -> np.ndarray:
    p = _rng(n, seed).random((n, C, *rest)).astype(np.float32)
    return p / p.sum(1, keepdims=True)


def _pairs(n: int) -> list:
    """Regression pairs with exact ties, big and small differences."""
    x = (_rng(n, 3).standard_normal((n, 4, 3)) * 2).astype(np.float32)
    y = (_rng(n, 4).standard_normal((n, 4, 3)) * 2).astype(np.float32)
    y.reshape(-1)[::5] = x.reshape(-1)[::5]
    y.reshape(-1)[1::9] = x.reshape(-1)[1::9] + 0.25
    return [x, y]


def _signs(n: int, seed: int = 5, *rest: int) -> np.ndarray:
    return np.where(_rng(n, seed).random((n, *rest)) < 0.5, -1.0, 1.0).astype(np.float32)


def _weight() -> pdl.Tensor:
    return pdl.tensor(np.linspace(0.2, 2.0, C).astype(np.float32))


# ----- (name, module factory, inputs) ------------------------------------------------------------------------------
def _ce_cases() -> dict:
    return {
        "ce_mean": (lambda: nn.CrossEntropyLoss(), lambda n: [_logits(n), _classes(n)]),
        "ce_sum_weight": (lambda: nn.CrossEntropyLoss(weight=_weight(), reduction="sum"),
                          lambda n: [_logits(n), _classes(n)]),
        "ce_none_ignore": (lambda: nn.CrossEntropyLoss(ignore_index=2, reduction="none"),
                           lambda n: [_logits(n), _classes(n, ignore=2)]),
        "ce_mean_ignore_default": (lambda: nn.CrossEntropyLoss(), lambda n: [_logits(n), _classes(n, ignore=-100)]),
        "ce_mean_weight_ignore_smooth": (
            lambda: nn.CrossEntropyLoss(weight=_weight(), ignore_index=3, label_smoothing=0.2),
            lambda n: [_logits(n), _classes(n, ignore=3)]),
        "ce_smooth_none": (lambda: nn.CrossEntropyLoss(label_smoothing=0.1, reduction="none"),
                           lambda n: [_logits(n), _classes(n)]),
        "ce_spatial_weight_smooth": (
            lambda: nn.CrossEntropyLoss(weight=_weight(), label_smoothing=0.05, ignore_index=0),
            lambda n: [_logits(n, 0, 3, 2), _classes(n, 1, 3, 2, ignore=0)]),
        "ce_spatial_none": (lambda: nn.CrossEntropyLoss(reduction="none"),
                            lambda n: [_logits(n, 0, 4), _classes(n, 1, 4)]),
        "ce_uint8_targets": (lambda: nn.CrossEntropyLoss(), lambda n: [_logits(n), _classes(n, dtype=np.uint8)]),
        "ce_probs": (lambda: nn.CrossEntropyLoss(), lambda n: [_logits(n), _probs(n)]),
        "ce_probs_weight_smooth_sum": (lambda: nn.CrossEntropyLoss(weight=_weight(), label_smoothing=0.3,
                                                                   reduction="sum"),
                                       lambda n: [_logits(n), _probs(n)]),
        "ce_probs_spatial_none": (lambda: nn.CrossEntropyLoss(reduction="none"),
                                  lambda n: [_logits(n, 0, 3), _probs(n, 2, 3)]),
    }  # fmt: skip


def _nll_cases() -> dict:
    logp = lambda n, *rest: _logits(n, 0, *rest) - 4.0
    return {
        "nll_mean": (lambda: nn.NLLLoss(), lambda n: [logp(n), _classes(n)]),
        "nll_weight_ignore_mean": (lambda: nn.NLLLoss(weight=_weight(), ignore_index=4),
                                   lambda n: [logp(n), _classes(n, ignore=4)]),
        "nll_sum": (lambda: nn.NLLLoss(reduction="sum"), lambda n: [logp(n), _classes(n)]),
        "nll_spatial_none": (lambda: nn.NLLLoss(reduction="none", ignore_index=1),
                             lambda n: [logp(n, 2, 2), _classes(n, 1, 2, 2, ignore=1)]),
    }  # fmt: skip


def _bce_inputs(n: int) -> list:
    p = _rng(n, 6).random((n, 4)).astype(np.float32)
    p.reshape(-1)[::5] = 0.0  # log(0) clamps at -100
    p.reshape(-1)[2::7] = 1.0
    y = (_rng(n, 7).random((n, 4)) < 0.5).astype(np.float32)
    y.reshape(-1)[3::6] = 0.3  # soft labels
    return [p, y]


def _logit_inputs(n: int) -> list:
    x = (_rng(n, 8).standard_normal((n, 4)) * 4).astype(np.float32)
    x.reshape(-1)[::5] = 120.0
    x.reshape(-1)[1::6] = -120.0
    y = (_rng(n, 9).random((n, 4)) < 0.5).astype(np.float32)
    return [x, y]


def _kl_inputs(log_target: bool) -> callable:
    def make(n: int) -> list:
        x = np.log(_probs(n, 10, 2))
        t = _probs(n, 11, 2)
        t.reshape(-1)[::4] = 0.0  # 0 log 0 = 0
        return [x, np.log(t) if log_target else t]

    return make


def _pointwise_cases() -> dict:
    w4 = lambda: pdl.tensor(np.asarray([0.5, 1.0, 2.0, 0.0], np.float32))
    return {
        "mse": (lambda: nn.MSELoss(), _pairs),
        "mse_none": (lambda: nn.MSELoss(reduction="none"), _pairs),
        "l1_sum": (lambda: nn.L1Loss(reduction="sum"), _pairs),
        "smooth_l1": (lambda: nn.SmoothL1Loss(beta=0.5), _pairs),
        "smooth_l1_none": (lambda: nn.SmoothL1Loss(reduction="none"), _pairs),
        "smooth_l1_beta0": (lambda: nn.SmoothL1Loss(beta=0.0), _pairs),
        "huber": (lambda: nn.HuberLoss(delta=0.7), _pairs),
        "huber_sum": (lambda: nn.HuberLoss(reduction="sum", delta=2.0), _pairs),
        "bce": (lambda: nn.BCELoss(), _bce_inputs),
        "bce_weight_none": (lambda: nn.BCELoss(weight=w4(), reduction="none"), _bce_inputs),
        "bce_logits": (lambda: nn.BCEWithLogitsLoss(), _logit_inputs),
        "bce_logits_weights": (lambda: nn.BCEWithLogitsLoss(weight=w4(), pos_weight=w4() + 1, reduction="sum"),
                               _logit_inputs),
        "bce_logits_pos_none": (lambda: nn.BCEWithLogitsLoss(pos_weight=w4() * 3, reduction="none"), _logit_inputs),
        "kl_batchmean": (lambda: nn.KLDivLoss(reduction="batchmean"), _kl_inputs(False), {"batch_axes": {}}),
        "kl_mean": (lambda: nn.KLDivLoss(), _kl_inputs(False)),
        "kl_sum_log_target": (lambda: nn.KLDivLoss(reduction="sum", log_target=True), _kl_inputs(True)),
        "kl_none": (lambda: nn.KLDivLoss(reduction="none"), _kl_inputs(False)),
        "soft_margin": (lambda: nn.SoftMarginLoss(), lambda n: [_pairs(n)[0], _signs(n, 5, 4, 3)]),
        "soft_margin_none": (lambda: nn.SoftMarginLoss(reduction="none"), lambda n: [_pairs(n)[0], _signs(n, 5, 4, 3)]),
        "multilabel_soft_margin": (lambda: nn.MultiLabelSoftMarginLoss(weight=_weight()),
                                   lambda n: [_logits(n), (_probs(n) > 0.2).astype(np.float32)]),
        "poisson_nll": (lambda: nn.PoissonNLLLoss(), lambda n: [_pairs(n)[0], np.abs(_pairs(n)[1]).round()]),
        "poisson_nll_full": (lambda: nn.PoissonNLLLoss(log_input=False, full=True),
                             lambda n: [np.abs(_pairs(n)[0]), np.abs(_pairs(n)[1]).round() + 0.5]),
        "hinge_embedding": (lambda: nn.HingeEmbeddingLoss(margin=0.5), lambda n: [_pairs(n)[0], _signs(n, 5, 4, 3)]),
    }  # fmt: skip


def _three_input_cases() -> dict:
    return {
        "cosine_embedding": (lambda: nn.CosineEmbeddingLoss(margin=0.1),
                             lambda n: [_pairs(n)[0][:, :, 0], _pairs(n)[1][:, :, 0], _signs(n)]),
        "cosine_embedding_none": (lambda: nn.CosineEmbeddingLoss(reduction="none"),
                                  lambda n: [_pairs(n)[0][:, :, 0], _pairs(n)[1][:, :, 0], _signs(n)]),
        "margin_ranking": (lambda: nn.MarginRankingLoss(margin=0.3),
                           lambda n: [_pairs(n)[0][:, 0, 0], _pairs(n)[1][:, 0, 0], _signs(n)]),
        "margin_ranking_sum": (lambda: nn.MarginRankingLoss(reduction="sum"),
                               lambda n: [_pairs(n)[0][:, 0, 0], _pairs(n)[1][:, 0, 0], _signs(n)]),
        "triplet_margin": (lambda: nn.TripletMarginLoss(margin=0.5),
                           lambda n: [_pairs(n)[0][:, :, 0], _pairs(n)[1][:, :, 0], _pairs(n)[0][:, :, 1]]),
        "gaussian_nll": (lambda: nn.GaussianNLLLoss(),
                         lambda n: [_pairs(n)[0], _pairs(n)[1], np.abs(_pairs(n)[1]) + 0.1]),
    }  # fmt: skip


def _multi_margin_cases() -> dict:
    return {
        "multi_margin": (lambda: nn.MultiMarginLoss(), lambda n: [_logits(n), _classes(n)]),
        "multi_margin_p2_weight": (lambda: nn.MultiMarginLoss(p=2, margin=0.5, weight=_weight(), reduction="sum"),
                                   lambda n: [_logits(n), _classes(n)]),
    }  # fmt: skip


def _float64_cases() -> dict:
    f64 = lambda make: lambda n: [a.astype(np.float64) if a.dtype == np.float32 else a for a in make(n)]
    w64 = lambda: pdl.tensor(np.linspace(0.2, 2.0, C))
    tight = {"atol": 1e-12, "rtol": 1e-12}
    return {
        "f64_ce_weight_smooth": (lambda: nn.CrossEntropyLoss(weight=w64(), label_smoothing=0.1, ignore_index=0),
                                 f64(lambda n: [_logits(n), _classes(n, ignore=0)]), tight),
        "f64_ce_probs": (lambda: nn.CrossEntropyLoss(), f64(lambda n: [_logits(n), _probs(n)]), tight),
        "f64_bce_logits": (lambda: nn.BCEWithLogitsLoss(reduction="none"), f64(_logit_inputs), tight),
        "f64_huber": (lambda: nn.HuberLoss(delta=0.3), f64(_pairs), tight),
    }  # fmt: skip


CASES = {
    **_float64_cases(),
    **_ce_cases(),
    **_nll_cases(),
    **_pointwise_cases(),
    **_three_input_cases(),
    **_multi_margin_cases(),
}


# kl_div's batchmean divides the sum by float(input.shape[0]): a Python float, so its batch axis is exported static.
@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_module_exports(name: str) -> None:
    make_module, make_inputs, *options = CASES[name]
    options = options[0] if options else {}
    sizes = (3,) if options.get("batch_axes") == {} else (1, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's 'mean' warning
        check_export(make_module(), make_inputs, sizes=sizes, example_size=sizes[0], opsets=OPSETS, **options)


def test_all_loss_modules_are_covered() -> None:
    """Every loss module of portable_dl.nn has at least one export case above."""
    import portable_dl.nn.loss as loss_module

    tested = {type(case[0]()).__name__ for case in CASES.values()}
    assert set(loss_module.__all__) <= tested, sorted(set(loss_module.__all__) - tested)


def test_cross_entropy_one_sample_without_batch() -> None:
    """A 1-D input with a 0-d target gives a 0-d loss (torch's unbatched form)."""
    proto = check_export(
        lambda x, t: pdl.nn.functional.cross_entropy(x, t, label_smoothing=0.1, reduction="none"),
        lambda n: [_logits(1)[0], np.asarray(3, np.int64)],
        batch_axes={},
        sizes=(1,),
        opsets=OPSETS,
    )
    assert len(proto.graph.output[0].type.tensor_type.shape.dim) == 0


def test_cross_entropy_all_ignored_is_nan() -> None:
    """Every target ignored: the weighted mean is 0 / 0 = NaN in torch, and in the graph."""
    import torch

    module = nn.CrossEntropyLoss(ignore_index=1)

    def make(n: int) -> list:
        return [_logits(n), np.ones(n, np.int64)]

    check_export(module, make, opsets=OPSETS)
    x, t = make(3)
    want = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(t), ignore_index=1)
    assert np.isnan(want.item())


def test_losses_match_torch() -> None:
    """The exported graphs agree with torch itself (an oracle independent of the eager implementation)."""
    import io

    import onnxruntime as ort
    import torch

    cases = {
        "ce": (nn.CrossEntropyLoss(weight=_weight(), ignore_index=3, label_smoothing=0.2),
               torch.nn.CrossEntropyLoss(weight=torch.from_numpy(_weight().numpy()), ignore_index=3,
                                         label_smoothing=0.2),
               [_logits(6, 0, 3), _classes(6, 1, 3, ignore=3)]),
        "ce_probs": (nn.CrossEntropyLoss(label_smoothing=0.1), torch.nn.CrossEntropyLoss(label_smoothing=0.1),
                     [_logits(6), _probs(6)]),
        "bce": (nn.BCELoss(reduction="none"), torch.nn.BCELoss(reduction="none"), _bce_inputs(6)),
        "bce_logits": (nn.BCEWithLogitsLoss(pos_weight=pdl.tensor(np.float32([2.0]))),
                       torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0])), _logit_inputs(6)),
        "kl": (nn.KLDivLoss(reduction="sum"), torch.nn.KLDivLoss(reduction="sum"), _kl_inputs(False)(6)),
        "kl_log": (nn.KLDivLoss(reduction="none", log_target=True),
                   torch.nn.KLDivLoss(reduction="none", log_target=True), _kl_inputs(True)(6)),
        "huber": (nn.HuberLoss(delta=0.7), torch.nn.HuberLoss(delta=0.7), _pairs(6)),
        "smooth_l1": (nn.SmoothL1Loss(beta=0.5, reduction="none"), torch.nn.SmoothL1Loss(beta=0.5, reduction="none"),
                      _pairs(6)),
    }  # fmt: skip
    for name, (ours, theirs, arrays) in cases.items():
        buf = io.BytesIO()
        pdl.onnx.export(ours, tuple(pdl.tensor(a) for a in arrays), buf, opset_version=17)
        sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
        feed = dict(zip([i.name for i in sess.get_inputs()], arrays))
        got = sess.run(None, feed)[0]
        want = theirs(*(torch.from_numpy(a) for a in arrays)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=name)


def test_loss_graph_has_no_unsupported_ops_for_fused_losses() -> None:
    """The fused losses become plain ONNX ops: no ONNX loss op whose torch semantics differ."""
    from .exportcheck import export_bytes

    x, t = pdl.tensor(_logits(3)), pdl.tensor(_classes(3, ignore=2))
    proto = export_bytes(nn.CrossEntropyLoss(ignore_index=2, label_smoothing=0.1), (x, t))
    ops = {n.op_type for n in proto.graph.node}
    assert "LogSoftmax" in ops and "GatherElements" in ops
    assert not ops & {"SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"}
