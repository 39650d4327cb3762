"""ONNX converters for reductions, scans, extremes, norms and sorting: ONNX Runtime vs eager portable_dl at
batch sizes 1 and 7 (axis 0 dynamic), opsets 13 and 21."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import portable_dl as pdl

from .exportcheck import check_export

OPSETS = (13, 21)


def _floats(*shape: int, special: bool = False, seed: int = 0) -> callable:
    """Seeded float32 inputs of shape (n, *shape); ``special`` plants zeros, negatives, ties (and no NaN)."""

    def make(n: int) -> list:
        rng = np.random.default_rng(seed + n)
        x = rng.standard_normal((n, *shape)).astype(np.float32)
        if special:
            x.reshape(-1)[::5] = 0.0
            x.reshape(-1)[1::7] = -2.5
        return [x]

    return make


def _with_nan(*shape: int) -> callable:
    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        x = rng.standard_normal((n, *shape)).astype(np.float32)
        x[0, 1] = np.nan
        x[-1, -1, 0] = np.inf
        x[-1, 0, -1] = -np.inf
        return [x]

    return make


def _ints(*shape: int) -> callable:
    return lambda n: [np.random.default_rng(n).integers(-5, 6, (n, *shape)).astype(np.int64)]


def _bools(*shape: int) -> callable:
    return lambda n: [np.random.default_rng(n).random((n, *shape)) > 0.6]


SUMS = {
    "sum_all": lambda x: x.sum(),
    "sum_dim": lambda x: x.sum(1),
    "sum_neg_keep": lambda x: x.sum(-1, keepdim=True),
    "sum_dims": lambda x: x.sum((0, 2)),
    "mean_batch": lambda x: x.mean(0),
    "mean_keep": lambda x: x.mean((1, 2), keepdim=True),
    "mean_all": lambda x: x.mean(),
    "prod": lambda x: x.prod(2),
    "prod_all": lambda x: x.prod(),
    "nansum": lambda x: pdl.nansum(x, 1),
    "var": lambda x: x.var(1),
    "var_batch": lambda x: x.var(0, keepdim=True),
    "std_c0": lambda x: x.std(2, correction=0),
    "std_all": lambda x: x.std(),
    "logsumexp": lambda x: pdl.logsumexp(x, 2),
    "logsumexp_keep": lambda x: pdl.logsumexp(x, (1, 2), keepdim=True),
    "cumsum": lambda x: x.cumsum(2),
    "cumsum_batch": lambda x: x.cumsum(0),
    "cumprod": lambda x: x.cumprod(1),
    "cumprod_batch": lambda x: x.cumprod(0),
    "max_all": lambda x: x.max(),
    "min_all": lambda x: x.min(),
    "amax": lambda x: x.amax((1, 2)),
    "amin_keep": lambda x: x.amin(1, keepdim=True),
    "max_dim": lambda x: tuple(x.max(1)),
    "min_dim_keep": lambda x: tuple(x.min(-1, keepdim=True)),
    "argmax": lambda x: x.argmax(2),
    "argmin_keep": lambda x: x.argmin(1, keepdim=True),
    "argmax_all": lambda x: x.argmax(),
    "argmin_all_keep": lambda x: x.argmin(keepdim=True),
    "norm2": lambda x: x.norm(dim=2),
    "norm1": lambda x: x.norm(1, dim=(1, 2)),
    "norm_inf": lambda x: x.norm(float("inf"), dim=1, keepdim=True),
    "norm_ninf": lambda x: x.norm(float("-inf"), dim=-1),
    "norm0": lambda x: x.norm(0, dim=2),
    "norm3": lambda x: x.norm(3, dim=1),
    "norm_all": lambda x: x.norm(),
    "any": lambda x: x.any(1),
    "all": lambda x: x.all(2),
    "count_nonzero": lambda x: pdl.count_nonzero(x, 1),
}


@pytest.mark.parametrize("name", sorted(SUMS))
def test_float_reductions(name: str) -> None:
    check_export(SUMS[name], _floats(4, 5, special=True), opsets=OPSETS, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(
    "name", ["sum_dim", "sum_all", "prod", "cumsum", "cumprod", "max_dim", "argmax", "amax", "count_nonzero"]
)
def test_integer_reductions(name: str) -> None:
    check_export(SUMS[name], _ints(3, 4), opsets=OPSETS)


@pytest.mark.parametrize(
    "fn",
    [lambda b: b.sum(1), lambda b: b.any(), lambda b: b.all(1), lambda b: b.cumsum(2), lambda b: b.amax(2)],
    ids=["sum", "any", "all", "cumsum", "amax"],
)
def test_bool_reductions(fn: callable) -> None:
    check_export(fn, _bools(3, 4), opsets=OPSETS)


@pytest.mark.parametrize(
    "name", ["max_all", "amax", "min_dim_keep", "max_dim", "argmax", "argmin_keep", "argmax_all", "logsumexp"]
)
def test_nan_and_inf_propagate_like_torch(name: str) -> None:
    check_export(SUMS[name], _with_nan(3, 4), opsets=OPSETS)


def test_ties_pick_the_first_index() -> None:
    def make(n: int) -> list:
        x = np.zeros((n, 6), np.float32)
        x[:, 2] = x[:, 4] = 1.0
        x[:, 1] = x[:, 5] = -1.0
        return [x]

    check_export(lambda x: (x.argmax(1), x.argmin(1), *x.max(1)), make, opsets=OPSETS)


def test_var_over_a_dynamic_dim_counts_in_the_graph() -> None:
    """The divisor n - correction follows the runtime batch: n = 1 gives inf/nan like torch."""
    check_export(lambda x: (x.var(0), x.std((0, 1)), x.var(0, correction=0)), _floats(3, special=True),
                 opsets=OPSETS)  # fmt: skip


def test_dynamic_sequence_axis_reductions() -> None:
    check_export(
        lambda x: (x.cumprod(1), x.mean(1), x.max(1).values, x.var(1), x.cumsum(1)),
        lambda n: [np.random.default_rng(n).standard_normal((2, n, 3)).astype(np.float32)],
        batch_axes={0: [1]},
        opsets=OPSETS,
        atol=1e-4,
    )


def test_float16_sum_accumulates_in_float32() -> None:
    check_export(lambda x: (x.sum(1), x.mean(1), x.cumsum(1)),
                 lambda n: [np.random.default_rng(n).standard_normal((n, 50)).astype(np.float16)],
                 opsets=OPSETS, atol=1e-2, rtol=1e-2)  # fmt: skip


def test_sum_to_size() -> None:
    check_export(lambda x: x.sum_to_size(1, 4, 1), _floats(4, 5), opsets=OPSETS)


def test_sum_to_size_drops_leading_dims() -> None:
    check_export(lambda x: x.sum_to_size(5), _floats(3, 5), opsets=OPSETS)


SORTS = {
    "topk": lambda x: tuple(x.topk(3, dim=2)),
    "topk_smallest": lambda x: tuple(x.topk(2, dim=1, largest=False)),
    "sort": lambda x: tuple(x.sort(-1)),
    "sort_desc": lambda x: tuple(x.sort(1, descending=True)),
    "sort_batch": lambda x: tuple(x.sort(0)),
    "argsort": lambda x: x.argsort(2),
    "argsort_desc_batch": lambda x: x.argsort(0, descending=True),
    "kthvalue": lambda x: tuple(x.kthvalue(2, 2)),
    "kthvalue_keep": lambda x: tuple(x.kthvalue(3, 1, keepdim=True)),
}


@pytest.mark.parametrize("name", sorted(SORTS))
def test_sorting(name: str) -> None:
    check_export(SORTS[name], _floats(4, 5), opsets=OPSETS)  # distinct values: tie order is not in question


def test_reverse_cumsum() -> None:
    """The adjoint scan (reached through gradients of traced functions) exports as CumSum(reverse=1)."""
    from portable_dl.ops.reduction_scan import _RevCumsum

    check_export(lambda x: _RevCumsum.apply(x, 1), _floats(4), opsets=OPSETS)


def test_sorting_puts_nan_first_when_largest() -> None:
    def make(n: int) -> list:
        x = np.random.default_rng(n).standard_normal((n, 6)).astype(np.float32)
        x[:, 2] = np.nan
        return [x]

    fns = (lambda x: (*x.sort(1), *x.sort(1, descending=True)), lambda x: (*x.topk(2, 1), *x.topk(2, 1, largest=False)))
    for fn in fns:
        check_export(fn, make, opsets=OPSETS)


def test_stable_sort_keeps_ties_in_order() -> None:
    def make(n: int) -> list:
        return [np.random.default_rng(n).integers(0, 3, (n, 8)).astype(np.float32)]

    check_export(lambda x: (*x.sort(1, stable=True), *x.sort(1, descending=True, stable=True)), make, opsets=OPSETS)


def test_reductions_of_0d_results() -> None:
    check_export(
        lambda x: (x.sum().sum(), x.amax().amin(), x.sum().cumsum(0), x.mean().logsumexp(0), x.sum().norm(),
                   x.sum().any(), x.max(0).values.sum().prod()),
        _floats(3), opsets=OPSETS,
    )  # fmt: skip


def test_float64_and_int32_inputs() -> None:
    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        return [rng.standard_normal((n, 4)), rng.integers(-3, 4, (n, 4)).astype(np.int32)]

    check_export(
        lambda x, i: (x.sum(1), x.var(1), x.amax(1), x.argmin(1), x.cumprod(1), i.sum(1), i.cumsum(1), i.amax(1),
                      i.prod(1), i.argmax(1)),
        make, opsets=OPSETS,
    )  # fmt: skip
