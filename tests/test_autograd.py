"""The autograd engine against PyTorch: accumulation, retain_graph, autograd.grad options, hooks, retain_grad,
detach rules, graph structure, higher-order gradients and the version counter of in-place ops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl

needs_sum = pytest.mark.skipif(not hasattr(pdl.Tensor, "sum"), reason="Tensor.sum (reductions) not implemented yet")
needs_exp = pytest.mark.skipif(not hasattr(pdl.Tensor, "exp"), reason="Tensor.exp (unary ops) not implemented yet")

rng = np.random.default_rng(0)


def both(fn):
    """Run ``fn(module)`` with portable_dl and with torch; return both results."""
    return fn(pdl), fn(torch)


def check(ours, theirs, rtol: float = 1e-6, atol: float = 1e-6) -> None:
    """Gradients (tensors, None, or nested tuples/lists of them) agree with torch's."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), (ours, theirs)
        for o, t in zip(ours, theirs):
            check(o, t, rtol, atol)
        return
    if theirs is None:
        assert ours is None, ours
        return
    assert isinstance(ours, pdl.Tensor), type(ours)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def leaf(m, data, requires_grad: bool = True):
    return m.tensor(np.array(data, dtype=np.float32), requires_grad=requires_grad)


# ----- basics --------------------------------------------------------------------------------------


def test_scalar_backward_and_accumulation() -> None:
    def run(m):
        x = m.tensor(2.0, requires_grad=True)
        y = x * x * 3 + x
        y.backward()
        first = x.grad.clone()
        y2 = x * x * 3 + x
        y2.backward()
        return first, x.grad

    check(*both(run))


def test_backward_with_gradient_argument() -> None:
    g = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)

    def run(m):
        x = leaf(m, rng.standard_normal((2, 3)) if False else g * 0.5)
        w = leaf(m, b)
        y = x * w - x / (w + 3)
        y.backward(m.tensor(g))
        return x.grad, w.grad

    check(*both(run), rtol=1e-5)


def test_backward_accepts_keyword_and_inputs() -> None:
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0, 4.0], requires_grad=True)
        y = x * w
        y.backward(gradient=m.ones(2), inputs=[x])
        return x.grad, w.grad

    check(*both(run))


def test_retain_graph() -> None:
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        y.backward(m.ones(2), retain_graph=True)
        y.backward(m.ones(2))
        return x.grad

    check(*both(run))


def test_backward_twice_raises() -> None:
    for m in (torch, pdl):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        y.backward(m.ones(2))
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward(m.ones(2))


def test_backward_twice_through_graph_without_saved_values() -> None:
    # nodes that saved nothing (add) can be run again, like in torch
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x + 1
        y.backward(m.ones(2))
        y.backward(m.ones(2))
        return x.grad

    check(*both(run))


def test_non_scalar_backward_needs_gradient() -> None:
    for m in (torch, pdl):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            (x * 2).backward()
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            m.autograd.grad(x * 2, x)


def test_backward_on_tensor_without_grad_raises() -> None:
    for m in (torch, pdl):
        with pytest.raises(RuntimeError, match="does not require grad"):
            m.tensor(1.0).backward()


def test_gradient_shape_mismatch_raises() -> None:
    for m in (torch, pdl):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="[Mm]ismatch in shape"):
            (x * 2).backward(m.ones(3))


def test_broadcast_gradients_reduce() -> None:
    a = rng.standard_normal((4, 1, 3)).astype(np.float32)
    b = rng.standard_normal((2, 1)).astype(np.float32)
    g = rng.standard_normal((4, 2, 3)).astype(np.float32)

    def run(m):
        x, y = leaf(m, a), leaf(m, b)
        (x * y + y).backward(m.tensor(g))
        return x.grad, y.grad

    check(*both(run), rtol=1e-5, atol=1e-5)


def test_same_tensor_used_twice() -> None:
    def run(m):
        x = m.tensor([1.0, -2.0], requires_grad=True)
        (x * x + x).backward(m.ones(2))
        return x.grad

    check(*both(run))


def test_shared_gradients_are_not_aliased() -> None:
    a = pdl.tensor([1.0, 2.0], requires_grad=True)
    b = pdl.tensor([3.0, 4.0], requires_grad=True)
    g = pdl.ones(2)
    (a + b).backward(g)
    assert a.grad is not b.grad and a.grad.data_ptr() != b.grad.data_ptr()
    assert a.grad.data_ptr() != g.data_ptr()  # nor the gradient the caller passed in
    a.grad.mul_(5)
    assert b.grad.tolist() == [1.0, 1.0] and g.tolist() == [1.0, 1.0]
    assert a.grad.tolist() == [5.0, 5.0]


@needs_sum
def test_shared_gradients_are_not_aliased_after_sum() -> None:
    a = pdl.tensor([1.0, 2.0], requires_grad=True)
    b = pdl.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not b.grad
    a.grad.add_(1)
    assert b.grad.tolist() == [1.0, 1.0]


def test_grad_accumulates_into_existing_grad_without_aliasing() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).backward(pdl.ones(2))
    first = x.grad
    (x * 3).backward(pdl.ones(2))
    assert x.grad.tolist() == [5.0, 5.0]
    assert first.tolist() in ([2.0, 2.0], [5.0, 5.0])  # torch accumulates in place; both are acceptable
    x.grad = None
    (x * 1).backward(pdl.ones(2))
    assert x.grad.tolist() == [1.0, 1.0]


def test_integer_leaf_gradient_path_ignored() -> None:
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        i = m.tensor([3, 4])
        (x * i).backward(m.ones(2))
        return x.grad

    check(*both(run))


# ----- autograd.grad -------------------------------------------------------------------------------


def test_autograd_grad_basic() -> None:
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([0.5, -1.0], requires_grad=True)
        y = x * w / (x + 2)
        gx, gw = m.autograd.grad(y, (x, w), m.ones(2))
        return gx, gw, x.grad, w.grad

    check(*both(run))


def test_autograd_grad_allow_unused() -> None:
    for m in (torch, pdl):
        x = m.tensor([1.0], requires_grad=True)
        z = m.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
            m.autograd.grad(x * 2, [x, z], m.ones(1))

    def run(m):
        x = m.tensor([1.0], requires_grad=True)
        z = m.tensor([1.0], requires_grad=True)
        return m.autograd.grad(x * 2, [x, z], m.ones(1), allow_unused=True)

    check(*both(run))

    def run_materialized(m):
        x = m.tensor([1.0], requires_grad=True)
        z = m.tensor([1.0, 2.0], requires_grad=True)
        return m.autograd.grad(x * 2, [x, z], m.ones(1), materialize_grads=True)

    check(*both(run_materialized))


def test_autograd_grad_non_leaf_inputs() -> None:
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        y = h * h + x
        gh, gx = m.autograd.grad(y, [h, x], m.ones(2))
        return gh, gx

    check(*both(run))


def test_autograd_grad_of_output_wrt_itself() -> None:
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        return m.autograd.grad(y, y, m.tensor([3.0, 4.0]))

    check(*both(run))


def test_autograd_grad_multiple_outputs() -> None:
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        a, b = x * 2, x * x
        return m.autograd.grad([a, b], [x], [m.ones(2), m.tensor([1.0, -1.0])])

    check(*both(run))


def test_autograd_grad_retain_graph() -> None:
    for m in (torch, pdl):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        m.autograd.grad(y, x, m.ones(2), retain_graph=True)
        (g,) = m.autograd.grad(y, x, m.ones(2))
        assert g.tolist() == [2.0, 4.0]
        with pytest.raises(RuntimeError, match="second time"):
            m.autograd.grad(y, x, m.ones(2))


def test_autograd_grad_input_not_requiring_grad() -> None:
    for m in (torch, pdl):
        x = m.tensor([1.0], requires_grad=True)
        c = m.tensor([1.0])
        with pytest.raises(RuntimeError):
            m.autograd.grad(x * c, [c], m.ones(1))


def test_create_graph_and_second_order() -> None:
    def run(m):
        x = m.tensor([0.5, 1.5, -2.0], requires_grad=True)
        y = x * x * x
        (g,) = m.autograd.grad(y, x, m.ones(3), create_graph=True)
        assert g.requires_grad
        (g2,) = m.autograd.grad(g, x, m.ones(3))
        return g, g2

    check(*both(run))


def test_second_order_mixed_expression() -> None:
    xs = np.array([0.7, 1.3, 2.1], np.float32)
    ws = np.array([1.5, -0.5, 0.8], np.float32)
    v = np.array([0.3, -1.2, 0.9], np.float32)

    def run(m):
        x, w = leaf(m, xs), leaf(m, ws)
        y = (x * w - x / (w + 2)) ** 2 + x**3 / 3 - 2.0 * w * x + 1 / (x + w * w)
        gx, gw = m.autograd.grad(y, [x, w], m.ones(3), create_graph=True)
        second = m.autograd.grad(gx * m.tensor(v) + gw, [x, w], m.ones(3), create_graph=True)
        third = m.autograd.grad(second[0], [x, w], m.ones(3), allow_unused=True)
        return gx, gw, second, third

    check(*both(run), rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not hasattr(pdl.Tensor, "log"), reason="Tensor.log (unary ops) not implemented yet")
def test_second_order_tensor_exponent() -> None:
    xs = np.array([0.7, 1.3, 2.1], np.float32)
    ws = np.array([1.5, -0.5, 0.8], np.float32)

    def run(m):
        x, w = leaf(m, xs), leaf(m, ws)
        y = (x + 1) ** w * x - 2**w
        gx, gw = m.autograd.grad(y, [x, w], m.ones(3), create_graph=True)
        second = m.autograd.grad(gx + gw * 2, [x, w], m.ones(3))
        return gx, gw, second

    check(*both(run), rtol=1e-4, atol=1e-5)


def test_backward_create_graph_then_grad_of_grad() -> None:
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * x * x
        y.backward(m.ones(2), create_graph=True)
        first = x.grad
        assert first.requires_grad
        (gg,) = m.autograd.grad(first, x, m.ones(2))
        return first, gg

    check(*both(run))


def test_create_graph_false_grads_do_not_require_grad() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    (g,) = pdl.autograd.grad(x * x, x, pdl.ones(2))
    assert not g.requires_grad and g.grad_fn is None
    (x * x).backward(pdl.ones(2))
    assert not x.grad.requires_grad


# ----- retain_grad and hooks -----------------------------------------------------------------------


def test_retain_grad() -> None:
    def run(m):
        a = m.tensor(2.0, requires_grad=True)
        b = a * 3
        b.retain_grad()
        b.retain_grad()  # twice is harmless
        c = b * b
        assert b.retains_grad and not a.retains_grad
        c.backward()
        return a.grad, b.grad, c.grad if False else None

    check(*both(run))
    for m in (torch, pdl):
        with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
            m.ones(2).retain_grad()
        x = m.ones(2, requires_grad=True)
        x.retain_grad()  # a leaf: no-op
        assert not (x * 2).retains_grad


def test_non_leaf_grad_is_none_without_retain_grad() -> None:
    x = pdl.tensor([1.0], requires_grad=True)
    y = x * 2
    (y * y).backward(pdl.ones(1))
    assert y.grad is None


def test_hook_on_non_leaf_modifies_gradient() -> None:
    def run(m):
        a = m.tensor(2.0, requires_grad=True)
        b = a * 3
        handle = b.register_hook(lambda g: g * 10)
        (b * b).backward()
        first = a.grad.clone()
        handle.remove()
        a.grad = None
        b = a * 3
        (b * b).backward()
        return first, a.grad

    check(*both(run))


def test_hook_on_leaf_modifies_accumulated_gradient() -> None:
    def run(m):
        a = m.tensor([2.0, 1.0], requires_grad=True)
        seen = []
        h1 = a.register_hook(lambda g: g + 1)
        h2 = a.register_hook(lambda g: seen.append(g.clone()))  # returning None keeps the gradient
        (a * 3).backward(m.ones(2))
        h1.remove()
        h2.remove()
        (a * 3).backward(m.ones(2))
        return a.grad, seen

    check(*both(run))


def test_hook_sees_summed_gradient_once() -> None:
    def run(m):
        a = m.tensor([1.0, 2.0], requires_grad=True)
        calls = []
        a.register_hook(lambda g: calls.append(g.clone()))
        (a * 2 + a * 3).backward(m.ones(2))
        return calls

    check(*both(run))


def test_hook_with_retain_grad_sees_modified_gradient() -> None:
    def run(m):
        a = m.tensor([1.0, 2.0], requires_grad=True)
        b = a * 2
        b.retain_grad()
        b.register_hook(lambda g: g * 2)
        (b * 1).backward(m.ones(2))
        return b.grad, a.grad

    check(*both(run))


def test_removable_handle_context_manager() -> None:
    a = pdl.tensor([1.0], requires_grad=True)
    with a.register_hook(lambda g: g * 100):
        pass
    (a * 1).backward(pdl.ones(1))
    assert a.grad.tolist() == [1.0]


def test_register_hook_requires_grad() -> None:
    for m in (torch, pdl):
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
            m.ones(1).register_hook(lambda g: g)


# ----- leaf / detach / requires_grad rules ---------------------------------------------------------


def test_is_leaf_and_requires_grad() -> None:
    for m in (torch, pdl):
        x = m.ones(2, requires_grad=True)
        assert m.ones(2).is_leaf and x.is_leaf and not (x * 2).is_leaf and (m.ones(2) * 2).is_leaf
        assert (x * 2).requires_grad and not (m.ones(2) * 2).requires_grad
        assert (x * m.ones(2)).requires_grad
        assert x.grad is None


def test_requires_grad_rules() -> None:
    for m in (torch, pdl):
        with pytest.raises(RuntimeError, match="floating point"):
            m.tensor([1, 2]).requires_grad_()
        with pytest.raises(RuntimeError, match="floating point"):
            m.tensor([True]).requires_grad_(True)
        m.tensor([1, 2]).requires_grad_(False)  # turning it off is fine
        x = m.ones(2, requires_grad=True)
        y = x * 2
        with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
            y.requires_grad_(False)
        assert y.requires_grad_(True) is y
        z = m.ones(2)
        assert z.requires_grad_() is z and z.requires_grad
        z.requires_grad_(False)
        assert not z.requires_grad
        z.requires_grad = True
        assert z.requires_grad


def test_detach() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert d.data_ptr() == y.data_ptr()
    d.add_(1)  # shares storage and version counter with y
    assert y.tolist() == [3.0, 5.0]
    assert d._version == y._version == 1
    assert (d * x).requires_grad


def test_detach_saved_tensor_modified_raises() -> None:
    for m in (torch, pdl):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0, 4.0], requires_grad=True)
        y = x * w
        w.detach().mul_(2)  # same storage and version counter as w
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward(m.ones(2))


def test_detach_in_place() -> None:
    for m in (torch, pdl):
        x = m.ones(2, requires_grad=True)
        y = x * 2
        assert y.detach_() is y
        assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_graph_structure() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    (acc, nr), (none, nr2) = y.grad_fn.next_functions
    assert acc.name().endswith("AccumulateGrad") and acc.variable is x and nr == 0
    assert none is None and nr2 == 0
    z = y + x.detach()
    ((node, _), (other, _)) = z.grad_fn.next_functions
    assert node is y.grad_fn and other is None
    w = x * x
    assert all(f.name().endswith("AccumulateGrad") and f.variable is x for f, _ in w.grad_fn.next_functions)
    assert y.grad_fn.name() == "MulBackward0" and z.grad_fn.name() == "AddBackward0"
    assert "MulBackward0" in repr(y.grad_fn)


# ----- no_grad -------------------------------------------------------------------------------------


def test_no_grad_builds_no_graph() -> None:
    x = pdl.tensor([1.0, 2.0], requires_grad=True)
    with pdl.no_grad():
        y = x * 2 + 1
        c = x.double()
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf
    assert c.grad_fn is None and not c.requires_grad
    z = y * x
    z.backward(pdl.ones(2))
    assert x.grad.tolist() == [3.0, 5.0]  # y is a constant


def test_in_place_update_of_leaf_under_no_grad() -> None:
    def run(m):
        w = m.tensor([1.0, 2.0], requires_grad=True)
        (w * w).backward(m.ones(2))
        with m.no_grad():
            w -= 0.1 * w.grad
        assert w.requires_grad and w.is_leaf and w.grad_fn is None
        return w.detach().clone(), w.grad

    check(*both(run))


# ----- version counter and in-place ops -------------------------------------------------------------


def test_in_place_on_saved_tensor_raises() -> None:
    for m in (torch, pdl):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0, 4.0], requires_grad=True)
        y = x * w
        with m.no_grad():
            x.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward(m.ones(2))


def test_in_place_on_quotient_like_torch() -> None:
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0, 4.0], requires_grad=True)
        y = x / w
        y.add_(1)
        y.backward(m.ones(2))
        return x.grad, w.grad

    check(*both(run))


def test_in_place_on_unsaved_input_is_fine() -> None:
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        c = m.tensor([5.0, 6.0])
        y = x + c  # add saves nothing
        c.add_(1)
        y.backward(m.ones(2))
        return x.grad

    check(*both(run))


def test_in_place_on_leaf_requiring_grad_raises() -> None:
    for m in (torch, pdl):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(
            RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"
        ):
            x.add_(1)
        with pytest.raises(
            RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"
        ):
            x *= 2
        assert x.tolist() == [1.0, 2.0]


def test_version_counter() -> None:
    x = pdl.tensor([1.0, 2.0])
    assert x._version == 0
    x.add_(1)
    x.mul_(2)
    x += 1
    assert x._version == 3
    assert x.tolist() == [5.0, 7.0]


def test_in_place_on_non_leaf_rebases_history() -> None:
    def run(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = x * 2
        y.mul_(w)
        y.add_(x)
        y += 1
        y.div_(w + 3)
        z = y * y
        z.backward(m.tensor([1.0, 2.0, 3.0]))
        return y.detach().clone(), x.grad, w.grad

    check(*both(run), rtol=1e-5)


def test_in_place_on_non_leaf_after_it_was_saved_uses_the_saved_value() -> None:
    """torch refuses this backward (the saved ``y`` was modified); portable_dl's rebasing in-place ops leave
    the old array intact, so the recorded graph is still exact: it gives the gradient of what was computed."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward(torch.ones(2))

    def run(m, in_place: bool):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = y * y
        if in_place:
            y.add_(1)
        z.backward(m.ones(2))
        return z, x.grad

    check(run(pdl, True), run(torch, False))


def test_in_place_on_constant_after_it_was_saved_uses_the_saved_value() -> None:
    def run(m, in_place: bool):
        w = m.tensor([2.0, 3.0], requires_grad=True)
        buf = m.tensor([1.0, -1.0])
        y = buf * w
        if in_place:
            buf.add_(w)  # rebases buf; the product saw the old buf
        y.backward(m.ones(2))
        return y, w.grad

    check(run(pdl, True), run(torch, False))


def test_in_place_with_grad_requiring_other_on_plain_tensor() -> None:
    def run(m):
        w = m.tensor([2.0, 3.0], requires_grad=True)
        buf = m.zeros(2)
        buf.add_(w * w)
        assert buf.requires_grad and not buf.is_leaf
        buf.backward(m.ones(2))
        return buf.detach().clone(), w.grad

    check(*both(run))


def test_in_place_multiply_plain_buffer_by_grad_tensor() -> None:
    def run(m):
        w = m.tensor([2.0, 3.0], requires_grad=True)
        buf = m.tensor([1.0, -1.0])
        buf.mul_(w)
        buf.mul_(w)
        buf.backward(m.ones(2))
        return buf.detach().clone(), w.grad

    check(*both(run))


def test_in_place_second_order() -> None:
    def run(m):
        x = m.tensor([0.5, 1.5], requires_grad=True)
        y = x * x
        y.mul_(x)
        (g,) = m.autograd.grad(y, x, m.ones(2), create_graph=True)
        (g2,) = m.autograd.grad(g, x, m.ones(2))
        return g, g2

    check(*both(run))


@needs_exp
def test_in_place_on_saved_output_after_grad_mode_op() -> None:
    """exp saves its output; torch refuses the backward after ``y.mul_(2)``, portable_dl still has the old
    array (the in-place op rebased ``y`` onto a new one) and gives the exact gradient of the recorded graph."""

    def run(m, in_place: bool):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        if in_place:
            y.mul_(2)
        y.backward(m.ones(2))
        return x.grad

    check(run(pdl, True), torch.tensor([1.0, 2.0]).exp() * 2)
    check(run(pdl, False), run(torch, False))


@needs_exp
def test_no_grad_in_place_on_saved_output_raises() -> None:
    for m in (torch, pdl):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        with m.no_grad():
            y.mul_(2)  # writes into the saved array itself
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward(m.ones(2))


def test_expand_view_gradient() -> None:
    def run(m):
        x = m.tensor([[1.0], [2.0]], requires_grad=True)
        y = x.expand(2, 3) * m.tensor([1.0, 2.0, 3.0])
        y.backward(m.ones(2, 3))
        return x.grad

    check(*both(run))


# ----- dtypes of gradients ---------------------------------------------------------------------------


def test_gradient_dtypes_follow_inputs() -> None:
    def run(m):
        a = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        b = m.tensor([1.0, 2.0], dtype=m.float32, requires_grad=True)
        h = m.tensor([1.0, 2.0], dtype=m.float16, requires_grad=True)
        (a * b + h).backward(m.ones(2, dtype=m.float64))
        return a.grad, b.grad, h.grad

    check(*both(run))
