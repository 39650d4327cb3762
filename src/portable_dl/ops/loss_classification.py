"""Multi-class losses on (log-)probabilities: cross_entropy, nll_loss, kl_div."""

from __future__ import annotations

import warnings
from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ._loss_common import (
    _check_tensors,
    _float_operands,
    _no_grad_for,
    _pointwise_operands,
    _quiet,
    _reduce_array,
    _reduction,
    _scale,
    _tname,
)
from .broadcast import _sum_to, sum_to

# Cross-entropy returns its log-probabilities as a second (hidden) output: the backward is written with
# Tensor ops on them, and their own gradient is the log-softmax backward, so no second pass over the
# logits is needed and second derivatives still flow back to the input.


# ----- class-index targets (cross_entropy, nll_loss) ------------------------------------------------


def _class_targets(xp: Any, t: Any, n_classes: int, ignore_index: int) -> tuple:
    """(targets safe to index with, mask of the kept ones or None when all are kept)."""
    if t.size == 0:
        return t, None
    lo, hi = int(t.min()), int(t.max())
    if lo >= 0 and hi < n_classes:
        if lo <= ignore_index <= hi:
            return t, t != ignore_index
        return t, None
    mask = t != ignore_index
    bad = ((t < 0) | (t >= n_classes)) & mask
    if bad.any():
        raise IndexError(f"Target {int(t[bad].reshape(-1)[0])} is out of bounds.")
    return xp.where(mask, t, 0), mask


def _pick(xp: Any, a: Any, t: Any, cdim: int) -> Any:
    """``a[..., t, ...]`` along the class dim: one value per target."""
    if a.ndim == 2:
        return a[xp.arange(a.shape[0]), t]
    return xp.take_along_axis(a, xp.expand_dims(t, cdim), cdim).reshape(t.shape)


def _onehot(xp: Any, t: Any, n_classes: int, cdim: int, dtype: Any) -> Any:
    shape = [1] * (t.ndim + 1)
    shape[cdim] = n_classes
    return (xp.expand_dims(t, cdim) == xp.arange(n_classes).reshape(shape)).astype(dtype)


def _class_shape(weight: Any, ndim: int, cdim: int) -> Any:
    """A per-class vector shaped to broadcast along the class dim of an ``ndim``-d input."""
    if ndim <= 2:
        return weight
    shape = [1] * ndim
    shape[cdim] = weight.shape[0]
    return weight.reshape(shape)


def _log_softmax(ctx: Any, x: Any, axis: int) -> Any:
    xp = ctx.xp
    with _quiet(xp):
        if x.size and ctx.backend.name == "numpy":
            # One global shift is much cheaper than a row-wise max on small rows, and exact as long as no
            # row's sum of exponentials underflows; otherwise (or with inf/nan) fall back to row maxima.
            shifted = x - x.max()
            total = xp.exp(shifted).sum(axis=axis, keepdims=True)
            if total.min() > _TINY.get(x.dtype.itemsize, 0.0):
                shifted -= xp.log(total)
                return shifted
        shifted = x - x.max(axis=axis, keepdims=True) if x.size else x.copy()
        shifted -= xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        return shifted


_TINY = {2: 2.0**-6, 4: 2.0**-100, 8: 2.0**-1000}  # by itemsize: sums safely above underflow


def _is_class_dtype(dt: Any) -> bool:
    """int64 or uint8: the target dtypes torch accepts for class indices."""
    return (dt.kind == "i" and dt.itemsize == 8) or (dt.kind == "u" and dt.itemsize == 1)


def _check_class_inputs(op: str, input: Tensor, target: Tensor, weight: Any) -> None:  # noqa: A002
    """torch's nll_loss_nd checks: dims, batch sizes, target dtype, weight shape and dtype."""
    x, t = input._data, target._data
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x.ndim})")
    if not _is_class_dtype(t.dtype):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_tname(t)}")
    if x.ndim == 1:
        if t.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if t.ndim == 1 and t.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {t.shape[0]}")
    else:
        if t.ndim == 0 or x.shape[0] != t.shape[0]:
            batch = t.shape[0] if t.ndim else 0
            raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size ({batch}).")
        if x.ndim == 2 and t.ndim != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if x.ndim > 2 and t.shape != x.shape[:1] + x.shape[2:]:
            raise RuntimeError(f"Expected target size {list(x.shape[:1] + x.shape[2:])}, got {list(t.shape)}")
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"{op}\" not implemented for '{_tname(x)}'")
    if weight is not None:
        w = weight._data
        n_classes = x.shape[0 if x.ndim == 1 else 1]
        if w.ndim != 1 or w.shape[0] != n_classes:
            raise RuntimeError(
                f"weight tensor should be defined either for all {n_classes} classes or no classes but got "
                f"weight tensor of shape: {list(w.shape)}"
            )
        if w.dtype != x.dtype:
            raise RuntimeError(f"expected scalar type {_tname(x)} but found {_tname(w)}")


def _index_loss(ctx: Any, logp: Any, target: Any, weight: Any, reduction: str, ignore_index: int,
                smoothing: float) -> Any:  # fmt: skip
    """Shared forward of nll_loss / cross_entropy on log-probabilities; records what backward needs."""
    xp = ctx.xp
    cdim = 0 if logp.ndim == 1 else 1
    n_classes = logp.shape[cdim]
    t = target.reshape(()) if logp.ndim == 1 else target
    t, mask = _class_targets(xp, t, n_classes, ignore_index)
    el = -_pick(xp, logp, t, cdim)
    wt = None
    if weight is not None:
        wt = weight[t]
        if mask is not None:
            wt = wt * mask
        el *= wt
    elif mask is not None:
        wt = mask.astype(logp.dtype)
    if mask is not None:
        el = xp.where(mask, el, 0)
    if smoothing > 0:
        with _quiet(xp):
            smooth = -(logp * _class_shape(weight, logp.ndim, cdim) if weight is not None else logp).sum(axis=cdim)
        if mask is not None:
            smooth = xp.where(mask, smooth, 0)
        el = (1 - smoothing) * el + (smoothing / n_classes) * smooth
    denom = None
    if reduction == "none":
        out = el
    else:
        out = el.sum()
        if reduction == "mean":
            if wt is None:
                denom = t.size
                out = out / denom if denom else xp.full((), float("nan"), dtype=logp.dtype)
            else:
                denom = wt.sum()
                with _quiet(xp):
                    out = out / denom
        out = xp.asarray(out, dtype=logp.dtype)
    ctx.cdim, ctx.n_classes, ctx.reduction, ctx.smoothing, ctx.denom = cdim, n_classes, reduction, smoothing, denom
    return out, t, wt, mask


def _row_scale(xp: Any, ctx: Any, mask: Any, dtype: Any) -> Any:
    """The per-target factor of the cotangent: 1/denominator for mean, zero where ignored."""
    s = 1.0
    if ctx.reduction == "mean" and ctx.denom is not None:
        with _quiet(xp):
            s = 1.0 / ctx.denom if not isinstance(ctx.denom, int) else 1.0 / max(ctx.denom, 1)
    if mask is None:
        return s
    return xp.where(mask, xp.asarray(s, dtype=dtype), xp.zeros((), dtype=dtype))


def _index_coefficients(xp: Any, ctx: Any, t: Any, wt: Any, weight: Any, mask: Any, dtype: Any) -> tuple:
    """For ``loss = -sum(a * logp)`` per target: the dense ``a`` and its class sum ``A`` (both scaled per row).

    The gradient of cross-entropy is then ``(softmax * A - a) * cotangent``, that of nll_loss ``-a * cotangent``.
    """
    cdim, n_classes, eps = ctx.cdim, ctx.n_classes, ctx.smoothing
    rs = xp.asarray(_row_scale(xp, ctx, mask, dtype), dtype=dtype)
    c1 = rs if wt is None else wt * rs
    if eps > 0:
        c1 = c1 * (1 - eps)
    a = _onehot(xp, t, n_classes, cdim, dtype) * _expand(xp, c1, cdim)
    big_a = c1
    if eps > 0:
        if weight is not None:
            a = a + (eps / n_classes) * _class_shape(weight, a.ndim, cdim) * _expand(xp, rs, cdim)
            big_a = big_a + (eps / n_classes) * weight.sum() * rs
        else:
            a = a + (eps / n_classes) * _expand(xp, rs, cdim)
            big_a = big_a + eps * rs
    return a, _expand(xp, xp.asarray(big_a, dtype=dtype), cdim)


def _expand(xp: Any, v: Any, cdim: int) -> Any:
    """A per-target array given a size-1 class dim (0-d values broadcast as they are)."""
    return xp.expand_dims(v, cdim) if v.ndim else v


def _add_log_softmax_grad(gx: Any, p: Any, g_logp: Any, g_logp_sum: Any) -> Any:
    """``gx`` plus the log-softmax backward ``g_logp - p * sum(g_logp)`` of the log-probabilities' cotangent
    (``g_logp_sum``: its class sum, kept as a size-1 dim); arrays or Tensors."""
    gl = g_logp - p * g_logp_sum
    return gl if gx is None else gx + gl


def _expand_cotangent(g: Any, ctx: Any, expand: Any) -> Any:
    """The loss cotangent shaped to broadcast against the (N, C, ...) input."""
    if ctx.reduction == "none" and ctx.cdim == 1:
        return expand(g)
    return g


class CrossEntropy(Function):
    """Class-index cross-entropy: stable log-softmax, pick, weights, smoothing and reduction in one node.

    Outputs ``(loss, log_probs)``; ``cross_entropy`` hands out only the loss.
    """

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, target: Any, weight: Any, reduction: str, ignore_index: int,
                smoothing: float) -> Any:  # fmt: skip
        xp = ctx.xp
        cdim = 0 if x.ndim == 1 else 1
        n_classes = x.shape[cdim]
        t0 = target.reshape(()) if x.ndim == 1 else target
        if not smoothing and weight is None and x.ndim == 2 and t0.size and reduction == "mean":
            # The common case (classification batch, plain mean) without any of the bookkeeping.
            lo, hi = int(t0.min()), int(t0.max())
            if lo >= 0 and hi < n_classes and not lo <= ignore_index <= hi:
                logp = _log_softmax(ctx, x, 1)
                n = t0.shape[0]
                out = xp.asarray(logp[xp.arange(n), t0].sum() / -n, dtype=x.dtype)
                ctx.save_for_backward(logp, t0)
                ctx.fast = True
                ctx.denom = n
                return out, logp
        logp = _log_softmax(ctx, x, cdim)
        out, t, wt, mask = _index_loss(ctx, logp, target, weight, reduction, ignore_index, smoothing)
        ctx.fast = False
        ctx.save_for_backward(logp, t, wt, weight, mask)
        return out, logp

    @staticmethod
    def backward_arrays(ctx: Any, g: Any, g_logp: Any) -> Any:
        xp = ctx.xp
        saved = ctx.saved_arrays
        logp = saved[0]
        p = xp.exp(logp)
        gx = None
        if g is not None:
            if ctx.fast:
                t = saved[1]
                gx = p.copy() if g_logp is not None else p
                gx[xp.arange(t.shape[0]), t] -= 1
                gx *= g / ctx.denom
            else:
                _, t, wt, weight, mask = saved
                a, big_a = _index_coefficients(xp, ctx, t, wt, weight, mask, logp.dtype)
                g = _expand_cotangent(g, ctx, lambda v: xp.expand_dims(v, ctx.cdim))
                gx = (p * big_a - a) * g
        if g_logp is not None:
            cdim = 0 if logp.ndim == 1 else 1
            gx = _add_log_softmax_grad(gx, p, g_logp, g_logp.sum(axis=cdim, keepdims=True))
        return gx, None, None, None, None, None

    @staticmethod
    def backward(ctx: Any, g: Any, g_logp: Any) -> Any:
        xp = ctx.xp
        saved = ctx.saved_tensors
        logp = saved[0]
        cdim = 0 if logp.ndim == 1 else 1
        p = logp.exp()
        gx = None
        if g is not None:
            if ctx.fast:
                t = saved[1]._data
                onehot = _onehot(xp, t, logp.shape[1], 1, logp._data.dtype)
                gx = (p - Tensor._wrap(onehot, ctx.backend)) * (g / ctx.denom)
            else:
                t, wt, weight, mask = (None if v is None else v._data for v in saved[1:])
                a, big_a = _index_coefficients(xp, ctx, t, wt, weight, mask, logp._data.dtype)
                g = _expand_cotangent(g, ctx, lambda v: v.unsqueeze(cdim))
                gx = (p * Tensor._wrap(big_a, ctx.backend) - Tensor._wrap(a, ctx.backend)) * g
        if g_logp is not None:
            gx = _add_log_softmax_grad(gx, p, g_logp, g_logp.sum(cdim, keepdim=True))
        return gx, None, None, None, None, None


class NLLLoss(Function):
    """nll_loss on log-probabilities: pick, weights, ignore_index and reduction in one node."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, target: Any, weight: Any, reduction: str, ignore_index: int) -> Any:
        out, t, wt, mask = _index_loss(ctx, x, target, weight, reduction, ignore_index, 0.0)
        ctx.save_for_backward(t, wt, weight, mask)
        ctx.dtype = x.dtype
        return out

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        t, wt, weight, mask = ctx.saved_arrays
        a, _ = _index_coefficients(ctx.xp, ctx, t, wt, weight, mask, ctx.dtype)
        g = _expand_cotangent(g, ctx, lambda v: ctx.xp.expand_dims(v, ctx.cdim))
        return -a * g, None, None, None, None

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        t, wt, weight, mask = (None if v is None else v._data for v in ctx.saved_tensors)
        a, _ = _index_coefficients(ctx.xp, ctx, t, wt, weight, mask, ctx.dtype)
        g = _expand_cotangent(g, ctx, lambda v: v.unsqueeze(ctx.cdim))
        return Tensor._wrap(-a, ctx.backend) * g, None, None, None, None


class SoftTargetCrossEntropy(Function):
    """Cross-entropy against class probabilities (``target`` shaped like ``input``), with smoothing and weights.

    Outputs ``(loss, log_probs)`` like :class:`CrossEntropy`.
    """

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, q: Any, weight: Any, reduction: str, smoothing: float) -> Any:
        xp = ctx.xp
        cdim = 0 if x.ndim == 1 else 1
        n_classes = x.shape[cdim]
        logp = _log_softmax(ctx, x, cdim)
        a = q * (1 - smoothing) + smoothing / n_classes if smoothing > 0 else q
        if weight is not None:
            a = a * _class_shape(weight, x.ndim, cdim)
        with _quiet(xp):
            el = -(logp * a).sum(axis=cdim)
        n_rows = x.size // n_classes if n_classes else 0
        if reduction == "none":
            out = el
        elif reduction == "sum":
            out = xp.asarray(el.sum())
        else:
            out = xp.asarray(el.sum() / n_rows) if n_rows else xp.full((), float("nan"), dtype=el.dtype)
        ctx.cdim, ctx.n_classes, ctx.reduction = cdim, n_classes, reduction
        ctx.smoothing, ctx.n_rows = smoothing, n_rows
        ctx.save_for_backward(logp, q, weight)
        return out, logp

    @staticmethod
    def backward_arrays(ctx: Any, g: Any, g_logp: Any) -> Any:
        xp = ctx.xp
        logp, q, weight = ctx.saved_arrays
        cdim, eps, n_classes = ctx.cdim, ctx.smoothing, ctx.n_classes
        p = xp.exp(logp)
        gx = gq = gw = None
        if g is not None:
            s = _scale(g, ctx.reduction, ctx.n_rows)
            if ctx.reduction == "none" and cdim == 1:
                s = xp.expand_dims(s, 1)
            qs = q * (1 - eps) + eps / n_classes if eps > 0 else q
            w_e = None if weight is None else _class_shape(weight, logp.ndim, cdim)
            a = qs if w_e is None else qs * w_e
            need_x, need_q, need_w = ctx.needs_input_grad[:3]
            if need_x:
                gx = (p * a.sum(axis=cdim, keepdims=True) - a) * s
            if need_q:
                gq = -(logp if w_e is None else logp * w_e) * ((1 - eps) * s)
            if need_w and weight is not None:
                gw = _sum_to(xp, -(logp * qs * s), _class_shape(weight, logp.ndim, cdim).shape).reshape(weight.shape)
        if g_logp is not None:
            gx = _add_log_softmax_grad(gx, p, g_logp, g_logp.sum(axis=cdim, keepdims=True))
        return gx, gq, gw, None, None

    @staticmethod
    def backward(ctx: Any, g: Any, g_logp: Any) -> Any:
        logp, q, weight = ctx.saved_tensors
        cdim, eps, n_classes = ctx.cdim, ctx.smoothing, ctx.n_classes
        p = logp.exp()
        gx = gq = gw = None
        if g is not None:
            s = _scale(g, ctx.reduction, ctx.n_rows)
            if ctx.reduction == "none" and cdim == 1:
                s = s.unsqueeze(1)
            qs = q * (1 - eps) + eps / n_classes if eps > 0 else q
            w_e = None if weight is None else _class_shape(weight, logp.ndim, cdim)
            a = qs if w_e is None else qs * w_e
            need_x, need_q, need_w = ctx.needs_input_grad[:3]
            if need_x:
                gx = (p * a.sum(cdim, keepdim=True) - a) * s
            if need_q:
                gq = -(logp if w_e is None else logp * w_e) * ((1 - eps) * s)
            if need_w and weight is not None:
                prod = -(logp * qs * s)
                gw = prod.sum([d for d in range(prod.ndim) if d != cdim]) if prod.ndim > 1 else prod
        if g_logp is not None:
            gx = _add_log_softmax_grad(gx, p, g_logp, g_logp.sum(cdim, keepdim=True))
        return gx, gq, gw, None, None


def cross_entropy(
    input: Tensor,  # noqa: A002 - torch argument name
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits ``input`` and class indices or class probabilities ``target``."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    if type(target) is not Tensor or type(input) is not Tensor:
        _check_tensors("cross_entropy_loss", input, target)
    x, t = input._data, target._data
    if x.shape == t.shape:
        return _soft_cross_entropy(input, target, weight, reduction, ignore_index, float(label_smoothing))
    if weight is not None or x.ndim != 2 or t.ndim != 1 or x.shape[0] != t.shape[0] or x.dtype.kind != "f":
        _check_class_inputs("log_softmax", input, target, weight)
    elif not _is_class_dtype(t.dtype):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_tname(t)}")
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if weight is not None:
        _no_grad_for(weight, "nll_loss_forward", "weight")
    smoothing = float(label_smoothing) if label_smoothing > 0 else 0.0
    return CrossEntropy.apply(input, target, weight, reduction, int(ignore_index), smoothing)[0]


def _soft_cross_entropy(input: Tensor, target: Tensor, weight: Any, reduction: str, ignore_index: int,  # noqa: A002
                        smoothing: float) -> Tensor:  # fmt: skip
    x, t = input._data, target._data
    if t.dtype.kind != "f":
        raise RuntimeError(f"Expected floating point type for target with class probabilities, got {_tname(t)}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    if x.ndim == 0:
        raise IndexError("Dimension specified as 1 but tensor has no dimensions")
    n_classes = x.shape[0 if x.ndim == 1 else 1]
    if weight is not None and (weight.ndim != 1 or weight.numel() != n_classes):
        raise RuntimeError(
            f"cross_entropy: weight tensor should be defined either for all {n_classes} classes or no classes "
            f"but got weight tensor of shape: {list(weight.shape)}"
        )
    if smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {smoothing}")
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"log_softmax\" not implemented for '{_tname(x)}'")
    operands = [input, target] if weight is None else [input, target, weight]
    operands = _float_operands("cross_entropy", *operands)
    if weight is None:
        operands.append(None)
    return SoftTargetCrossEntropy.apply(*operands, reduction, max(smoothing, 0.0))[0]


def nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class ``target`` under log-probabilities ``input``."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    _check_tensors("nll_loss_nd", input, target)
    _check_class_inputs("nll_loss", input, target, weight)
    if weight is not None:
        _no_grad_for(weight, "nll_loss_forward", "weight")
    return NLLLoss.apply(input, target, weight, reduction, int(ignore_index))


# ----- KL divergence --------------------------------------------------------------------------------


class KLDiv(Function):
    """Pointwise ``target * (log(target) - input)`` (``exp(target) * (target - input)`` for log targets)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, t: Any, log_target: bool, reduction: str) -> Any:
        xp = ctx.xp
        with _quiet(xp):
            if log_target:
                el = xp.exp(t) * (t - x)
            else:
                el = xp.where(t == 0, 0, t * xp.log(t)) - t * x
        ctx.log_target, ctx.reduction, ctx.n, ctx.shapes = log_target, reduction, el.size, (x.shape, t.shape, el.shape)
        ctx.save_for_backward(x, t)
        return _reduce_array(xp, el, reduction)

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        x, t = ctx.saved_arrays
        s = _scale(g, ctx.reduction, ctx.n)
        sx, st, full = ctx.shapes
        gx = gt = None
        with _quiet(xp):
            e = xp.exp(t) if ctx.log_target else t
            if ctx.needs_input_grad[0]:
                gx = -e * s
                gx = _sum_to(xp, gx if gx.shape == full else xp.broadcast_to(gx, full), sx)
            if ctx.needs_input_grad[1]:
                gt = e * (t - x + 1) if ctx.log_target else xp.log(t) + t / t - x
                gt = _sum_to(xp, gt * s, st)
        return gx, gt, None, None

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, t = ctx.saved_tensors
        s = _scale(g, ctx.reduction, ctx.n)
        sx, st, full = ctx.shapes
        gx = gt = None
        e = t.exp() if ctx.log_target else t
        if ctx.needs_input_grad[0]:
            gx = -e * s
            gx = sum_to(gx if gx.shape == full else gx.expand(full), sx)
        if ctx.needs_input_grad[1]:
            gt = e * (t - x + 1) if ctx.log_target else t.log() + t / t - x
            gt = sum_to(gt * s, st)
        return gx, gt, None, None


def kl_div(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Pointwise KL divergence of ``target`` from log-probabilities ``input`` ('batchmean' is the true KL)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            stacklevel=2,
        )
    elif reduction != "batchmean":
        reduction = _reduction(None, None, reduction)
    _check_tensors("kl_div", input, target)
    input, target = _pointwise_operands("kl_div", input, target)  # noqa: A001
    if reduction == "batchmean":
        out = KLDiv.apply(input, target, bool(log_target), "sum")
        return out / input.shape[0] if input.ndim != 0 else out
    return KLDiv.apply(input, target, bool(log_target), reduction)


__all__: list[str] = []
FUNCTIONAL = ["cross_entropy", "nll_loss", "kl_div"]
TENSOR_METHODS: dict = {}
