"""Error behaviour: the same exception types as PyTorch, with messages that say what went wrong."""

from __future__ import annotations

import importlib.util
import operator

import pytest
import torch

import portable_dl as pdl

HAS_CUPY = importlib.util.find_spec("cupy") is not None


def error_of(fn, m) -> tuple:
    try:
        fn(m)
    except Exception as err:  # we compare whatever is raised
        return type(err), str(err)
    return None, None


BROADCAST_CASES = {
    "add": lambda m: m.ones(2, 3) + m.ones(4),
    "mul": lambda m: m.ones(2, 3) * m.ones(3, 2),
    "sub_3d": lambda m: m.ones(5, 1, 3) - m.ones(4, 2),
    "div": lambda m: m.ones(2) / m.ones(3),
    "pow": lambda m: m.ones(2) ** m.ones(3),
    "lt": lambda m: m.ones(2) < m.ones(3),
    "eq": lambda m: m.ones(2) == m.ones(3),
    "int_floordiv": lambda m: m.ones(2, dtype=m.int64) // m.ones(3, dtype=m.int64),
    "remainder": lambda m: m.ones(2) % m.ones(3),
    "leading": lambda m: m.ones(1, 3) + m.ones(2, 1, 4),
    "add_inplace": lambda m: m.ones(2, 3).add_(m.ones(4, 3)),
    "function": lambda m: m.mul(m.ones(2, 3), m.ones(2)),
}


@pytest.mark.parametrize("key", list(BROADCAST_CASES))
def test_broadcast_mismatch_message(key: str) -> None:
    fn = BROADCAST_CASES[key]
    expected = error_of(fn, torch)
    assert expected[0] is RuntimeError
    assert error_of(fn, pdl) == expected


def test_broadcast_mismatch_with_grad() -> None:
    x = pdl.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\)"):
        x * pdl.ones(4)


def test_inplace_result_shape_mismatch() -> None:
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        pdl.ones(3).add_(pdl.ones(2, 3))


def test_expand_mismatch() -> None:
    with pytest.raises(RuntimeError, match="must match the existing size"):
        pdl.ones(2).expand(3, 3)


def test_dtype_misuse() -> None:
    cases = [
        lambda m: m.tensor([1, 2]).requires_grad_(),
        lambda m: m.zeros(2, dtype=m.int32, requires_grad=True),
        lambda m: -m.tensor([True]),
        lambda m: m.tensor([True]) - m.tensor([False]),
        lambda m: m.tensor([True]) - 1,
        lambda m: m.tensor([1, 2]).add_(1.5),
        lambda m: m.tensor([1, 2]).div_(2),
        lambda m: operator.itruediv(m.tensor([1, 2]), m.tensor([1, 2])),  # the in-place fast path
        lambda m: operator.isub(m.tensor([True]), m.tensor([False])),
        lambda m: m.tensor([1, 2]) ** -1,
    ]
    for fn in cases:
        expected = error_of(fn, torch)
        got = error_of(fn, pdl)
        assert expected[0] is RuntimeError and got[0] is RuntimeError, (got, expected)
    with pytest.raises((RuntimeError, NotImplementedError, TypeError)):
        pdl.ones(2) & pdl.ones(2)


def test_bad_dtype_arguments() -> None:
    with pytest.raises(TypeError, match="valid dtypes are"):
        pdl.zeros(2, dtype="complex64")
    with pytest.raises(TypeError, match="valid dtypes are"):
        pdl.tensor([1.0]).to(dtype=object)
    with pytest.raises(TypeError):
        pdl.set_default_dtype(pdl.int32)


def test_bad_operand_types() -> None:
    for m in (torch, pdl):
        with pytest.raises(TypeError):
            m.ones(2) + "a"
        with pytest.raises(TypeError):
            "a" * m.ones(2)
        with pytest.raises(TypeError):
            m.add(m.ones(2), "a")
    assert (pdl.ones(2) == "a") is False  # Python falls back to identity, like torch
    with pytest.raises(TypeError):
        pdl.Tensor(2, "a")


def test_conversion_errors() -> None:
    with pytest.raises(RuntimeError, match="elements cannot be converted to Scalar"):
        pdl.ones(3).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(pdl.ones(3))
    with pytest.raises(ValueError, match="only one element tensors"):
        float(pdl.ones(3))
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        pdl.ones(2, 3).size(2)
    with pytest.raises(TypeError):
        len(pdl.tensor(2.0))
    with pytest.raises(TypeError):
        pdl.ones(2).to(1.5)


def test_backward_twice_message() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(pdl.ones(2))
    with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
        y.backward(pdl.ones(2))


def test_in_place_on_saved_tensor_message() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    w = pdl.tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    with pdl.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*is at version 1; expected version 0"):
        y.backward(pdl.ones(2))


def test_leaf_in_place_message() -> None:
    x = pdl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        x.mul_(2)


def test_unknown_device_string() -> None:
    for bad in ("tpu", "gpu:0", "CPU"):
        with pytest.raises(RuntimeError, match="cpu.*cuda"):
            pdl.zeros(2, device=bad)
        with pytest.raises(RuntimeError):
            torch.zeros(2, device=bad)
    with pytest.raises(RuntimeError, match="index"):
        pdl.device("cuda:x")
    with pytest.raises(RuntimeError):
        torch.device("cuda:x")
    with pytest.raises(TypeError):
        pdl.device(3.5)
    with pytest.raises(RuntimeError):
        pdl.tensor([1.0]).to("tpu")


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed: the missing-CuPy message can't be shown")
def test_cuda_without_cupy_names_the_gpu_extra() -> None:
    for make in (lambda: pdl.zeros(2, device="cuda"), lambda: pdl.ones(2).cuda(), lambda: pdl.ones(2).to("cuda:0"),
                 lambda: pdl.tensor([1.0], device=pdl.device("cuda", 0)), lambda: pdl.randn(2, device="cuda")):  # fmt: skip
        with pytest.raises(RuntimeError, match=r"portable-dl\[gpu\]"):
            make()
    assert pdl.cuda.is_available() is False
    assert pdl.cuda.device_count() == 0


@pytest.mark.gpu
def test_mixing_devices_raises() -> None:
    a = pdl.ones(2)
    b = pdl.ones(2, device="cuda")
    with pytest.raises(RuntimeError, match="expected all tensors to be on the same device"):
        a + b
    with pytest.raises(RuntimeError, match="same device"):
        b * a
    assert (a.cuda() + b).device.type == "cuda"
    assert repr(b) == "tensor([1., 1.], device='cuda:0')"
    with pytest.raises(TypeError, match="cpu"):
        b.numpy()
    assert b.cpu().numpy().tolist() == [1.0, 1.0]


@pytest.mark.gpu
def test_gpu_tensor_basics() -> None:
    x = pdl.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    y = x * x + 1
    y.backward(pdl.ones(2, device="cuda"))
    assert x.grad.device.type == "cuda" and x.grad.cpu().tolist() == [2.0, 4.0]
    assert x.is_cuda and x.get_device() == 0
    z = x.detach().to("cpu")
    assert z.is_cpu and z.tolist() == [1.0, 2.0]
    g = x.detach().cpu().cuda()
    assert g.device == pdl.device("cuda:0")


def test_wrong_number_of_gradients_to_backward() -> None:
    x = pdl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        pdl.autograd.backward([x * 2, x * 3], [pdl.ones(2)])


def test_grad_of_tensor_not_in_graph() -> None:
    x = pdl.ones(1, requires_grad=True)
    y = pdl.ones(1, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        pdl.autograd.grad(x * 2, y, pdl.ones(1))
