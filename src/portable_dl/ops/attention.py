"""``scaled_dot_product_attention`` as one fused Function, with torch's semantics.

``softmax(q @ k^T * scale + bias) @ v`` where the bias comes from ``attn_mask`` (bool: True takes
part, False is -inf; float: added) and ``is_causal`` (lower-triangular (L, S) mask). Rows with no
position taking part give zeros, as torch's ``_safe_softmax`` does. The array backward is analytic;
the Tensor backward recomputes the attention weights with Tensor ops (so double backward works).
"""

from __future__ import annotations

import math
from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._common import cast
from .broadcast import _sum_to, broadcast_shapes, sum_to
from .softmax import Softmax, SoftmaxBackward, softmax_array


class _RepeatHeads(Function):
    """``repeat_interleave(rep, dim=-3)`` for grouped-query attention; the gradient sums each group."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, rep: int) -> Any:
        ctx.rep = rep
        return ctx.xp.repeat(x, rep, axis=-3)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        return _GroupSum.apply(g, ctx.rep), None

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        return _group_sum(g, ctx.rep), None


def _group_sum(g: Any, rep: int) -> Any:
    shape = g.shape
    return g.reshape(shape[:-3] + (shape[-3] // rep, rep) + shape[-2:]).sum(axis=-3)


class _GroupSum(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, g: Any, rep: int) -> Any:
        ctx.rep = rep
        return _group_sum(g, rep)

    @staticmethod
    def backward(ctx: Any, h: Tensor) -> Any:
        return _RepeatHeads.apply(h, ctx.rep), None

    @staticmethod
    def backward_arrays(ctx: Any, h: Any) -> Any:
        return ctx.xp.repeat(h, ctx.rep, axis=-3), None


def _bias(xp: Any, mask: Any, causal: bool, shape: tuple, dtype: Any) -> Any:
    """The additive mask as an array (or None): 0 where attention is allowed, -inf where not."""
    bias = None
    if causal:
        length, source = shape[-2], shape[-1]
        bias = xp.where(xp.tri(length, source, dtype=bool), dtype.type(0), dtype.type(-xp.inf))
    if mask is not None and mask.dtype == xp.bool_:
        mbias = xp.where(mask, dtype.type(0), dtype.type(-xp.inf))
        bias = mbias if bias is None else bias + mbias
    return bias


def _add(s: Any, b: Any) -> Any:
    """``s + b``, in place when ``b`` broadcasts into ``s``."""
    if broadcast_shapes(s.shape, b.shape) == s.shape:
        s += b
        return s
    return s + b


def _swap(a: Any) -> Any:
    return a.swapaxes(-1, -2)


class _SDPA(Function):
    """The fused attention. Inputs: q, k, v (k and v already repeated for GQA), an optional float mask."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, q: Any, k: Any, v: Any, fmask: Any, bmask: Any, causal: bool, scale: float,
                dropout_p: float) -> Any:  # fmt: skip
        xp = ctx.xp
        dt = q.dtype
        s = q @ _swap(k)
        s *= dt.type(scale)
        bias = _bias(xp, bmask, causal, s.shape, dt)
        if bias is not None:
            s = _add(s, bias)
        if fmask is not None:
            s = _add(s, fmask)
        p = softmax_array(xp, s, -1, safe=True)
        noise = None
        if dropout_p > 0:
            keep = ctx.backend.generator().random(p.shape, dtype=xp.float32) >= dropout_p
            noise = keep.astype(dt)
            noise /= dt.type(1 - dropout_p)
            pd = p * noise
        else:
            pd = p
        ctx.cfg = (scale, q.shape, k.shape, v.shape, None if fmask is None else fmask.shape)
        ctx.save_for_backward(q, k, v, p, noise, fmask, bias)
        return pd @ v

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        q, k, v, p, noise, _, _ = ctx.saved_arrays
        scale, qs, ks, vs, ms = ctx.cfg
        xp = ctx.xp
        need_q, need_k, need_v, need_m = ctx.needs_input_grad[:4]
        gq = gk = gv = gm = None
        pd = p if noise is None else p * noise
        if need_v:
            gv = _sum_to(xp, _swap(pd) @ g, vs)
        if need_q or need_k or need_m:
            dp = g @ _swap(v)
            if noise is not None:
                dp *= noise
            ds = dp * p
            ds -= p * ds.sum(axis=-1, keepdims=True)
            if need_m:
                gm = _sum_to(xp, ds, ms)
            ds *= ds.dtype.type(scale)
            if need_q:
                gq = _sum_to(xp, ds @ k, qs)
            if need_k:
                gk = _sum_to(xp, _swap(ds) @ q, ks)
        return gq, gk, gv, gm, None, None, None, None

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        q, k, v, _, noise, fmask, bias = ctx.saved_tensors
        scale, qs, ks, vs, ms = ctx.cfg
        need_q, need_k, need_v, need_m = ctx.needs_input_grad[:4]
        s = q @ k.transpose(-2, -1) * scale
        if bias is not None:
            s = s + bias
        if fmask is not None:
            s = s + fmask
        p = Softmax.apply(s, -1, True)
        pd = p if noise is None else p * noise
        gq = gk = gv = gm = None
        if need_v:
            gv = sum_to(pd.transpose(-2, -1) @ g, vs)
        if need_q or need_k or need_m:
            dp = g @ v.transpose(-2, -1)
            if noise is not None:
                dp = dp * noise
            ds = SoftmaxBackward.apply(dp, p, -1)
            if need_m:
                gm = sum_to(ds, ms)
            ds = ds * scale
            if need_q:
                gq = sum_to(ds @ k, qs)
            if need_k:
                gk = sum_to(ds.transpose(-2, -1) @ q, ks)
        return gq, gk, gv, gm, None, None, None, None


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:  # fmt: skip
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims (any leading batch dims).

    ``attn_mask``: bool (True takes part) or float (added, and differentiable), broadcast to (..., L, S);
    ``is_causal``: a lower-triangular (L, S) mask; ``enable_gqa``: key/value heads (dim -3) are shared by
    groups of query heads. ``dropout_p`` drops attention weights (always, as in torch).
    """
    q, k, v = query, key, value
    qa, ka, va = q._data, k._data, v._data
    qs, ks, vs = qa.shape, ka.shape, va.shape
    if len(qs) < 2 or len(ks) < 2 or len(vs) < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
            f"{len(qs)} key.dim: {len(ks)} and value.dim: {len(vs)} instead."
        )
    dt = qa.dtype
    if ka.dtype != dt or va.dtype != dt:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{q.dtype} key.dtype: {k.dtype} and value.dtype: {v.dtype} instead."
        )
    if dt.kind != "f":
        raise RuntimeError(f"scaled_dot_product_attention: expected floating point inputs, got {q.dtype}")
    fmask = bmask = None
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
            )
        mdt = attn_mask._data.dtype
        if mdt.kind == "b":
            bmask = attn_mask._data
        elif mdt == dt:
            fmask = attn_mask
        else:
            raise RuntimeError(
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: "
                f"{attn_mask.dtype} and  query.dtype: {q.dtype} instead."
            )
    if qs[-1] != ks[-1]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query and key must have the same embedding size, got {qs[-1]} and {ks[-1]}"
        )
    if ks[-2] != vs[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: key and value must have the same sequence length, got {ks[-2]} and {vs[-2]}"
        )
    if enable_gqa and len(qs) >= 3 and len(ks) >= 3 and len(vs) >= 3:
        hq, hk, hv = qs[-3], ks[-3], vs[-3]
        if hk != hv or hk == 0 or hq % hk:
            raise RuntimeError("Number of heads in key and value must divide the number of heads in query")
        if hq != hk:
            k = _RepeatHeads.apply(k, hq // hk)
            v = _RepeatHeads.apply(v, hq // hk)
            ks, vs = k._data.shape, v._data.shape
    batch = qs[:-2] if qs[:-2] == ks[:-2] == vs[:-2] else broadcast_shapes(qs[:-2], ks[:-2], vs[:-2])
    if attn_mask is not None:
        target = tuple(batch) + (qs[-2], ks[-2])
        mshape = attn_mask._data.shape
        if mshape != target and broadcast_shapes(target, mshape) != target:
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask of shape {list(mshape)} doesn't broadcast to "
                f"the attention weights' shape {list(target)}"
            )
    if scale is None:
        scale = 1.0 / math.sqrt(qs[-1]) if qs[-1] else float("inf")
    if dt.itemsize == 2:  # float16: compute in float32
        up = [cast(t, _dtype.float32) for t in (q, k, v)]
        mask = attn_mask if fmask is None else cast(fmask, _dtype.float32)
        return cast(scaled_dot_product_attention(*up, mask, dropout_p, is_causal, scale), _dtype.float16)
    return _SDPA.apply(q, k, v, fmask, bmask, bool(is_causal), float(scale), float(dropout_p))


__all__: list[str] = []
FUNCTIONAL = ["scaled_dot_product_attention"]
TENSOR_METHODS: dict = {}
