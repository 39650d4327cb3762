"""Matrix products against PyTorch: matmul rules (1-D, 2-D, batched broadcasting), linear, einsum, tensordot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl
import portable_dl.nn.functional as PF
from tests.parity import gradcheck, parity

rng = np.random.default_rng(0)


def r(*shape: int, dtype: type = np.float32) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((2, 1, 2, 3), (5, 3, 4)),
    ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((1, 1), (1, 1)),
]  # fmt: skip


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_parity(sa: tuple, sb: tuple, device: str) -> None:
    parity(lambda a, b: a @ b, [r(*sa), r(*sb)], device=device, double=True)
    parity(lambda a, b: pdl.matmul(a, b), [r(*sa), r(*sb)], lambda a, b: torch.matmul(a, b), device=device)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3, 4)), ((2, 2, 3), (3, 4)),
                                   ((1, 2, 3), (2, 3, 4)), ((2, 3), (3, 2))])  # fmt: skip
def test_matmul_gradcheck(sa: tuple, sb: tuple) -> None:
    gradcheck(lambda a, b: a @ b, [rng.standard_normal(sa), rng.standard_normal(sb)], double=True)


def test_matmul_one_side_requires_grad(device: str) -> None:
    parity(lambda a, b: a @ b, [r(4, 2, 3), r(3, 5)], device=device, requires_grad=[1], double=True)
    parity(lambda a, b: a @ b, [r(4, 2, 3), r(3, 5)], device=device, requires_grad=[0], double=True)


def test_rmatmul_and_methods(device: str) -> None:
    a, b = r(2, 3), r(3, 4)
    parity(lambda x, y: x.matmul(y), [a, b], device=device)
    parity(lambda x, y: y.__rmatmul__(x), [a, b], device=device)
    parity(lambda x, y: x.mm(y), [a, b], device=device, double=True)
    parity(lambda x, y: x.bmm(y), [r(2, 2, 3), r(2, 3, 4)], device=device, double=True)
    parity(lambda x, y: x.mv(y), [a, r(3)], device=device, double=True)
    parity(lambda x, y: x.dot(y), [r(3), r(3)], device=device, double=True)
    parity(lambda x, y: x.outer(y), [r(3), r(4)], device=device, double=True)
    parity(lambda x, y: x.ger(y), [r(3), r(4)], device=device)
    parity(lambda x, y: x.inner(y), [r(2, 3), r(4, 3)], device=device, double=True)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_integer_matmul(dtype: type) -> None:
    a = rng.integers(0, 5, (2, 3)).astype(dtype)
    b = rng.integers(0, 5, (3, 4)).astype(dtype)
    parity(lambda x, y: x @ y, [a, b])
    parity(lambda x, y: x @ y[:, 0], [a, b])
    parity(lambda x, y: torch.einsum("ij,jk->ik", x, y) if isinstance(x, torch.Tensor) else pdl.einsum("ij,jk->ik", x, y),
           [a, b])  # fmt: skip


def test_outer_promotes() -> None:
    parity(lambda x, y: x.outer(y), [rng.integers(0, 5, 3), r(4)])


def test_float64_and_half() -> None:
    parity(lambda a, b: a @ b, [r(2, 3, dtype=np.float64), r(3, 4, dtype=np.float64)], double=True)
    parity(lambda a, b: a @ b, [r(2, 3, dtype=np.float16), r(3, 4, dtype=np.float16)], grad=False)


def test_matmul_errors() -> None:
    t = pdl.randn
    cases = [
        (lambda: t(2, 3) @ t(4, 5), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
        (lambda: t(2, 2, 3) @ t(4, 5), "mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)"),
        (lambda: t(3) @ t(4), "inconsistent tensor size"),
        (lambda: t(2, 3) @ t(4), "size mismatch, got input (2), mat (2x3), vec (4)"),
        (lambda: t(3) @ t(4, 5), "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)"),
        (lambda: t(2, 2, 3) @ t(3, 3, 5), "The size of tensor a (2) must match the size of tensor b (3)"),
        (lambda: t(2, 2, 3) @ t(2, 4, 5), "Expected size for first two dimensions of batch2 tensor"),
        (lambda: pdl.matmul(pdl.tensor(2.0), t(4, 5)), "both arguments to matmul need to be at least 1D"),
        (lambda: t(2, 3) @ t(3, 4, dtype=pdl.float64), "expected m1 and m2 to have the same dtype, but got: float != double"),
        (lambda: pdl.mm(t(2, 3), t(3)), "mat2 must be a matrix"),
        (lambda: pdl.mm(t(2, 3), t(4, 3)), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x3)"),
        (lambda: pdl.bmm(t(3, 4), t(2, 4, 5)), "batch1 must be a 3D tensor"),
        (lambda: pdl.bmm(t(2, 3, 4), t(3, 4, 5)), "Expected size for first two dimensions of batch2 tensor to be: [2, 4]"),
        (lambda: pdl.mv(t(2, 3), t(4)), "size mismatch"),
        (lambda: pdl.dot(t(2, 3), t(4)), "1D tensors expected, but got 2D and 1D tensors"),
        (lambda: pdl.dot(t(3), t(3, dtype=pdl.float64)), "expected both vectors to have same dtype"),
        (lambda: pdl.outer(t(3), t(3, 2)), "outer: Expected 1-D argument vec2, but got 2-D"),
        (lambda: PF.linear(t(2, 3), t(4, 5)), "mat1 and mat2 shapes cannot be multiplied (2x3 and 5x4)"),
        (lambda: PF.linear(t(2, 3), t(4, 3), t(5)), "The expanded size of the tensor (4) must match"),
        (lambda: PF.linear(t(2, 3), t(4, 3, dtype=pdl.float64)), "expected m1 and m2 to have the same dtype"),
    ]  # fmt: skip
    for fn, message in cases:
        with pytest.raises(RuntimeError) as info:
            fn()
        assert message in str(info.value), (message, str(info.value))
    with pytest.raises(NotImplementedError, match="Bool"):
        pdl.ones(2, 2, dtype=pdl.bool) @ pdl.ones(2, 2, dtype=pdl.bool)


# ----- linear ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("x_shape", [(4, 3), (3,), (2, 5, 3), (0, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_parity(x_shape: tuple, bias: bool, device: str) -> None:
    tf = torch.nn.functional
    if bias:
        parity(lambda x, w, b: PF.linear(x, w, b), [r(*x_shape), r(6, 3), r(6)], lambda x, w, b: tf.linear(x, w, b),
               device=device, double=True)  # fmt: skip
    else:
        parity(lambda x, w: PF.linear(x, w), [r(*x_shape), r(6, 3)], lambda x, w: tf.linear(x, w), device=device,
               double=True)  # fmt: skip


def test_linear_partial_grads(device: str) -> None:
    tf = torch.nn.functional
    for req in ([0], [1], [2], [1, 2]):
        parity(lambda x, w, b: PF.linear(x, w, b), [r(4, 3), r(6, 3), r(6)], lambda x, w, b: tf.linear(x, w, b),
               device=device, requires_grad=req, double=True)  # fmt: skip


def test_linear_unusual(device: str) -> None:
    tf = torch.nn.functional
    parity(lambda x, w, b: PF.linear(x, w, b), [r(3), r(3), r()], lambda x, w, b: tf.linear(x, w, b), device=device)
    parity(lambda x, w: PF.linear(x, w), [r(2, 3), r(3)], lambda x, w: tf.linear(x, w), device=device)
    parity(lambda x, w, b: PF.linear(x, w, b), [r(2, 3), r(4, 3), r(1)], lambda x, w, b: tf.linear(x, w, b),
           device=device, double=True)  # fmt: skip
    parity(lambda x, w, b: PF.linear(x, w, b), [r(2, 5, 3), r(4, 3), r(5, 4)], lambda x, w, b: tf.linear(x, w, b),
           device=device, double=True)  # fmt: skip
    xi = rng.integers(-3, 3, (2, 3))
    parity(lambda x, w, b: PF.linear(x, w, b), [xi, rng.integers(-3, 3, (4, 3)), rng.integers(-3, 3, 4)],
           lambda x, w, b: tf.linear(x, w, b))  # fmt: skip


def test_linear_gradcheck() -> None:
    gradcheck(lambda x, w, b: PF.linear(x, w, b), [rng.standard_normal(s) for s in ((2, 3, 4), (5, 4), (5,))],
              double=True)  # fmt: skip


def test_linear_saves_no_extra_work() -> None:
    x = pdl.randn(4, 3)
    w = pdl.randn(6, 3, requires_grad=True)
    y = PF.linear(x, w)
    y.backward(pdl.ones(4, 6))
    assert x.grad is None and w.grad is not None
    np.testing.assert_allclose(w.grad.numpy(), np.ones((4, 6), np.float32).T @ x.numpy(), rtol=1e-5)


def test_bilinear(device: str) -> None:
    tf = torch.nn.functional
    parity(lambda a, b, w, c: PF.bilinear(a, b, w, c), [r(4, 3), r(4, 5), r(2, 3, 5), r(2)],
           lambda a, b, w, c: tf.bilinear(a, b, w, c), device=device, double=True)  # fmt: skip


# ----- add* fused forms ------------------------------------------------------------------------------------


def test_add_forms(device: str) -> None:
    parity(lambda i, a, b: pdl.addmm(i, a, b, beta=0.5, alpha=2.0), [r(3), r(2, 4), r(4, 3)],
           lambda i, a, b: torch.addmm(i, a, b, beta=0.5, alpha=2.0), device=device, double=True)  # fmt: skip
    parity(lambda i, a, b: i.addmm(a, b), [r(2, 3), r(2, 4), r(4, 3)], device=device, double=True)
    parity(lambda i, a, b: pdl.addmv(i, a, b, alpha=3), [r(2), r(2, 4), r(4)],
           lambda i, a, b: torch.addmv(i, a, b, alpha=3), device=device, double=True)  # fmt: skip
    parity(lambda i, a, b: pdl.addr(i, a, b), [r(2, 3), r(2), r(3)], lambda i, a, b: torch.addr(i, a, b), device=device)
    parity(lambda i, a, b: pdl.baddbmm(i, a, b, beta=2), [r(2, 3, 5), r(2, 3, 4), r(2, 4, 5)],
           lambda i, a, b: torch.baddbmm(i, a, b, beta=2), device=device, double=True)  # fmt: skip
    parity(lambda i, a, b: pdl.addbmm(i, a, b), [r(3, 5), r(2, 3, 4), r(2, 4, 5)],
           lambda i, a, b: torch.addbmm(i, a, b), device=device, double=True)  # fmt: skip
    parity(lambda i, a, b: pdl.addmm(i, a, b, beta=0), [np.full((2, 3), np.nan, np.float32), r(2, 4), r(4, 3)],
           lambda i, a, b: torch.addmm(i, a, b, beta=0), device=device, requires_grad=[1, 2])  # fmt: skip


def test_inplace_add_forms() -> None:
    a, m1, m2 = r(2, 3), r(2, 4), r(4, 3)
    ours = pdl.tensor(a.copy())
    ours.addmm_(pdl.tensor(m1), pdl.tensor(m2), alpha=2)
    theirs = torch.from_numpy(a.copy())
    theirs.addmm_(torch.from_numpy(m1), torch.from_numpy(m2), alpha=2)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5)
    assert ours._version == 1


# ----- einsum / tensordot --------------------------------------------------------------------------------

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij->", [(2, 3)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
    ("ij,j", [(3, 3), (1,)]), ("...ij,...jk", [(1, 3, 3), (5, 3, 2)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,j->ij", [(3,), (4,)]), ("ij->j", [(3, 4)]), ("iij->j", [(3, 3, 4)]), ("ijk,ikl,l->ij", [(2, 3, 4), (2, 4, 5), (5,)]),
    ("i...->...", [(2, 3, 4)]), ("...,...->...", [(2, 3, 4), (3, 1)]), ("ba", [(2, 3)]), ("i,i", [(3,), (3,)]),
    ("Ba,aB", [(2, 3), (3, 2)]), ("ij->ji", [(2, 3)]), ("b i j , b j k -> b i k", [(2, 3, 4), (2, 4, 5)]),
    ("ij,kl->ijkl", [(0, 2), (3, 1)]),
]  # fmt: skip


@pytest.mark.parametrize("eq,shapes", EINSUMS)
def test_einsum_parity(eq: str, shapes: list, device: str) -> None:
    parity(lambda *ops: pdl.einsum(eq, *ops), [r(*s) for s in shapes], lambda *ops: torch.einsum(eq, *ops),
           device=device, double=True)  # fmt: skip


@pytest.mark.parametrize("eq,shapes", EINSUMS[:12])
def test_einsum_gradcheck(eq: str, shapes: list) -> None:
    gradcheck(lambda *ops: pdl.einsum(eq, *ops), [rng.standard_normal(s) for s in shapes], double=True)


def test_einsum_list_operands_and_view_safety() -> None:
    a, b = r(2, 3), r(3, 4)
    out = pdl.einsum("ij,jk->ik", [pdl.tensor(a), pdl.tensor(b)])
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-5)
    x = pdl.tensor(a.copy())
    y = pdl.einsum("ij->ij", x)
    y.add_(1.0)
    np.testing.assert_array_equal(x.numpy(), a)  # einsum's output never aliases its input


def test_einsum_errors() -> None:
    t = pdl.randn
    cases = [
        (lambda: pdl.einsum("ij,jk->ik", t(2, 3), t(3, 4, dtype=pdl.float64)), "expected scalar type Float but found Double"),
        (lambda: pdl.einsum("ij,jk->ik", t(2, 3), t(4, 4)), "subscript j has size 4 for operand 1 which does not broadcast"),
        (lambda: pdl.einsum("ij,jk->ik", t(2, 3)), "fewer operands were provided than specified in the equation"),
        (lambda: pdl.einsum("ij,jk->ik", t(2, 3), t(3, 4), t(3)), "more operands were provided"),
        (lambda: pdl.einsum("ij,jk->il", t(2, 3), t(3, 4)), "output subscript l does not appear"),
        (lambda: pdl.einsum("ij,jk->ii", t(2, 3), t(3, 4)), "output subscript i appears more than once"),
        (lambda: pdl.einsum("ijk", t(3, 3)), "does not match the number of dimensions (2) for operand 0"),
        (lambda: pdl.einsum("i1", t(2, 3)), "invalid subscript given at index 1"),
        (lambda: pdl.einsum("ii", t(2, 3)), "subscript i is repeated for operand 0 but the sizes don't match, 2 != 3"),
    ]  # fmt: skip
    for fn, message in cases:
        with pytest.raises(RuntimeError) as info:
            fn()
        assert message in str(info.value), (message, str(info.value))


TENSORDOTS = [
    (2, (2, 3, 4), (3, 4, 5)), (1, (2, 3, 4), (4, 5)), (0, (2, 3), (3,)), (([1], [0]), (2, 3, 4), (3, 4, 5)),
    (([1, 2], [0, 1]), (2, 3, 4), (3, 4, 5)), ([[-2, -1], [0, 1]], (2, 3, 4), (3, 4, 5)),
    (([2, 1], [1, 0]), (2, 3, 4), (3, 4, 5)),
]  # fmt: skip


@pytest.mark.parametrize("dims,sa,sb", TENSORDOTS)
def test_tensordot_parity(dims: object, sa: tuple, sb: tuple, device: str) -> None:
    parity(lambda a, b: pdl.tensordot(a, b, dims=dims), [r(*sa), r(*sb)],
           lambda a, b: torch.tensordot(a, b, dims=dims), device=device, double=True)  # fmt: skip


def test_tensordot_gradcheck_and_errors() -> None:
    gradcheck(lambda a, b: pdl.tensordot(a, b, dims=([0, 2], [2, 0])), [rng.standard_normal((2, 3, 4)),
              rng.standard_normal((4, 5, 2))], double=True)  # fmt: skip
    t = pdl.randn
    with pytest.raises(RuntimeError, match="contracted dimensions need to match"):
        pdl.tensordot(t(2, 3, 4), t(3, 4, 5), dims=([1], [1]))
    with pytest.raises(RuntimeError, match="tensordot expects dims >= 0"):
        pdl.tensordot(t(2, 3, 4), t(3, 4, 5), dims=-1)
    with pytest.raises(RuntimeError, match="both dimension lists should have same length"):
        pdl.tensordot(t(2, 3, 4), t(3, 4, 5), dims=([1, 2], [0]))
    with pytest.raises(RuntimeError, match="both inputs should have same dtype"):
        pdl.tensordot(t(2, 3, 4), t(3, 4, 5, dtype=pdl.float64))
