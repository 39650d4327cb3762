"""The parity helper: run one op in PyTorch and in portable_dl on the same seeded inputs, compare
forward values, dtypes and shapes exactly, then gradients (and optionally second derivatives).

Usage::

    parity(lambda x, y: x * y, [rng.standard_normal((2, 3)), rng.standard_normal(3)])
    parity(pdl_fn, torch_fn, inputs, ...)   # when the two spellings differ

``fn`` receives the framework's tensors (and passes non-array inputs through unchanged);
``torch_fn`` defaults to ``fn`` itself, which works whenever the code is spelled the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

import portable_dl as pdl


def _is_array(v: Any) -> bool:
    return isinstance(v, np.ndarray)


def to_torch(v: Any, requires_grad: bool) -> Any:
    if not _is_array(v):
        return v
    t = torch.from_numpy(np.array(v, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def to_pdl(v: Any, requires_grad: bool, device: str) -> Any:
    if not _is_array(v):
        return v
    t = pdl.tensor(np.array(v, copy=True), device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_numpy(t: Any) -> Any:
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy(force=t._is_zerotensor())  # torch's double backward may give a ZeroTensor
    if isinstance(t, pdl.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def _flatten(out: Any) -> list:
    if isinstance(out, (tuple, list)):
        result = []
        for o in out:
            result.extend(_flatten(o))
        return result
    if hasattr(out, "values") and hasattr(out, "indices") and not isinstance(out, (torch.Tensor, pdl.Tensor)):
        return [out.values, out.indices]
    return [out]


def assert_same(ours: Any, theirs: Any, atol: float, rtol: float, what: str) -> None:
    """Same shape, same dtype name, values close (nan where torch has nan)."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, pdl.Tensor), f"{what}: expected a Tensor, got {type(ours).__name__}"
        assert tuple(ours.shape) == tuple(theirs.shape), (
            f"{what}: shape {tuple(ours.shape)} != torch {tuple(theirs.shape)}"
        )
        theirs_dtype = str(theirs.dtype).replace("torch.", "")
        assert ours.dtype.name == theirs_dtype, f"{what}: dtype {ours.dtype.name} != torch {theirs_dtype}"
        a, b = as_numpy(ours), as_numpy(theirs)
        if a.dtype.kind in "biu":
            np.testing.assert_array_equal(a, b, err_msg=what)
        else:
            np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), atol=atol, rtol=rtol,
                                       equal_nan=True, err_msg=what)  # fmt: skip
    else:
        assert not isinstance(ours, pdl.Tensor) or ours.numel() == 1, f"{what}: torch gave {theirs!r}"
        assert ours == theirs or (
            isinstance(theirs, float) and np.isclose(float(ours), theirs, atol=atol, rtol=rtol)
        ), f"{what}: {ours!r} != torch {theirs!r}"


def _tolerances(inputs: Sequence[Any], atol: float | None, rtol: float | None) -> tuple[float, float]:
    kinds = {v.dtype for v in inputs if _is_array(v) and v.dtype.kind == "f"}
    if np.dtype(np.float16) in kinds:
        return atol or 1e-2, rtol or 1e-2
    if kinds == {np.dtype(np.float64)}:
        return atol or 1e-10, rtol or 1e-8
    return atol or 1e-5, rtol or 1e-4


def parity(
    fn: Callable,
    inputs: Sequence[Any],
    torch_fn: Callable | None = None,
    *,
    grad: bool = True,
    double: bool = False,
    atol: float | None = None,
    rtol: float | None = None,
    grad_atol: float | None = None,
    grad_rtol: float | None = None,
    device: str = "cpu",
    seed: int = 0,
    requires_grad: Sequence[int] | None = None,
) -> tuple[list, list]:
    """Compare ``fn`` on portable_dl tensors with ``torch_fn`` (default ``fn``) on torch tensors.

    Forward outputs must match in shape, dtype and value. With ``grad``, a random cotangent
    (the same for both) is pulled back to every float input; with ``double``, the gradients
    are differentiated again (against a second random cotangent). ``requires_grad`` picks
    which inputs are differentiated (default: every float array).
    """
    torch_fn = fn if torch_fn is None else torch_fn
    atol, rtol = _tolerances(inputs, atol, rtol)
    g_atol, g_rtol = grad_atol or atol * 10, grad_rtol or rtol * 10
    if requires_grad is None:
        requires_grad = [i for i, v in enumerate(inputs) if _is_array(v) and v.dtype.kind == "f"] if grad else []
    t_in = [to_torch(v, i in requires_grad) for i, v in enumerate(inputs)]
    p_in = [to_pdl(v, i in requires_grad, device) for i, v in enumerate(inputs)]
    t_out = _flatten(torch_fn(*t_in))
    p_out = _flatten(fn(*p_in))
    assert len(p_out) == len(t_out), f"{len(p_out)} outputs, torch gives {len(t_out)}"
    for i, (o, t) in enumerate(zip(p_out, t_out)):
        assert_same(o, t, atol, rtol, f"output {i}")
        if isinstance(t, torch.Tensor) and o.device.type != device.split(":")[0]:
            raise AssertionError(f"output {i} is on {o.device}, expected {device}")
    if not grad or not requires_grad:
        return p_out, t_out
    rng = np.random.default_rng(seed + 1)
    diff = [i for i, t in enumerate(t_out) if isinstance(t, torch.Tensor) and t.requires_grad]
    if not diff:
        return p_out, t_out
    cot = [rng.standard_normal(t_out[i].shape).astype(as_numpy(t_out[i]).dtype) for i in diff]
    t_wrt = [t_in[i] for i in requires_grad]
    p_wrt = [p_in[i] for i in requires_grad]
    t_grads = torch.autograd.grad([t_out[i] for i in diff], t_wrt, [torch.from_numpy(c.copy()) for c in cot],
                                  allow_unused=True, create_graph=double)  # fmt: skip
    for i in diff:
        assert p_out[i].requires_grad, f"output {i} should require grad"
    p_cot = [pdl.tensor(c, device=device) for c in cot]
    p_diff = [p_out[i] for i in diff]
    # The graph-free backward (``backward_arrays`` fast paths) always runs; with ``double`` the
    # differentiable backward formulas run too, so both spellings of every gradient are checked.
    passes = [False, True] if double else [False]
    for create_graph in passes:
        p_grads = pdl.autograd.grad(p_diff, p_wrt, p_cot, allow_unused=True, retain_graph=True,
                                    create_graph=create_graph)  # fmt: skip
        for k, (pg, tg) in enumerate(zip(p_grads, t_grads)):
            name = f"grad of input {requires_grad[k]} (create_graph={create_graph})"
            if tg is None:
                assert pg is None or not np.any(as_numpy(pg)), f"{name}: torch has no gradient, got {pg}"
                continue
            assert pg is not None, f"{name}: missing (torch has one)"
            assert_same(pg, tg, g_atol, g_rtol, name)
    if double:
        _check_double(p_grads, t_grads, p_wrt, t_wrt, rng, device, g_atol * 10, g_rtol * 10)
    return p_out, t_out


def _check_double(p_grads: Any, t_grads: Any, p_wrt: list, t_wrt: list, rng: Any, device: str,
                  atol: float, rtol: float) -> None:  # fmt: skip
    pairs = [(p, t) for p, t in zip(p_grads, t_grads) if t is not None and t.requires_grad]
    if not pairs:
        return
    cot = [rng.standard_normal(t.shape).astype(as_numpy(t).dtype) for _, t in pairs]
    t2 = torch.autograd.grad([t for _, t in pairs], t_wrt, [torch.from_numpy(c.copy()) for c in cot], allow_unused=True)
    # A first gradient that needs no graph is constant: its second derivatives are zero (torch may still flag
    # it requires_grad, e.g. conv's bias gradient from a fused backward node), so it is left out here.
    live = [(p, c) for (p, _), c in zip(pairs, cot) if p is not None and p.requires_grad]
    p2 = pdl.autograd.grad([p for p, _ in live], p_wrt, [pdl.tensor(c, device=device) for _, c in live],
                           allow_unused=True) if live else [None] * len(p_wrt)  # fmt: skip
    for k, (pg, tg) in enumerate(zip(p2, t2)):
        if tg is None or (pg is None and not np.any(as_numpy(tg))):  # None and all-zero are the same answer
            assert pg is None or not np.any(as_numpy(pg)), f"second derivative {k}: torch has none, got {pg}"
            continue
        assert pg is not None, f"second derivative {k}: missing (torch has one)"
        assert_same(pg, tg, atol, rtol, f"second derivative of input {k}")


def gradcheck(fn: Callable, inputs: Sequence[np.ndarray], *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-4, seed: int = 0, double: bool = False) -> None:  # fmt: skip
    """Check portable_dl's gradients of ``fn`` against central finite differences (float64 inputs).

    With ``double``, also checks the second derivative: d/dx <grad(x), u> by finite differences.
    """
    rng = np.random.default_rng(seed)
    xs = [pdl.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in inputs]
    out = fn(*xs)
    cot = rng.standard_normal(tuple(out.shape))

    def scalar(arrays: list) -> float:
        with pdl.no_grad():
            value = fn(*[pdl.tensor(a) for a in arrays])
        return float(np.sum(as_numpy(value) * cot))

    grads = pdl.autograd.grad(out, xs, pdl.tensor(cot), create_graph=double, allow_unused=True)
    base = [np.asarray(v, dtype=np.float64).copy() for v in inputs]
    for k, g in enumerate(grads):
        numeric = _finite_difference(scalar, base, k, eps)
        analytic = np.zeros_like(numeric) if g is None else as_numpy(g)
        np.testing.assert_allclose(analytic, numeric, atol=atol, rtol=rtol, err_msg=f"gradient of input {k}")
    if double:
        u = [rng.standard_normal(v.shape) for v in base]
        live = [(g, pdl.tensor(uk)) for g, uk in zip(grads, u) if g is not None and g.requires_grad]
        if not live:
            return
        total = sum((g * uk).sum() for g, uk in live)
        second = pdl.autograd.grad(total, xs, allow_unused=True)

        def first_dot(arrays: list) -> float:
            ys = [pdl.tensor(a, requires_grad=True) for a in arrays]
            gs = pdl.autograd.grad(fn(*ys), ys, pdl.tensor(cot), allow_unused=True)
            return float(sum(np.sum(as_numpy(g) * uk) for g, uk in zip(gs, u) if g is not None))

        for k, g in enumerate(second):
            numeric = _finite_difference(first_dot, base, k, eps)
            analytic = np.zeros_like(numeric) if g is None else as_numpy(g)
            np.testing.assert_allclose(analytic, numeric, atol=atol * 10, rtol=rtol * 10,
                                       err_msg=f"second derivative of input {k}")  # fmt: skip


def _finite_difference(f: Callable, base: list, k: int, eps: float) -> np.ndarray:
    grad = np.zeros_like(base[k])
    flat = base[k].reshape(-1)
    out = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        hi = f(base)
        flat[i] = old - eps
        lo = f(base)
        flat[i] = old
        out[i] = (hi - lo) / (2 * eps)
    return grad
