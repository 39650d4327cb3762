"""Pooling: ``max_pool1d/2d/3d``, ``avg_pool1d/2d/3d``, ``adaptive_avg_pool1d/2d/3d``, ``adaptive_max_pool1d/2d/3d``.

Windows are strided views of the (padded) input; max/avg reduce them with one vectorised step per
kernel offset (a few, never one per output pixel). Gradients:

* max pooling routes the gradient to the argmax (``MaxScatter``, whose backward is ``MaxGather``
  and vice versa, so double backward works); ties go to the first element like torch, NaN wins.
* average pooling is linear: ``AvgPool``'s backward is ``AvgPoolT`` (its adjoint) and back.
* adaptive average pooling with a non-dividing output size is a product with two constant
  averaging matrices (``einsum``), with the matching gradients for free.
"""

# ruff: noqa: N803, N806 - shape letters (N, C, K, L, O, D) follow the usual notation

from __future__ import annotations

import itertools
from typing import Any

from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..tensor import Tensor
from .conv import add_windows, pad_spatial, prod, windows
from .linalg import _SNAME, Einsum

# ----- argument handling -------------------------------------------------------------------------------


def _tuple(value: Any, D: int, what: str, op: str, allow_none: bool = False) -> tuple | None:
    if value is None or (allow_none and isinstance(value, (list, tuple)) and len(value) == 0):
        return None
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = tuple(value) * D
        if len(value) != D:
            names = {1: "a single int", 2: "a tuple of two ints", 3: "a tuple of three ints"}[D]
            raise RuntimeError(f"{op}: {what} must either be a single int, or {names}")
        return tuple(int(v) for v in value)
    return (int(value),) * D


def _pool_out(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape."""
    num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _batched(op: str, x: Tensor, D: int, message: str | None = None) -> bool:
    nd = x._data.ndim
    if nd == D + 2:
        return True
    if nd == D + 1:
        return False
    if message is None:
        message = (
            f"{op}: Expected {D + 1}D or {D + 2}D (batch mode) tensor with optional 0 dim batch size for input, "
            f"but got:{list(x._data.shape)}"
        )
    raise RuntimeError(message)


def _check_sizes(op: str, x: Tensor, batched: bool) -> None:
    shape = x._data.shape
    start = 1 if batched else 0
    for i in range(start, len(shape)):
        if shape[i] == 0:
            raise RuntimeError(
                f"{op}: Expected input to have non-zero size for non-batch dimensions, but input has sizes "
                f"{list(shape)} with dimension {i} being empty"
            )


def _pool_geometry(op: str, x: Tensor, D: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                   ceil_mode: bool) -> tuple:  # fmt: skip
    k = _tuple(kernel_size, D, "kernel_size", op)
    s = _tuple(stride, D, "stride", op, allow_none=True) or k
    p = _tuple(padding, D, "padding", op)
    d = _tuple(dilation, D, "dilation", op)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got kernel_size={list(k)}")
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    if any(v < 0 for v in s):
        raise RuntimeError(f"{op}: stride should be greater than zero, but got stride={list(s)}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got dilation={list(d)}")
    if any(v < 0 for v in p):
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(p)}")
    for kk, pp, dd in zip(k, p, d):
        if pp > ((kk - 1) * dd + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={pp}, kernel_size={kk} and "
                f"dilation={dd}"
            )
    sp = x._data.shape[-D:]
    out = tuple(_pool_out(n, kk, st, pp, dd, ceil_mode) for n, kk, st, pp, dd in zip(sp, k, s, p, d))
    if any(o <= 0 for o in out):
        c = x._data.shape[-D - 1]
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, (c,) + sp))}). Calculated output size: "
            f"({'x'.join(map(str, (c,) + out))}). Output size is too small"
        )
    # trailing pad so that every window lies inside the padded input (ceil_mode may need more than p)
    hi = tuple((o - 1) * st + dd * (kk - 1) + 1 - n - pp for o, st, dd, kk, n, pp in zip(out, s, d, k, sp, p))
    return k, s, d, p, hi, out


def _no_bool(op: str, x: Tensor) -> None:
    if x._data.dtype.kind == "b":
        raise NotImplementedError(f"\"{op}\" not implemented for 'Bool'")


# ----- max pooling -------------------------------------------------------------------------------------


def _lowest(xp: Any, dtype: Any) -> Any:
    return -float("inf") if dtype.kind == "f" else xp.iinfo(dtype).min


class MaxPool(Function):
    """Returns (values, flat indices into each input plane); the indices are computed only when needed.

    Values: a running ``maximum`` over the kernel offsets (NaN propagates). Indices: the first offset whose
    value equals the max (a small-int pass per offset), then one gather of the flat offsets. Like torch,
    a NaN window points at its last NaN, and a window whose real elements are all the lowest value points
    at its first real element (never at padding).
    """

    _raw = True

    def name(self) -> str:
        return f"MaxPool{len(getattr(self, 'in_sp', (0, 0)))}DWithIndicesBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, geom: tuple, want_index: bool) -> Any:
        xp = ctx.xp
        k, s, d, p, hi, out_sp = geom
        D = len(k)
        in_sp = x.shape[-D:]
        low = _lowest(xp, x.dtype)
        padded = any(p) or any(h > 0 for h in hi)
        win = windows(xp, pad_spatial(xp, x, p, hi, low), k, s, d, out_sp)
        lead = (slice(None),) * (x.ndim - D)
        offsets = list(itertools.product(*(range(kk) for kk in k)))
        best = win[lead + offsets[0]].copy()
        for idx in offsets[1:]:
            xp.maximum(best, win[lead + idx], out=best)  # propagates NaN, like torch
        if not want_index:
            return best, xp.zeros(0, dtype=xp.int64)
        K = len(offsets)
        small = xp.int8 if K < 128 else (xp.int16 if K < 32768 else xp.int64)
        code = [small(kk) for kk in range(K)]  # scalars: np.where is ~8x slower with 0-d arrays
        if K <= 16:
            # branch-free: a bit per offset that holds the max, then the lowest set bit by table lookup
            bits = xp.uint8 if K <= 8 else xp.uint16
            flags = xp.zeros(best.shape, dtype=bits)
            tmp = xp.empty(best.shape, dtype=bits)
            for kk, idx in enumerate(offsets):
                hit = (win[lead + idx] == best).view(xp.uint8)
                if K > 8:
                    hit = hit.astype(bits)
                xp.left_shift(hit, kk, out=tmp)
                flags |= tmp
            lowest_bit = [0] + [(i & -i).bit_length() - 1 for i in range(1, 1 << K)]
            kidx = xp.take(xp.asarray(lowest_bit, dtype=small), flags)
        else:
            kidx = xp.zeros(best.shape, dtype=small)
            for kk in range(K - 1, -1, -1):  # ends at the first offset holding the max
                kidx = xp.where(win[lead + offsets[kk]] == best, code[kk], kidx)
        if x.dtype.kind == "f" and bool(xp.isnan(best).any()):
            for kk, idx in enumerate(offsets):  # ends at the last NaN
                v = win[lead + idx]
                kidx = xp.where(v != v, code[kk], kidx)
        plane = [prod(in_sp[j + 1 :]) for j in range(D)]
        table = xp.asarray([sum(i * dd * ps for i, dd, ps in zip(idx, d, plane)) for idx in offsets], dtype=xp.int64)
        base = None
        for j in range(D):
            pos = (xp.arange(out_sp[j], dtype=xp.int64) * s[j] - p[j]).reshape((-1,) + (1,) * (D - 1 - j))
            base = pos * plane[j] if base is None else base + pos * plane[j]
        if padded:
            stuck = best == low  # only padding-or-lowest values: torch keeps the first real element
            if bool(stuck.any()):
                first = None
                for j in range(D):
                    start = xp.arange(out_sp[j], dtype=xp.int64) * s[j] - p[j]
                    skip = xp.where(start < 0, (-start + d[j] - 1) // d[j], 0)
                    f = skip.reshape((-1,) + (1,) * (D - 1 - j)) * prod(k[j + 1 :])
                    first = f if first is None else first + f
                kidx = xp.where(stuck, xp.broadcast_to(first, best.shape).astype(small), kidx)
        index = xp.take(table, kidx)
        index += base
        ctx.save_for_backward(index)
        ctx.in_sp = in_sp
        ctx.overlap = any(st < dd * (kk - 1) + 1 for st, dd, kk in zip(s, d, k))
        return best, index

    @staticmethod
    def backward(ctx: Any, grad: Tensor, grad_index: Any = None) -> Any:
        (index,) = ctx.saved_tensors
        return MaxScatter.apply(grad, index, ctx.in_sp, ctx.overlap), None, None


class MaxScatter(Function):
    """``out[..., index] += grad`` per plane: the gradient of max pooling (its backward is a gather)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, grad: Any, index: Any, in_sp: tuple, overlap: bool) -> Any:
        xp = ctx.xp
        ctx.save_for_backward(index)
        ctx.nsp = len(in_sp)
        lead = index.shape[: index.ndim - len(in_sp)]
        planes, size, per = prod(lead), prod(in_sp), prod(index.shape[len(lead) :])
        out = xp.zeros(planes * size, dtype=grad.dtype)
        if planes and per:
            offsets = xp.arange(0, planes * size, size, dtype=index.dtype)[:, None]
            flat = (index.reshape(planes, per) + offsets).ravel()
            if overlap:
                ctx.backend.scatter_add(out, flat, grad.ravel())
            else:
                out[flat] = grad.ravel()
        return out.reshape(tuple(lead) + tuple(in_sp))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        (index,) = ctx.saved_tensors
        return MaxGather.apply(grad, index, ctx.nsp), None, None, None


class MaxGather(Function):
    """``out = x[..., index]`` per plane of the ``nsp`` trailing dims (the backward of ``MaxScatter``)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, index: Any, nsp: int) -> Any:
        ctx.save_for_backward(index)
        ctx.in_sp = x.shape[x.ndim - nsp :]
        lead = x.shape[: x.ndim - nsp]
        planes, per = prod(lead), prod(index.shape[len(lead) :])
        if not planes or not per:
            return ctx.xp.zeros(index.shape, dtype=x.dtype)
        out = ctx.xp.take_along_axis(x.reshape(planes, -1), index.reshape(planes, per), axis=1)
        return out.reshape(index.shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        (index,) = ctx.saved_tensors
        return MaxScatter.apply(grad, index, ctx.in_sp, True), None, None


def _want_index(x: Tensor, return_indices: bool) -> bool:
    return return_indices or (x.requires_grad and state.enabled)


def _max_pool(op: str, D: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,  # noqa: A002
              ceil_mode: bool, return_indices: bool) -> Any:  # fmt: skip
    _no_bool(op, input)
    message = f"non-empty {D + 1}D or {D + 2}D (batch mode) tensor expected for input" if D > 1 else None
    batched = _batched(op, input, D, message)
    if not all(input._data.shape[1 if batched else 0 :]):
        raise RuntimeError(
            f"Expected {D + 1}D or {D + 2}D (batch mode) tensor with optional 0 dim batch size for input, but got:"
            f"{list(input._data.shape)}"
        )
    geom = _pool_geometry(op, input, D, kernel_size, stride, padding, dilation, ceil_mode)
    values, index = MaxPool.apply(input, geom, _want_index(input, return_indices))
    return (values, index) if return_indices else values


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False) -> Any:  # fmt: skip
    """1-D max pooling over ``(N, C, L)`` or ``(C, L)``; with ``return_indices`` also the argmax positions."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False) -> Any:  # fmt: skip
    """2-D max pooling over ``(N, C, H, W)`` or ``(C, H, W)``; indices are flat positions in each H*W plane."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False) -> Any:  # fmt: skip
    """3-D max pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:  # fmt: skip
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:  # fmt: skip
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ----- average pooling ---------------------------------------------------------------------------------


def _avg_divisor(xp: Any, dtype: Any, in_sp: tuple, geom: tuple, count_include_pad: bool,
                 divisor_override: Any) -> Any:  # fmt: skip
    """The per-output-position divisor (separable: a product of per-dim counts)."""
    k, s, _, p, _, out_sp = geom
    if divisor_override is not None:
        return divisor_override
    D = len(k)
    div = None
    for j in range(D):
        start = xp.arange(out_sp[j]) * s[j] - p[j]
        end = xp.minimum(start + k[j], in_sp[j] + p[j])
        if count_include_pad:
            cnt = end - start
        else:
            cnt = xp.minimum(end, in_sp[j]) - xp.maximum(start, 0)
        cnt = cnt.astype(dtype).reshape((-1,) + (1,) * (D - 1 - j))
        div = cnt if div is None else div * cnt
    return div


class AvgPool(Function):
    _raw = True

    def name(self) -> str:
        return f"AvgPool{len(getattr(self, 'in_sp', (0, 0)))}DBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, geom: tuple, count_include_pad: bool, divisor_override: Any) -> Any:
        xp = ctx.xp
        k, s, d, p, hi, out_sp = geom
        D = len(k)
        ctx.args = (geom, count_include_pad, divisor_override)
        ctx.in_sp = x.shape[-D:]
        win = windows(xp, pad_spatial(xp, x, p, hi), k, s, d, out_sp)
        total = win.sum(axis=tuple(range(x.ndim - D, x.ndim)), dtype=x.dtype)
        div = _avg_divisor(xp, x.dtype if x.dtype.kind == "f" else xp.float64, ctx.in_sp, geom,
                           count_include_pad, divisor_override)  # fmt: skip
        if x.dtype.kind == "f":
            total /= div
            return total
        return xp.trunc(total / div).astype(x.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return AvgPoolT.apply(grad, ctx.in_sp, *ctx.args), None, None, None


class AvgPoolT(Function):
    """The adjoint of ``AvgPool``: spread ``grad / divisor`` over each window."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, g: Any, in_sp: tuple, geom: tuple, count_include_pad: bool, divisor_override: Any) -> Any:
        xp = ctx.xp
        k, s, d, p, hi, out_sp = geom
        ctx.args = (geom, count_include_pad, divisor_override)
        div = _avg_divisor(xp, g.dtype, in_sp, geom, count_include_pad, divisor_override)
        src = g / div
        lead = g.shape[: g.ndim - len(k)]
        target = xp.zeros(lead + tuple(in_sp), dtype=g.dtype)
        return add_windows(xp, target, src, k, s, d, p, False)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return AvgPool.apply(grad, *ctx.args), None, None, None, None


def _avg_pool(op: str, D: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,  # noqa: A002
              count_include_pad: bool, divisor_override: Any) -> Tensor:  # fmt: skip
    dt = input._data.dtype
    if dt.kind != "f" and dt.name != "int64":
        raise NotImplementedError(f"\"{op}\" not implemented for '{_SNAME[dt.name]}'")
    if D == 1:
        if input._data.ndim not in (2, 3):
            raise RuntimeError(
                f"Expected 2 to 3 dimensions, but got {input._data.ndim}-dimensional tensor for argument #1 'self' "
                f"(while checking arguments for {op})"
            )
    else:
        _batched(op, input, D, f"non-empty {D + 1}D or {D + 2}D (batch mode) tensor expected for input")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    geom = _pool_geometry(op, input, D, kernel_size, stride, padding, 1, ceil_mode)
    return AvgPool.apply(input, geom, bool(count_include_pad), divisor_override)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,  # noqa: A002
               count_include_pad: bool = True) -> Tensor:  # fmt: skip
    """1-D average pooling over ``(N, C, L)`` or ``(C, L)``."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,  # noqa: A002
               count_include_pad: bool = True, divisor_override: Any = None) -> Tensor:  # fmt: skip
    """2-D average pooling over ``(N, C, H, W)`` or ``(C, H, W)``."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)  # fmt: skip


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,  # noqa: A002
               count_include_pad: bool = True, divisor_override: Any = None) -> Tensor:  # fmt: skip
    """3-D average pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)  # fmt: skip


# ----- adaptive pooling --------------------------------------------------------------------------------


def _adaptive_sizes(op: str, input: Tensor, D: int, output_size: Any) -> tuple:  # noqa: A002
    sp = input._data.shape[-D:]
    if isinstance(output_size, Tensor):
        output_size = output_size.tolist()
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != D:
            raise RuntimeError(f"{op}: output_size must be {D}")
        out = tuple(n if o is None else int(o) for o, n in zip(output_size, sp))
    else:
        out = (int(output_size),) * D
    if any(o < 0 for o in out):
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0 but received {out}")
    return out


def _bounds(n: int, o: int) -> tuple:
    """torch's adaptive windows: start = floor(i * n / o), end = ceil((i + 1) * n / o)."""
    starts = [(i * n) // o for i in range(o)]
    ends = [-((-(i + 1) * n) // o) for i in range(o)]
    return starts, ends


def _adaptive_check(op: str, input: Tensor, D: int) -> bool:  # noqa: A002
    nd = input._data.ndim
    if nd not in (D + 1, D + 2):
        if D == 1:
            raise RuntimeError(
                f"Expected 2 to 3 dimensions, but got {nd}-dimensional tensor for argument #1 'self' "
                f"(while checking arguments for {op})"
            )
        raise RuntimeError(f"{op}(): Expected {D + 1}D or {D + 2}D tensor, but got {list(input._data.shape)}")
    batched = nd == D + 2
    _check_sizes(f"{op}()", input, batched)
    return batched


def _adaptive_avg(op: str, D: int, input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    dt = input._data.dtype
    if dt.kind != "f":
        raise NotImplementedError(f"\"{op}\" not implemented for '{_SNAME[dt.name]}'")
    _adaptive_check(op, input, D)
    out = _adaptive_sizes(op, input, D, output_size)
    sp = input._data.shape[-D:]
    if all(o > 0 and n % o == 0 for n, o in zip(sp, out)):  # plain average pooling with kernel = stride
        k = tuple(n // o for n, o in zip(sp, out))
        geom = (k, k, (1,) * D, (0,) * D, (0,) * D, out)
        return AvgPool.apply(input, geom, True, None)
    # y = x contracted with one (out, in) averaging matrix per spatial dim
    xp = input._backend.xp
    mats = []
    for n, o in zip(sp, out):
        starts, ends = _bounds(n, o)
        m = xp.zeros((o, n), dtype=dt)
        for i, (a, b) in enumerate(zip(starts, ends)):
            m[i, a:b] = 1.0 / (b - a)
        mats.append(Tensor._wrap(m, input._backend))
    letters = "uvw"[:D]
    outs = "xyz"[:D]
    lead = "abcd"[: input._data.ndim - D]
    terms = (lead + letters,) + tuple(o + i for o, i in zip(outs, letters))
    return Einsum.apply((terms, lead + outs), input, *mats)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output length (windows from torch's start/end formula)."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling to a fixed ``(H_out, W_out)`` (an int, or a tuple whose None entries keep the size)."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling to a fixed ``(D_out, H_out, W_out)``."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


class AdaptiveMaxPool(Function):
    """Max over torch's adaptive windows (padded to the largest window by repeating its last element)."""

    _raw = True

    def name(self) -> str:
        return f"AdaptiveMaxPool{len(getattr(self, 'in_sp', (0, 0)))}DBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, out_sp: tuple) -> Any:
        xp = ctx.xp
        D = len(out_sp)
        in_sp = x.shape[x.ndim - D :]
        lead = x.shape[: x.ndim - D]
        idx, flat = [], None
        for j, (n, o) in enumerate(zip(in_sp, out_sp)):
            starts, ends = _bounds(n, o)
            kmax = max(b - a for a, b in zip(starts, ends))
            rows = [[a + min(t, b - a - 1) for t in range(kmax)] for a, b in zip(starts, ends)]
            shape = [1] * (2 * D)
            shape[j], shape[D + j] = o, kmax
            arr = xp.asarray(rows, dtype=xp.int64).reshape(shape)  # dims (o_1..o_D, k_1..k_D)
            idx.append(arr)
            term = arr * prod(in_sp[j + 1 :])
            flat = term if flat is None else flat + term
        cand = x[(Ellipsis,) + tuple(idx)]  # lead + (o_1..o_D, k_1..k_D)
        cand = cand.reshape(tuple(lead) + tuple(out_sp) + (-1,))
        arg = cand.argmax(axis=-1)  # ties: the first in row-major window order, like torch
        if x.dtype.kind == "f":
            nan = cand != cand
            has_nan = nan.any(axis=-1)
            if bool(has_nan.any()):  # torch keeps the last NaN of the window
                last = nan.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
                arg = xp.where(has_nan, last, arg)
        arg = arg[..., None]
        values = xp.take_along_axis(cand, arg, axis=-1)[..., 0]
        flat = xp.broadcast_to(flat, tuple(out_sp) + flat.shape[D:]).reshape(tuple(out_sp) + (-1,))
        index = xp.take_along_axis(xp.broadcast_to(flat, cand.shape), arg, axis=-1)[..., 0]
        ctx.save_for_backward(index)
        ctx.in_sp = in_sp
        return values, index

    @staticmethod
    def backward(ctx: Any, grad: Tensor, grad_index: Any = None) -> Any:
        (index,) = ctx.saved_tensors
        return MaxScatter.apply(grad, index, ctx.in_sp, True), None


def _adaptive_max(op: str, D: int, input: Tensor, output_size: Any, return_indices: bool) -> Any:  # noqa: A002
    _no_bool(op, input)
    _adaptive_check(op, input, D)
    out = _adaptive_sizes(op, input, D, output_size)
    if any(o == 0 for o in out):
        xp = input._backend.xp
        shape = input._data.shape[: input._data.ndim - D] + out
        values = Tensor._wrap(xp.zeros(shape, dtype=input._data.dtype), input._backend)
        index = Tensor._wrap(xp.zeros(shape, dtype=xp.int64), input._backend)
        return (values, index) if return_indices else values
    values, index = AdaptiveMaxPool.apply(input, out)
    return (values, index) if return_indices else values


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Max pooling to a fixed output length."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Max pooling to a fixed ``(H_out, W_out)``."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Max pooling to a fixed ``(D_out, H_out, W_out)``."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


__all__ = [
    "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "avg_pool1d", "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
]  # fmt: skip
FUNCTIONAL = [
    "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
]  # fmt: skip
TENSOR_METHODS: dict = {}
