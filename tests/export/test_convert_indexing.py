"""ONNX converters for indexing and the remaining shape ops: ONNX Runtime vs eager portable_dl at batch sizes 1
and 7 (axis 0 dynamic; slicing also with a dynamic sequence axis), opsets 13 and 21."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import portable_dl as pdl
from portable_dl.export.tracer import TracingError

from .exportcheck import check_export

OPSETS = (13, 21)


def _floats(*shape: int) -> callable:
    return lambda n: [np.random.default_rng(n).standard_normal((n, *shape)).astype(np.float32)]


def _seq(n: int) -> list:
    """(batch, seq, features) with both batch and sequence growing with n."""
    return [np.random.default_rng(n).standard_normal((n, n + 2, 3)).astype(np.float32)]


GETITEM = {
    "last_of_seq": lambda x: x[:, -1],
    "first_row": lambda x: x[0],
    "last_row": lambda x: x[-1],
    "from_1": lambda x: x[:, 1:],
    "head_2": lambda x: x[:, :2],
    "tail_neg": lambda x: x[:, -2:],
    "neg_stop": lambda x: x[:, :-1],
    "step": lambda x: x[:, ::2],
    "step_start": lambda x: x[:, 1::2, 1:],
    "ellipsis_int": lambda x: x[..., 0],
    "ellipsis_last": lambda x: x[..., -1],
    "none": lambda x: x[:, None, 1],
    "ellipsis_none": lambda x: x[..., None],
    "mixed": lambda x: x[1:, -1, ::2],
    "symint_stop": lambda x: x[:, : x.shape[1] - 1],
    "symint_start": lambda x: x[:, x.shape[1] // 2 :],
    "narrow": lambda x: x.narrow(2, 1, 2),
    "select": lambda x: x.select(1, -2),
    "empty": lambda x: x[()],
}


@pytest.mark.parametrize("name", sorted(GETITEM))
def test_getitem_with_dynamic_batch(name: str) -> None:
    check_export(GETITEM[name], _floats(4, 5), opsets=OPSETS)


@pytest.mark.parametrize(
    "name",
    ["last_of_seq", "from_1", "head_2", "tail_neg", "neg_stop", "step", "step_start", "ellipsis_int", "mixed",
     "symint_stop", "symint_start", "select"],
)  # fmt: skip
def test_getitem_with_dynamic_sequence(name: str) -> None:
    check_export(GETITEM[name], _seq, batch_axes={0: [0, 1]}, opsets=OPSETS)


def test_slice_to_a_size_taken_from_another_input() -> None:
    """``x[:, :T]`` with T the runtime length of another input."""

    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        return [rng.standard_normal((2, 9, 3)).astype(np.float32), rng.standard_normal((2, n + 1)).astype(np.float32)]

    check_export(lambda x, y: x[:, : y.shape[1]], make, batch_axes={1: [1]}, opsets=OPSETS)


def _index_inputs(n: int) -> list:
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 5, 4)).astype(np.float32)
    idx = rng.integers(-5, 5, (n, 3)).astype(np.int64)
    return [x, idx]


ADVANCED = {
    "int_tensor_dim1": lambda x, i: x[:, i[0]],
    "int_tensor_rows": lambda x, i: x[i[:, 0] * 0 - 1],
    "two_tensors_adjacent": lambda x, i: x[:, i[0], i[0].abs() % 4],
    "two_tensors_apart": lambda x, i: x[i[:, 0] * 0, :, i[:, 1] % 4],
    "int_and_tensor": lambda x, i: x[:, 1, i[0] % 4],
    "slice_and_tensor": lambda x, i: x[:, 1:, i[0] % 4],
}


@pytest.mark.parametrize("name", sorted(ADVANCED))
def test_integer_tensor_indexing(name: str) -> None:
    check_export(ADVANCED[name], _index_inputs, opsets=OPSETS)


def test_constant_index_list() -> None:
    check_export(lambda x: x[:, [0, 2, 2, -1]], _floats(4, 5), opsets=OPSETS)


def test_bool_mask_indexing() -> None:
    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        return [rng.standard_normal((n, 4)).astype(np.float32), rng.random((n, 4)) > 0.5, rng.random(4) > 0.3]

    check_export(lambda x, m, c: (x[m], x[:, c]), make, batch_axes={0: [0], 1: [0]}, opsets=OPSETS)


def test_gather_and_index_select() -> None:
    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        return [rng.standard_normal((n, 6)).astype(np.float32), rng.integers(0, 6, (n, 3)).astype(np.int64)]

    check_export(
        lambda x, i: (x.gather(1, i), x.index_select(1, i[0]), x.index_select(0, i[:, 0] * 0 - 1)),
        make,
        opsets=OPSETS,
    )


def test_gather_with_a_smaller_index() -> None:
    """torch reads only the leading block of x on the non-gathered dims."""

    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        return [rng.standard_normal((n, 6, 5)).astype(np.float32), rng.integers(0, 6, (n, 2, 3)).astype(np.int64)]

    check_export(lambda x, i: x.gather(1, i), make, opsets=OPSETS)


def test_masked_fill() -> None:
    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        return [rng.standard_normal((n, 4, 4)).astype(np.float32), rng.random((n, 1, 4)) > 0.5]

    check_export(lambda x, m: (x.masked_fill(m, float("-inf")), x.masked_fill(m, 2)), make, opsets=OPSETS)


def test_masked_fill_int_with_tensor_value() -> None:
    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        return [rng.integers(-9, 9, (n, 5)).astype(np.int64), rng.random((n, 5)) > 0.5]

    check_export(lambda x, m: x.masked_fill(m, x[0, 0]), make, opsets=OPSETS)


def test_scatter() -> None:
    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        idx = np.stack([rng.permutation(5)[:3] for _ in range(n)]).astype(np.int64)
        return [rng.standard_normal((n, 5)).astype(np.float32), idx, rng.standard_normal((n, 4)).astype(np.float32)]

    check_export(lambda x, i, s: (x.scatter(1, i, s), x.scatter(1, i, 0.5)), make, opsets=OPSETS)


def test_scatter_with_a_smaller_index_and_larger_src() -> None:
    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        idx = np.stack([np.stack([rng.permutation(6)[:2] for _ in range(3)], 1) for _ in range(n)]).astype(np.int64)
        return [rng.standard_normal((n, 6, 5)).astype(np.float32), idx,
                rng.standard_normal((n, 4, 5)).astype(np.float32)]  # fmt: skip

    check_export(lambda x, i, s: x.scatter(1, i, s), make, opsets=OPSETS)


def test_scatter_add_needs_opset_16() -> None:
    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        return [rng.standard_normal((n, 5)).astype(np.float32), rng.integers(0, 5, (n, 6)).astype(np.int64),
                rng.standard_normal((n, 6)).astype(np.float32)]  # fmt: skip

    check_export(lambda x, i, s: x.scatter_add(1, i, s), make, opsets=(16, 21))
    with pytest.raises(TracingError, match="opset >= 16"):
        check_export(lambda x, i, s: x.scatter_add(1, i, s), make, opsets=(13,))


def test_index_add_accumulates_repeats() -> None:
    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        return [rng.standard_normal((n, 5)).astype(np.float32), rng.standard_normal((n, 4)).astype(np.float32)]

    def fn(x: pdl.Tensor, s: pdl.Tensor) -> tuple:
        idx = pdl.tensor([0, 3, 0, -1 % 5])
        return x.index_add(1, idx, s), x.index_add(1, idx, s, alpha=-2.0)

    check_export(fn, make, opsets=(16, 21))


def test_index_put() -> None:
    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        return [rng.standard_normal((n, 4, 3)).astype(np.float32), rng.random((n, 4, 3)) > 0.5]

    def fn(x: pdl.Tensor, m: pdl.Tensor) -> tuple:
        a = x.index_put((m,), pdl.tensor(0.0))
        b = x.transpose(0, 1).index_put((pdl.tensor([1, -1]),), x[:1, :1, 0] * 3)
        return a, b

    def accumulate(x: pdl.Tensor, m: pdl.Tensor) -> pdl.Tensor:
        rows, cols = pdl.tensor([0, 0, 2]), pdl.tensor([1, 1, -1])
        return x.transpose(0, 2).index_put((rows, cols), x[:1, 0, :1].reshape(-1), accumulate=True)

    check_export(fn, make, opsets=OPSETS)
    check_export(accumulate, make, opsets=(16, 21))


SHAPE_OPS = {
    "chunk": lambda x: x.chunk(3, 1),
    "split_sizes": lambda x: x.split([1, 3], 2),
    "unbind": lambda x: x.unbind(1),
    "repeat": lambda x: x.repeat(1, 2, 1),
    "repeat_new_dims": lambda x: x.repeat(2, 1, 1, 2),
    "flip": lambda x: x.flip(1, 2),
    "flip_batch": lambda x: x.flip(0),
    "roll": lambda x: x.roll(2, 1),
    "roll_neg_two": lambda x: x.roll((-1, 7), (2, 1)),
    "roll_batch": lambda x: x.roll(1, 0),
    "roll_flat": lambda x: x.roll(3),
    "pad": lambda x: pdl.nn.functional.pad(x, (1, 2, 0, 1), value=-1.5),
    "pad_crop": lambda x: pdl.nn.functional.pad(x, (-1, 2, 1, -2)),
    "triu": lambda x: x.triu(),
    "tril_k": lambda x: x.tril(-1),
    "triu_k": lambda x: x.triu(2),
    "einsum": lambda x: pdl.einsum("bij,bkj->bik", x, x),
    "einsum_trace": lambda x: pdl.einsum("bij->bj", x),
    "permute_negative": lambda x: x.permute(0, -1, 1),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_ops(name: str) -> None:
    check_export(SHAPE_OPS[name], _floats(3, 4), opsets=OPSETS)


@pytest.mark.parametrize("name", ["triu", "tril_k", "flip", "roll", "roll_flat", "pad_crop"])
def test_shape_ops_with_dynamic_sequence(name: str) -> None:
    check_export(SHAPE_OPS[name], _seq, batch_axes={0: [0, 1]}, opsets=OPSETS)


def test_the_last_timestep_of_a_recurrent_style_model() -> None:
    """A typical head: project every step, keep the last one; the sequence length is dynamic."""
    pdl.manual_seed(0)
    lin = pdl.nn.Linear(3, 2)

    class Head(pdl.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = lin

        def forward(self, x: pdl.Tensor) -> pdl.Tensor:
            out = self.lin(x)
            return out[:, -1]

    check_export(Head(), _seq, batch_axes={0: [0, 1]}, opsets=OPSETS)


def test_a_slice_bound_frozen_from_a_size_is_refused() -> None:
    with pytest.raises(TracingError, match="changes with the dynamic axes"):
        check_export(lambda x: x[:, : int(x.shape[0]) + 1], _floats(5), opsets=(13,))


def test_a_parameter_indexed_by_an_input() -> None:
    """Embedding-style lookups: the index comes from the input, the table is a parameter (not folded)."""
    pdl.manual_seed(0)

    class Lookup(pdl.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.table = pdl.nn.Parameter(pdl.randn(10, 3))

        def forward(self, i: pdl.Tensor) -> tuple:
            return self.table[i], self.table[:, i[:1] % 3], self.table.index_select(0, i)

    check_export(Lookup(), lambda n: [np.arange(n, dtype=np.int64) % 10 - 4], opsets=OPSETS)


def test_take() -> None:
    def make(n: int) -> list:
        rng = np.random.default_rng(n)
        return [rng.standard_normal((n, 4)).astype(np.float32), rng.integers(-4, 4, (n, 2)).astype(np.int64)]

    check_export(lambda x, i: pdl.take(x, i), make, opsets=OPSETS)


class _PositionalTable(pdl.nn.Module):
    """``self.pos[:, :T]`` with T the runtime sequence length, and ``self.table[1, idx]``."""

    def __init__(self) -> None:
        super().__init__()
        self.pos = pdl.nn.Parameter(pdl.randn(1, 16, 3))
        self.table = pdl.nn.Parameter(pdl.randn(3, 10))

    def forward(self, x: pdl.Tensor, i: pdl.Tensor) -> tuple:
        return x + self.pos[:, : x.size(1)], self.table[1, i]


def test_a_parameter_sliced_by_a_runtime_size() -> None:
    def make(n: int) -> list:
        return [np.random.default_rng(n).standard_normal((2, n + 1, 3)).astype(np.float32), np.arange(n + 1) % 10]

    check_export(_PositionalTable(), make, batch_axes={0: [1], 1: [0]}, opsets=(13,))


def test_setitem_in_the_model() -> None:
    def fn(x: pdl.Tensor) -> pdl.Tensor:
        a = x.clone()
        a[:, 0] = 5.0
        return a

    check_export(fn, _floats(3), opsets=(13,))
