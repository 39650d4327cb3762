"""A whole LSTM layer (one direction) as one op: the recurrence runs in one forward call and back-
propagation through time in one backward call, with the weight gradient as a single GEMM over all steps.

Op-per-step autograd costs a graph node per gate per step and one weight-gradient GEMM per step; fusing
the layer removes both. The differentiable ``backward`` (used for double backward) recomputes the layer
step by step with Tensor ops and differentiates that, so higher-order gradients stay exact.
"""

from __future__ import annotations

from typing import Any

from ..autograd.engine import grad as autograd_grad
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from .linalg import linear
from .shape_join import stack

__all__: list[str] = []
FUNCTIONAL: list[str] = []
TENSOR_METHODS: dict = {}


class LSTMLayer(Function):
    """``(gates_in, h0, c0, w_hh, b_hh, reverse) -> (output, h_n, c_n)``; ``gates_in`` is ``x @ W_ih.T + b_ih``
    for the whole sequence, shape (T, B, 4H); gate order i, f, g, o as in PyTorch."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, gates_in: Any, h0: Any, c0: Any, w_hh: Any, b_hh: Any, reverse: bool) -> Any:
        xp = ctx.xp
        steps, batch = gates_in.shape[0], gates_in.shape[1]
        hidden = h0.shape[-1]
        dtype = gates_in.dtype
        acts = xp.empty((steps, batch, 4 * hidden), dtype=dtype)  # gate activations i, f, g, o
        cells = xp.empty((steps, batch, hidden), dtype=dtype)
        out = xp.empty((steps, batch, hidden), dtype=dtype)
        pre = gates_in if b_hh is None else gates_in + b_hh
        w_t = xp.ascontiguousarray(w_hh.T)  # BLAS is faster on a contiguous right operand
        h, c = h0, c0
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        gs = slice(2 * hidden, 3 * hidden)
        for t in order:
            z = h @ w_t
            z += pre[t]
            a = acts[t]
            xp.negative(z, out=a)  # sigmoid, in place in the activation buffer
            xp.exp(a, out=a)
            a += 1
            xp.reciprocal(a, out=a)
            xp.tanh(z[:, gs], out=a[:, gs])
            c_t = cells[t]
            xp.multiply(a[:, hidden : 2 * hidden], c, out=c_t)
            c_t += a[:, :hidden] * a[:, gs]
            h = out[t]
            xp.tanh(c_t, out=h)
            h *= a[:, 3 * hidden :]
            c = c_t
        ctx.reverse = reverse
        ctx.save_for_backward(gates_in, h0, c0, w_hh, b_hh, acts, cells, out)
        if not steps:
            return out, h0.copy(), c0.copy()
        return out, h.copy(), c.copy()

    @staticmethod
    def backward_arrays(ctx: Any, g_out: Any, g_hn: Any, g_cn: Any) -> Any:
        xp = ctx.xp
        gates_in, h0, c0, w_hh, b_hh, acts, cells, out = ctx.saved_arrays
        steps, batch, hidden = out.shape
        order = list(range(steps - 1, -1, -1) if ctx.reverse else range(steps))
        gs = slice(2 * hidden, 3 * hidden)
        # Whole-sequence factors first (a few large ops), so each step is only a handful of small ones.
        tanh_c = xp.tanh(cells)
        deriv = acts * (1 - acts)  # sigmoid' for i, f, o
        deriv[..., gs] = 1 - acts[..., gs] * acts[..., gs]  # tanh' for g
        dc_from_h = acts[..., 3 * hidden :] * (1 - tanh_c * tanh_c)
        dh = xp.zeros((batch, hidden), dtype=out.dtype) if g_hn is None else g_hn.copy()
        dc = xp.zeros((batch, hidden), dtype=out.dtype) if g_cn is None else g_cn.copy()
        dz_all = xp.empty_like(acts)
        h_prev_all = xp.empty_like(out)
        for k in range(len(order) - 1, -1, -1):
            t = order[k]
            prev = order[k - 1] if k else None
            c_prev = c0 if prev is None else cells[prev]
            h_prev_all[t] = h0 if prev is None else out[prev]
            if g_out is not None:
                dh += g_out[t]
            dc += dh * dc_from_h[t]
            a, dz = acts[t], dz_all[t]
            xp.multiply(dc, a[:, gs], out=dz[:, :hidden])
            xp.multiply(dc, c_prev, out=dz[:, hidden : 2 * hidden])
            xp.multiply(dc, a[:, :hidden], out=dz[:, gs])
            xp.multiply(dh, tanh_c[t], out=dz[:, 3 * hidden :])
            dz *= deriv[t]
            dc = dc * a[:, hidden : 2 * hidden]
            dh = dz @ w_hh
        flat_dz = dz_all.reshape(-1, 4 * hidden)
        need = ctx.needs_input_grad
        d_w = flat_dz.T @ h_prev_all.reshape(-1, hidden) if need[3] else None
        d_b = flat_dz.sum(0) if b_hh is not None and need[4] else None
        return dz_all if need[0] else None, dh if need[1] else None, dc if need[2] else None, d_w, d_b, None

    @staticmethod
    def backward(ctx: Any, g_out: Tensor, g_hn: Tensor, g_cn: Tensor) -> Any:
        gates_in, h0, c0, w_hh, b_hh = ctx.saved_tensors[:5]
        inputs = [gates_in, h0, c0, w_hh, b_hh]
        wanted = [k for k, t in enumerate(inputs) if t is not None and ctx.needs_input_grad[k] and t.requires_grad]
        with enable_grad():
            out, h_n, c_n = lstm_layer_by_steps(gates_in, h0, c0, w_hh, b_hh, ctx.reverse)
        pairs = [(o, g) for o, g in ((out, g_out), (h_n, g_hn), (c_n, g_cn)) if g is not None]
        grads = autograd_grad(
            [o for o, _ in pairs], [inputs[k] for k in wanted], [g for _, g in pairs],
            create_graph=True, allow_unused=True,
        )  # fmt: skip
        result: list = [None] * 6
        for k, g in zip(wanted, grads):
            result[k] = g
        return tuple(result)


def lstm_layer_by_steps(gates_in: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Any, reverse: bool) -> tuple:
    """The same layer written with one Tensor op per gate and step (differentiable to any order)."""
    steps = gates_in.shape[0]
    outs: list = [None] * steps
    for t in range(steps - 1, -1, -1) if reverse else range(steps):
        i, f, g, o = (gates_in[t] + linear(h, w_hh, b_hh)).chunk(4, -1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        outs[t] = h
    return stack(outs, 0), h, c
