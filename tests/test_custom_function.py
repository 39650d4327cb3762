"""User-defined autograd.Function, written once and run on both portable_dl and torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import portable_dl as pdl

from .test_autograd import check


def both(fn):
    return fn(pdl), fn(torch)


def functions(m):
    """The same custom Functions, spelled identically for either framework."""

    class Cube(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x  # differentiable: double backward works

    class ScaleShift(m.autograd.Function):
        """Non-tensor arguments, needs_input_grad, ctx attributes."""

        @staticmethod
        def forward(ctx, x, scale, w, shift=0.0):
            ctx.scale = scale
            ctx.save_for_backward(x, w)
            ctx.flags = tuple(ctx.needs_input_grad)
            return x * w * scale + shift

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            gx = grad * w * ctx.scale if ctx.needs_input_grad[0] else None
            gw = grad * x * ctx.scale if ctx.needs_input_grad[2] else None
            return gx, None, gw, None

    class SplitSigns(m.autograd.Function):
        """Two float outputs and one integer output marked non-differentiable."""

        @staticmethod
        def forward(ctx, x):
            pos = x * (x > 0)
            neg = x * (x <= 0)
            mask = (x > 0).long()
            ctx.mark_non_differentiable(mask)
            ctx.save_for_backward(mask)
            return pos, neg, mask

        @staticmethod
        def backward(ctx, g_pos, g_neg, g_mask):
            (mask,) = ctx.saved_tensors
            return g_pos * mask + g_neg * (1 - mask)

    class SaveOutput(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x * x
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out  # a strange but well-defined derivative

    class Identity(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    class NoMaterialize(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.seen = (g1 is None, g2 is None)
            total = None
            for g, k in ((g1, 1), (g2, 2)):
                if g is not None:
                    total = g * k if total is None else total + g * k
            return total

    class Materialize(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.seen = (g1 is None, g2 is None)
            return g1 + g2 * 2

    return {"Cube": Cube, "ScaleShift": ScaleShift, "SplitSigns": SplitSigns, "SaveOutput": SaveOutput,
            "Identity": Identity, "NoMaterialize": NoMaterialize, "Materialize": Materialize}  # fmt: skip


X = np.array([0.5, -1.5, 2.0], np.float32)
W = np.array([1.0, 2.0, -0.5], np.float32)


def test_forward_backward_and_saved_tensors() -> None:
    def run(m):
        x = m.tensor(X, requires_grad=True)
        y = functions(m)["Cube"].apply(x)
        assert y.requires_grad and y.grad_fn.name() == "CubeBackward"
        y.backward(m.ones(3))
        return y, x.grad

    check(*both(run))


def test_double_backward_through_custom_function() -> None:
    def run(m):
        x = m.tensor(X, requires_grad=True)
        y = functions(m)["Cube"].apply(x * 2) * x
        (g,) = m.autograd.grad(y, x, m.ones(3), create_graph=True)
        (g2,) = m.autograd.grad(g, x, m.ones(3), create_graph=True)
        (g3,) = m.autograd.grad(g2, x, m.ones(3))
        return g, g2, g3

    check(*both(run), rtol=1e-5)


def test_non_tensor_arguments_and_needs_input_grad() -> None:
    def run(m):
        f = functions(m)["ScaleShift"]
        x = m.tensor(X, requires_grad=True)
        w = m.tensor(W)
        y = f.apply(x, 3.0, w, 1.0)
        flags = y.grad_fn.flags
        y.backward(m.ones(3))
        x2 = m.tensor(X)
        w2 = m.tensor(W, requires_grad=True)
        y2 = f.apply(x2, 2.0, w2)
        flags2 = y2.grad_fn.flags
        y2.backward(m.ones(3))
        return y, x.grad, w.grad, flags, y2, w2.grad, flags2

    (y, gx, gw, flags, y2, gw2, flags2), (ty, tgx, tgw, tflags, ty2, tgw2, tflags2) = both(run)
    check([y, gx, gw, y2, gw2], [ty, tgx, tgw, ty2, tgw2])
    assert flags == tflags == (True, False, False, False)
    assert flags2 == tflags2 == (False, False, True)


def test_no_input_requires_grad() -> None:
    for m in (pdl, torch):
        y = functions(m)["Cube"].apply(m.tensor(X))
        assert not y.requires_grad and y.grad_fn is None
        x = m.tensor(X, requires_grad=True)
        with m.no_grad():
            y = functions(m)["Cube"].apply(x)
        assert not y.requires_grad and y.grad_fn is None


def _probe_forward(m) -> list:
    seen = []

    class Probe(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(m.is_grad_enabled())
            inner = x * 2
            seen.append(inner.requires_grad)
            return inner

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    Probe.apply(m.ones(2, requires_grad=True))
    return seen


def test_forward_runs_without_grad() -> None:
    assert _probe_forward(pdl) == _probe_forward(torch) == [False, False]


def test_multiple_outputs_and_non_differentiable() -> None:
    def run(m):
        x = m.tensor(X, requires_grad=True)
        pos, neg, mask = functions(m)["SplitSigns"].apply(x)
        assert pos.requires_grad and neg.requires_grad and not mask.requires_grad
        assert mask.dtype == m.int64
        (pos * 3 + neg * 5).backward(m.ones(3))
        return pos, neg, mask, x.grad

    check(*both(run))


def test_only_one_output_used() -> None:
    def run(m):
        x = m.tensor(X, requires_grad=True)
        pos, _, _ = functions(m)["SplitSigns"].apply(x)
        pos.backward(m.ones(3))
        return x.grad

    check(*both(run))


def test_materialize_grads() -> None:
    def run(m):
        fs = functions(m)
        x = m.tensor(X, requires_grad=True)
        a, _ = fs["Materialize"].apply(x)
        a.backward(m.ones(3))
        seen_materialized = a.grad_fn.seen
        grad_materialized = x.grad.clone()
        x.grad = None
        _, b = fs["NoMaterialize"].apply(x)
        b.backward(m.ones(3))
        return grad_materialized, x.grad, seen_materialized, b.grad_fn.seen

    (g1, g2, seen1, seen2), (tg1, tg2, tseen1, tseen2) = both(run)
    check([g1, g2], [tg1, tg2])
    assert seen1 == tseen1 == (False, False)
    assert seen2 == tseen2 == (True, False)


def test_saved_output() -> None:
    def run(m):
        x = m.tensor(X, requires_grad=True)
        y = functions(m)["SaveOutput"].apply(x)
        (g,) = m.autograd.grad(y, x, m.ones(3), create_graph=True)
        (g2,) = m.autograd.grad(g, x, m.ones(3))
        return y, g, g2

    check(*both(run))


def test_returning_input_unchanged() -> None:
    def run(m):
        x = m.tensor(X, requires_grad=True)
        y = functions(m)["Identity"].apply(x)
        assert y is not x and not y.is_leaf
        y.backward(m.ones(3))
        return y, x.grad

    check(*both(run))


def test_saved_tensors_freed_after_backward() -> None:
    for m in (pdl, torch):
        x = m.tensor(X, requires_grad=True)
        y = functions(m)["Cube"].apply(x)
        y.backward(m.ones(3))
        with pytest.raises(RuntimeError, match="backward through the graph a second time|already been freed"):
            y.backward(m.ones(3))


def test_in_place_on_saved_input_detected() -> None:
    for m in (pdl, torch):
        x = m.tensor(X, requires_grad=True)
        h = x * 1
        y = functions(m)["Cube"].apply(h)
        with m.no_grad():
            h.add_(1)  # overwrites the saved values
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward(m.ones(3))


def test_rebased_saved_input_keeps_its_old_value() -> None:
    """A grad-mode in-place op rebases ``h`` onto a new array (torch would refuse this backward instead);
    the Function's saved ``h`` must still be the value it saw, so the gradient is exact."""

    def run(m, in_place: bool):
        x = m.tensor(X, requires_grad=True)
        h = x * 1
        y = functions(m)["Cube"].apply(h)
        if in_place:
            h.add_(1)
        y.backward(m.ones(3))
        return y, x.grad

    check(run(pdl, True), run(torch, False))


def test_mark_dirty() -> None:
    def run(m):
        class AddOneInPlace(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad

        x = m.tensor(X, requires_grad=True)
        h = x * 2
        y = AddOneInPlace.apply(h)
        (y * 3).backward(m.ones(3))
        return y, x.grad

    check(*both(run))


def test_wrong_number_of_gradients() -> None:
    for m in (pdl, torch):

        class Bad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                return x * w

            @staticmethod
            def backward(ctx, grad):
                return (grad,)

        y = Bad.apply(m.ones(2, requires_grad=True), m.ones(2, requires_grad=True))
        with pytest.raises(RuntimeError, match="incorrect number of gradients"):
            y.backward(m.ones(2))


def test_once_differentiable_decorator_accepted() -> None:
    class Double(pdl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @pdl.autograd.once_differentiable
        def backward(ctx, grad):
            return grad * 2

    x = pdl.tensor([1.0], requires_grad=True)
    Double.apply(x).backward(pdl.ones(1))
    assert x.grad.tolist() == [2.0]


def test_custom_function_inside_larger_graph() -> None:
    def run(m):
        fs = functions(m)
        x = m.tensor(X, requires_grad=True)
        w = m.tensor(W, requires_grad=True)
        h = fs["ScaleShift"].apply(x, 0.5, w)
        y = fs["Cube"].apply(h + x) / (w * w + 1)
        y.backward(m.tensor([1.0, -1.0, 2.0]))
        return y, x.grad, w.grad

    check(*both(run), rtol=1e-5)
