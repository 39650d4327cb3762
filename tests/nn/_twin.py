"""Torch-twin helpers for the layer tests: copy a torch module's state into ours, then compare forward
outputs and the gradients with respect to the inputs and every parameter."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import portable_dl as pdl


def load_from_torch(ours: Any, theirs: torch.nn.Module) -> None:
    state = {k: pdl.tensor(v.detach().cpu().numpy().copy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)


def _np(t: Any) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return t.detach().cpu().numpy()


def check_twin(
    ours: Any,
    theirs: torch.nn.Module,
    inputs: list,
    *,
    grad: bool = True,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    load: bool = True,
    seed: int = 0,
) -> tuple:
    """Run both modules on the same inputs (numpy arrays; integer arrays get no gradient); compare output,
    input gradients and parameter gradients. Returns (our output, torch output)."""
    if load:
        load_from_torch(ours, theirs)
    assert list(ours.state_dict().keys()) == list(theirs.state_dict().keys())
    p_in, t_in = [], []
    for a in inputs:
        if isinstance(a, np.ndarray):
            floating = np.issubdtype(a.dtype, np.floating)
            p = pdl.tensor(a.copy())
            t = torch.from_numpy(a.copy())
            if grad and floating:
                p.requires_grad_(True)
                t.requires_grad_(True)
            p_in.append(p)
            t_in.append(t)
        else:
            p_in.append(a)
            t_in.append(a)
    p_out = ours(*p_in)
    t_out = theirs(*t_in)
    p_first = p_out[0] if isinstance(p_out, tuple) else p_out
    t_first = t_out[0] if isinstance(t_out, tuple) else t_out
    assert tuple(p_first.shape) == tuple(t_first.shape)
    np.testing.assert_allclose(_np(p_first), _np(t_first), rtol=rtol, atol=atol)
    if isinstance(p_out, tuple):  # e.g. (values, indices)
        for a, b in zip(p_out[1:], t_out[1:]):
            np.testing.assert_array_equal(_np(a), _np(b))
    if not grad or not t_first.requires_grad:
        return p_out, t_out
    g = np.random.default_rng(seed).standard_normal(tuple(t_first.shape)).astype(_np(t_first).dtype)
    (p_first * pdl.tensor(g)).sum().backward()
    (t_first * torch.from_numpy(g)).sum().backward()
    for p, t in zip(p_in, t_in):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            np.testing.assert_allclose(_np(p.grad), _np(t.grad), rtol=rtol, atol=atol)
    t_params = dict(theirs.named_parameters())
    p_params = dict(ours.named_parameters())
    assert list(p_params) == list(t_params)
    for name, tp in t_params.items():
        pp = p_params[name]
        if tp.grad is None:
            assert pp.grad is None or not np.any(_np(pp.grad)), name
        else:
            np.testing.assert_allclose(_np(pp.grad), _np(tp.grad), rtol=rtol, atol=atol, err_msg=name)
    return p_out, t_out


def check_buffers(ours: Any, theirs: torch.nn.Module, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    t_buf = dict(theirs.named_buffers())
    p_buf = dict(ours.named_buffers())
    assert list(p_buf) == list(t_buf)
    for name, tb in t_buf.items():
        pb = _np(p_buf[name])
        assert pb.dtype == _np(tb).dtype, name
        np.testing.assert_allclose(pb, _np(tb), rtol=rtol, atol=atol, err_msg=name)
