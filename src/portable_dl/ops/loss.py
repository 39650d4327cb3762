"""Loss functions of ``portable_dl.nn.functional``, with torch's signatures, defaults and numerics.

The losses training loops lean on (cross_entropy, nll_loss, binary_cross_entropy[_with_logits],
mse/l1/smooth_l1/huber, kl_div, soft_margin) are single Functions: one forward over arrays with the
reduction fused in, a ``backward_arrays`` fast path, and a ``backward`` written with Tensor ops so that
it is differentiable again (double backward). The rarer losses are compositions of Tensor ops, as in torch.

Cross-entropy returns its log-probabilities as a second (hidden) output: the backward is written with
Tensor ops on them, and their own gradient is the log-softmax backward, so no second pass over the
logits is needed and second derivatives still flow back to the input.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Any

from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..tensor import Tensor
from ._common import cast, check_tensor, result_type
from .broadcast import _sum_to, broadcast_shapes, sum_to

_TORCH_NAMES = {
    "float16": "Half", "float32": "Float", "float64": "Double", "bfloat16": "BFloat16", "int8": "Char",
    "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool",
}  # fmt: skip


def _tname(array: Any) -> str:
    name = array.dtype.name
    return _TORCH_NAMES.get(name, name)


def _quiet(xp: Any) -> Any:
    """Silence NumPy's floating-point warnings (torch gives inf/nan without a word)."""
    errstate = getattr(xp, "errstate", None)
    return errstate(all="ignore") if errstate is not None else contextlib.nullcontext()


# ----- reductions ----------------------------------------------------------------------------------


def _reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    """torch's rules: the legacy ``size_average``/``reduce`` pair overrides ``reduction`` (with a warning)."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
            stacklevel=3,
        )
        return reduction
    if reduction in ("mean", "sum", "none"):
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=3)
        return "mean"
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce_array(xp: Any, el: Any, reduction: str) -> Any:
    if reduction == "none":
        return el
    if reduction == "sum":
        return xp.asarray(el.sum())
    if el.size == 0:
        return xp.full((), float("nan"), dtype=el.dtype)
    return xp.asarray(el.mean())


def _reduce_tensor(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


def _scale(g: Any, reduction: str, n: int, weight: Any = None) -> Any:
    """The cotangent of each element of a reduced loss (a 0-d value for mean/sum: it broadcasts), times the
    per-element ``weight`` if there is one (arrays or Tensors)."""
    s = g / n if reduction == "mean" and n else g
    return s if weight is None else s * weight


def _check_tensors(op: str, input: Any, target: Any) -> None:  # noqa: A002 - torch argument name
    """torch's TypeError when ``input`` (position 1) or ``target`` (position 2) is not a Tensor."""
    check_tensor(input, op)
    check_tensor(target, op, "target", 2)


def _no_grad_for(weight: Any, op: str, name: str) -> None:
    if weight is not None and weight.requires_grad and state.enabled:
        raise RuntimeError(
            f"The function '{op}' is not differentiable with respect to argument '{name}'. "
            "This input cannot have requires_grad True."
        )


def _float_operands(op: str, *tensors: Tensor) -> list:
    """Cast the operands of a pointwise loss to their promoted floating dtype (torch's promotion)."""
    dt = result_type(*tensors)
    if not dt.is_floating_point:
        raise NotImplementedError(f"\"{op}\" not implemented for '{_tname(tensors[0]._data)}'")
    return [cast(t, dt) for t in tensors]


def _pointwise_operands(op: str, input: Tensor, target: Tensor, warn: bool = False) -> tuple:  # noqa: A002
    """``input`` and ``target`` of a pointwise loss: checked to broadcast (with torch's size warning when
    ``warn``), cast to their promoted floating dtype."""
    if target._data.shape != input._data.shape:
        if warn:
            warnings.warn(
                f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
                "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same "
                "size.",
                stacklevel=4,
            )
        broadcast_shapes(input._data.shape, target._data.shape)
    if input._data.dtype != target._data.dtype or input._data.dtype.kind != "f":
        input, target = _float_operands(op, input, target)  # noqa: A001
    return input, target


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


# ----- binary cross-entropy -------------------------------------------------------------------------


class BinaryCrossEntropyWithLogits(Function):
    """``-w [pos_weight * y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x))]``, stable for any logit."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, weight: Any, pos_weight: Any, reduction: str) -> Any:
        xp = ctx.xp
        log_sig = xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))
        if pos_weight is None:
            el = (1 - y) * x - log_sig
        else:
            el = (1 - y) * x - ((pos_weight - 1) * y + 1) * log_sig
        if weight is not None:
            el = el * weight
        ctx.reduction, ctx.n = reduction, el.size
        ctx.save_for_backward(x, y, weight, pos_weight, log_sig)
        return _reduce_array(xp, el, reduction)

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        x, y, weight, pos_weight, log_sig = ctx.saved_arrays
        s = _scale(g, ctx.reduction, ctx.n, weight)
        need_x, need_y = ctx.needs_input_grad[:2]
        gx = gy = None
        if need_x:
            gx = _sum_to(xp, _bce_logits_dx(xp.exp(log_sig), y, pos_weight, s), x.shape)
        if need_y:
            gy = -x if pos_weight is None else -x - (pos_weight - 1) * log_sig
            gy = _sum_to(xp, gy * s, y.shape)
        return gx, gy, None, None, None

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y, weight, pos_weight, _ = ctx.saved_tensors
        s = _scale(g, ctx.reduction, ctx.n, weight)
        need_x, need_y = ctx.needs_input_grad[:2]
        gx = gy = None
        if need_x:
            gx = sum_to(_bce_logits_dx(x.sigmoid(), y, pos_weight, s), x.shape)
        if need_y:
            gy = -x if pos_weight is None else -x - (pos_weight - 1) * _logsigmoid(x)
            gy = sum_to(gy * s, y.shape)
        return gx, gy, None, None, None


def _bce_logits_dx(sig: Any, y: Any, pos_weight: Any, s: Any) -> Any:
    """The gradient of binary_cross_entropy_with_logits in the logits, from ``sig = sigmoid(x)`` and the
    scaled cotangent ``s`` (arrays or Tensors)."""
    if pos_weight is None:
        return (sig - y) * s
    py = pos_weight * y
    return ((py + 1 - y) * sig - py) * s


def _logsigmoid(x: Tensor) -> Tensor:
    from .activation import logsigmoid

    return logsigmoid(x)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy on logits (log-sigmoid computed stably), with per-element and positive weights."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    _check_tensors("binary_cross_entropy_with_logits", input, target)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    if target._data.dtype.kind != "f" and input._data.dtype.kind == "f":
        raise RuntimeError(
            f"result type {_tname(input._data)} can't be cast to the desired output type {_tname(target._data)}"
        )
    _no_grad_for(weight, "binary_cross_entropy_with_logits", "weight")
    _no_grad_for(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    shape = input._data.shape
    for w in (weight, pos_weight):
        if w is not None and w._data.shape != shape:
            full = broadcast_shapes(shape, w._data.shape)
            if full != shape:
                raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape {list(full)}")
    if input._data.dtype != target._data.dtype:
        input, target = _float_operands("binary_cross_entropy_with_logits", input, target)  # noqa: A001
    dt = input._data.dtype
    if weight is not None and weight._data.dtype != dt:
        weight = weight.to(input.dtype)
    if pos_weight is not None and pos_weight._data.dtype != dt:
        pos_weight = pos_weight.to(input.dtype)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


class BinaryCrossEntropy(Function):
    """``-w [y log(x) + (1 - y) log(1 - x)]`` on probabilities, each log clamped at -100 as in torch."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, weight: Any, reduction: str) -> Any:
        xp = ctx.xp
        with _quiet(xp):
            if x.size and not bool(((x >= 0) & (x <= 1)).all()):
                raise RuntimeError("all elements of input should be between 0 and 1")
            if y.size and not bool(((y >= 0) & (y <= 1)).all()):
                raise RuntimeError("all elements of target should be between 0 and 1")
            el = (y - 1) * xp.maximum(xp.log1p(-x), -100) - y * xp.maximum(xp.log(x), -100)
        if weight is not None:
            el = el * weight
        ctx.reduction, ctx.n = reduction, el.size
        ctx.save_for_backward(x, y, weight)
        return _reduce_array(xp, el, reduction)

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        x, y, weight = ctx.saved_arrays
        s = _scale(g, ctx.reduction, ctx.n, weight)
        gx = gy = None
        with _quiet(xp):
            if ctx.needs_input_grad[0]:
                gx = (x - y) / xp.maximum((1 - x) * x, 1e-12) * s
            if ctx.needs_input_grad[1]:
                gy = (xp.log1p(-x) - xp.log(x)) * s
        return gx, gy, None, None

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y, weight = ctx.saved_tensors
        s = _scale(g, ctx.reduction, ctx.n, weight)
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = (x - y) / ((1 - x) * x).clamp(min=1e-12) * s
        if ctx.needs_input_grad[1]:
            gy = ((-x).log1p() - x.log()) * s
        return gx, gy, None, None


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy between probabilities ``input`` and ``target`` (logs clamped at -100)."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    _check_tensors("binary_cross_entropy", input, target)
    if target._data.shape != input._data.shape:
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}) is "
            "deprecated. Please ensure they have the same size."
        )
    x = input._data
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"binary_cross_entropy\" not implemented for '{_tname(x)}'")
    if target._data.dtype != x.dtype:
        raise RuntimeError(f"Found dtype {_tname(target._data)} but expected {_tname(x)}")
    if weight is not None:
        _no_grad_for(weight, "binary_cross_entropy", "weight")
        if weight._data.shape != x.shape and broadcast_shapes(x.shape, weight._data.shape) != x.shape:
            raise RuntimeError(
                f"binary_cross_entropy: weight of shape {list(weight.shape)} does not broadcast to the input "
                f"shape {list(x.shape)}"
            )
        if weight._data.dtype != x.dtype:
            weight = weight.to(input.dtype)
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


# ----- pointwise regression losses ------------------------------------------------------------------


def _diff_derivative(xp: Any, d: Any, kind: str, param: float) -> Any:
    if kind == "mse":
        return 2 * d
    if kind == "l1":
        return xp.sign(d)
    if kind == "smooth_l1":
        return xp.clip(d / param, -1, 1)
    return xp.clip(d, -param, param)


class DiffLoss(Function):
    """mse / l1 / smooth_l1 / huber of ``d = input - target`` (broadcast), with the reduction fused in."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, kind: str, param: float, reduction: str) -> Any:
        xp = ctx.xp
        d = x - y
        if kind == "mse":
            el = d * d
        elif kind == "l1":
            el = xp.abs(d)
        else:
            z = xp.abs(d)
            if kind == "smooth_l1":
                el = xp.where(z < param, 0.5 * z * z / param, z - 0.5 * param)
            else:
                el = xp.where(z < param, 0.5 * z * z, param * (z - 0.5 * param))
        ctx.kind, ctx.param, ctx.reduction, ctx.n = kind, param, reduction, el.size
        ctx.shapes = (x.shape, y.shape)
        ctx.save_for_backward(x, y)
        return _reduce_array(xp, el, reduction)

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        x, y = ctx.saved_arrays
        gd = _diff_derivative(xp, x - y, ctx.kind, ctx.param) * _scale(g, ctx.reduction, ctx.n)
        sx, sy = ctx.shapes
        gx = _sum_to(xp, gd, sx) if ctx.needs_input_grad[0] else None
        gy = _sum_to(xp, -gd, sy) if ctx.needs_input_grad[1] else None
        return gx, gy, None, None, None

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y = ctx.saved_tensors
        d = x - y
        kind, param = ctx.kind, ctx.param
        if kind == "mse":
            dd = d * 2
        elif kind == "l1":
            dd = d.sign()
        elif kind == "smooth_l1":
            # torch's second derivative is 1/beta strictly inside |d| < beta, 0 on and beyond the kink
            dd = _where(d.abs() < param, d / param, d.sign())
        else:
            dd = _where(d.abs() < param, d, d.sign() * param)
        gd = dd * _scale(g, ctx.reduction, ctx.n)
        sx, sy = ctx.shapes
        gx = sum_to(gd, sx) if ctx.needs_input_grad[0] else None
        gy = sum_to(-gd, sy) if ctx.needs_input_grad[1] else None
        return gx, gy, None, None, None


def _diff_loss(op: str, kind: str, input: Tensor, target: Tensor, param: float, reduction: str,  # noqa: A002
               weight: Any = None, weighted_mean: str = "sum") -> Tensor:  # fmt: skip
    _check_tensors(op, input, target)
    input, target = _pointwise_operands(op, input, target, warn=True)  # noqa: A001
    if weight is None:
        return DiffLoss.apply(input, target, kind, param, reduction)
    if weight._data.shape != input._data.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = DiffLoss.apply(input, target, kind, param, "none") * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / weight.sum() if weighted_mean == "sum" else loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def mse_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error (optionally weighted: the weighted mean divides by the sum of weights)."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    return _diff_loss("mse_loss", "mse", input, target, 0.0, reduction, weight)


def l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error (optionally weighted: the weighted mean divides by the sum of weights)."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    return _diff_loss("l1_loss", "l1", input, target, 0.0, reduction, weight)


def smooth_l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Squared error below ``beta`` (divided by ``beta``), absolute error above; ``beta=0`` is l1_loss."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return _diff_loss("l1_loss", "l1", input, target, 0.0, reduction)
    return _diff_loss("smooth_l1_loss", "smooth_l1", input, target, float(beta), reduction)


def huber_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """Squared error below ``delta``, ``delta``-scaled absolute error above (optionally weighted)."""
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _diff_loss("huber_loss", "huber", input, target, float(delta), reduction, weight, weighted_mean="mean")


# ----- divergences and margin losses ----------------------------------------------------------------


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


class SoftMarginLoss(Function):
    """``log(1 + exp(-target * input))`` with the reduction fused in."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, reduction: str) -> Any:
        xp = ctx.xp
        with _quiet(xp):
            el = xp.log1p(xp.exp(-y * x))
        ctx.reduction, ctx.n, ctx.shapes = reduction, el.size, (x.shape, y.shape)
        ctx.save_for_backward(x, y)
        return _reduce_array(xp, el, reduction)

    @staticmethod
    def backward_arrays(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        x, y = ctx.saved_arrays
        with _quiet(xp):
            z = xp.exp(-y * x)
            r = z / (1 + z) * _scale(g, ctx.reduction, ctx.n)
        sx, sy = ctx.shapes
        gx = _sum_to(xp, -y * r, sx) if ctx.needs_input_grad[0] else None
        gy = _sum_to(xp, -x * r, sy) if ctx.needs_input_grad[1] else None
        return gx, gy, None

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        x, y = ctx.saved_tensors
        z = (-y * x).exp()
        r = z / (z + 1) * _scale(g, ctx.reduction, ctx.n)
        sx, sy = ctx.shapes
        gx = sum_to(-y * r, sx) if ctx.needs_input_grad[0] else None
        gy = sum_to(-x * r, sy) if ctx.needs_input_grad[1] else None
        return gx, gy, None


def soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target * input))`` for targets in {1, -1}."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    _check_tensors("soft_margin_loss", input, target)
    _no_grad_for(target, "soft_margin_loss", "target")
    input, target = _pointwise_operands("soft_margin_loss", input, target)  # noqa: A001
    return SoftMarginLoss.apply(input, target, reduction)


def _ops() -> Any:
    from .. import ops

    return ops


def _where(condition: Tensor, a: Any, b: Any) -> Tensor:
    return _ops().where(condition, a, b)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} "
        )
    return _reduce_tensor((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``input`` where target is 1, ``max(0, margin - input)`` where it is -1."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    zero = input.new_zeros(())
    output_margin = _where(target != 1, (margin - input).clamp(min=0), zero)
    output_self = _where(target != -1, input, zero)
    return _reduce_tensor(output_margin + output_self, reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos(x1, x2) - margin)`` where it is -1."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    targ_dim = target.dim()
    if targ_dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if targ_dim == 1 and (input1.dim() != 2 or input2.dim() != 2):
        raise RuntimeError(
            f"1D target tensor expects 2D input tensors, but found inputs with sizes {list(input1.shape)} and "
            f"{list(input2.shape)}."
        )
    if targ_dim == 0 and (input1.dim() != 1 or input2.dim() != 1):
        raise RuntimeError(
            f"0D target tensor expects 1D input tensors, but found inputs with sizes {list(input1.shape)} and "
            f"{list(input2.shape)}."
        )
    if input1.shape != input2.shape:
        broadcast_shapes(input1._data.shape, input2._data.shape)
    eps = 1e-12
    dim = targ_dim
    prod_sum = (input1 * input2).sum(dim)
    mag_square1 = (input1 * input1).sum(dim) + eps
    mag_square2 = (input2 * input2).sum(dim) + eps
    cos = prod_sum / (mag_square1 * mag_square2).sqrt()
    zero = cos.new_zeros(())
    pos = _where(target == 1, 1 - cos, zero)
    neg = _where(target == -1, (cos - margin).clamp(min=0), zero)
    return _reduce_tensor(pos + neg, reduction)


def poisson_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of a Poisson ``target`` with rate ``exp(input)`` (or ``input``)."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce_tensor(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of ``target`` under a Gaussian of mean ``input`` and variance ``var``."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _ops().full_like(input, float(var))
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim() and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # torch clamps a copy of var under no_grad: the value is clamped, the gradient passes as through identity.
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce_tensor(loss, reduction)


def multi_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss: ``sum_j max(0, margin - x[y] + x[j])^p / C`` over the classes ``j != y``."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    x, t = input._data, target._data
    if x.ndim > 2 or x.size == 0 and x.ndim != 2:
        raise RuntimeError(
            f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(x.shape)}"
        )
    n_classes = x.shape[-1]
    n = 1 if x.ndim < 2 else x.shape[0]
    if t.ndim > 1 or t.size != n:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples "
            f"(batch size). Expected target size [{n}], but got {list(t.shape)}. Input has shape {list(x.shape)}."
        )
    if t.dtype.name != "int64":
        raise RuntimeError(f"expected scalar type Long but found {_tname(t)}")
    if t.size and (int(t.min()) < 0 or int(t.max()) >= n_classes):
        raise RuntimeError("target out of range")
    if weight is not None and weight.numel() != n_classes:
        raise RuntimeError(f"inconsistent weight size, expected {n_classes} but got {list(weight.shape)}")
    x2 = input.reshape(n, n_classes)
    t2 = target.reshape(n, 1)
    z = (margin - x2.gather(1, t2) + x2).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.index_select(0, target.reshape(n)).reshape(n, 1)
    z = z.masked_fill(t2 == _ops().arange(n_classes, device=input.device), 0)
    loss = z.sum(1) / n_classes
    if x.ndim < 2:
        loss = loss.reshape(t.shape)
    return _reduce_tensor(loss, reduction)


def multilabel_soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Per-class logistic loss averaged over the classes (last dim)."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * _logsigmoid(input) + (1 - target) * _logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    return _reduce_tensor(loss, reduction)


def _distance(x1: Tensor, x2: Tensor, p: float, eps: float) -> Tensor:
    from .normalization import pairwise_distance

    return pairwise_distance(x1, x2, p, eps)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with p-norm distances."""
    if size_average is not None or reduce is not None or reduction != "mean":
        reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pos, neg = anchor.dim(), positive.dim(), negative.dim()
    if not a == pos == neg:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {a}D, positive {pos}D, and negative {neg}D inputs"
        )
    dist_pos = _distance(anchor, positive, p, eps)
    dist_neg = _distance(anchor, negative, p, eps)
    if swap:
        dist_neg = _ops().minimum(dist_neg, _distance(positive, negative, p, eps))
    return _reduce_tensor((margin + dist_pos - dist_neg).clamp(min=0), reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Any = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """Triplet loss with a custom ``distance_function`` (default: pairwise L2 distance)."""
    if margin <= 0:
        raise ValueError(
            f"triplet_margin_with_distance_loss: expected margin to be greater than 0, got {margin} instead"
        )
    reduction = _reduction(None, None, reduction)
    a, pos, neg = anchor.dim(), positive.dim(), negative.dim()
    if not a == pos == neg:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {a}D, positive {pos}D, and negative {neg}D inputs"
        )
    dist = distance_function if distance_function is not None else lambda x, y: _distance(x, y, 2.0, 1e-6)
    dist_pos = dist(anchor, positive)
    dist_neg = dist(anchor, negative)
    if swap:
        dist_neg = _ops().minimum(dist_neg, dist(positive, negative))
    return _reduce_tensor((margin + dist_pos - dist_neg).clamp(min=0), reduction)


__all__: list[str] = []
FUNCTIONAL = [
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "l1_loss",
    "smooth_l1_loss", "huber_loss", "kl_div", "soft_margin_loss", "margin_ranking_loss", "hinge_embedding_loss",
    "cosine_embedding_loss", "poisson_nll_loss", "gaussian_nll_loss", "multi_margin_loss",
    "multilabel_soft_margin_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
]  # fmt: skip
TENSOR_METHODS: dict = {}
