"""Convolutions: ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d``, ``unfold``/``fold``.

One im2col view (``as_strided`` over a padded copy, kernel dims before output dims, so the
copy into the column matrix runs over contiguous output rows) and one (batched) GEMM per call,
grouped convolutions as a batch of GEMMs over the groups. The three Functions are each
other's adjoints, so every backward is again made of them (double backward works):

* ``ConvNd``        y = conv(x, w) + b        dx = ConvTransposeNd(g, w), dw = ConvWeight(x, g)
* ``ConvTransposeNd`` y = conv^T(x, w) + b    dx = ConvNd(g, w),          dw = ConvWeight(g, x)
* ``ConvWeight``    dw = corr(x, g)           dx = ConvTransposeNd(g, v), dg = ConvNd(x, v)

A geometry ``geom = (kernel, stride, dilation, pad_lo, pad_hi, groups)`` (per spatial dim tuples)
describes the convolution from the big ("input") space to the small ("output") space; ``pad_hi``
may be negative (trailing input positions no window touches), which is how asymmetric 'same'
padding and ``output_padding`` are expressed.
"""

# ruff: noqa: N803, N806, E741 - shape letters (N, C, K, L, O, G, D) follow the usual conv notation

from __future__ import annotations

import itertools
from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from .broadcast import sum_to
from .linalg import _SNAME, _view

# ----- raw array helpers (shared with pooling) ---------------------------------------------------------


def prod(values: Any) -> int:
    n = 1
    for v in values:
        n *= v
    return n


def conv_out_size(n: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def pad_spatial(xp: Any, x: Any, lo: tuple, hi: tuple, value: Any = 0) -> Any:
    """``x`` with its trailing ``len(lo)`` dims padded by ``lo`` before and ``max(hi, 0)`` after."""
    if not any(lo) and all(h <= 0 for h in hi):
        return x
    D = len(lo)
    sp = x.shape[-D:]
    shape = x.shape[:-D] + tuple(n + a + max(b, 0) for n, a, b in zip(sp, lo, hi))
    out = xp.zeros(shape, dtype=x.dtype) if value == 0 else xp.full(shape, value, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(a, a + n) for a, n in zip(lo, sp))] = x
    return out


def windows(xp: Any, x: Any, k: tuple, s: tuple, d: tuple, out_sp: tuple) -> Any:
    """A strided view ``(*lead, *k, *out_sp)`` of the windows of the trailing dims of (padded) ``x``."""
    D = len(k)
    st = x.strides
    sp = st[-D:]
    shape = x.shape[:-D] + tuple(k) + tuple(out_sp)
    strides = st[:-D] + tuple(a * b for a, b in zip(sp, d)) + tuple(a * b for a, b in zip(sp, s))
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def _clip_ranges(k: int, s: int, d: int, lo: int, n: int, o: int) -> list:
    """Per kernel offset: (first output, end output, first target) of the windows that land inside [0, n)."""
    out = []
    for i in range(k):
        off = i * d - lo  # output position o lands on target o * s + off
        o0 = 0 if off >= 0 else (s - 1 - off) // s
        last = n - 1 - off
        o1 = min(o, last // s + 1) if last >= 0 else 0
        out.append((o0, o1, o0 * s + off) if o1 > o0 else None)
    return out


def add_windows(xp: Any, target: Any, src: Any, k: tuple, s: tuple, d: tuple, lo: tuple, per_offset: bool,
                out_sp: tuple | None = None) -> Any:  # fmt: skip
    """col2im: ``target[..., o*s + i*d - lo] += src[..., i, o]`` for every kernel offset ``i``, clipped.

    ``src`` is ``(*lead, *k, *out)`` when ``per_offset`` else ``(*lead, *out)`` (the same values for
    every offset), or a function of the offset ``i`` returning ``(*lead, *out)`` (then ``out_sp`` is
    needed). ``target`` is ``(*lead, *in)``; it is modified in place and returned.
    """
    D = len(k)
    in_sp = target.shape[-D:]
    if out_sp is None:
        out_sp = src.shape[-D:]
    ranges = [_clip_ranges(k[j], s[j], d[j], lo[j], in_sp[j], out_sp[j]) for j in range(D)]
    lead = (Ellipsis,)
    for idx in itertools.product(*(range(kk) for kk in k)):
        rs = [ranges[j][i] for j, i in enumerate(idx)]
        if any(r is None for r in rs):
            continue
        t_sl = tuple(slice(t0, t0 + (o1 - o0 - 1) * st + 1, st) for (o0, o1, t0), st in zip(rs, s))
        s_sl = tuple(slice(o0, o1) for o0, o1, _ in rs)
        if callable(src):
            target[lead + t_sl] += src(idx)[lead + s_sl]
        elif per_offset:
            target[lead + t_sl] += src[lead + idx + s_sl]
        else:
            target[lead + t_sl] += src[lead + s_sl]
    return target


def _im2col(xp: Any, x: Any, geom: tuple, out_sp: tuple) -> Any:
    """``(N, C, *k, *out)`` windows of the padded input (a view)."""
    k, s, d, lo, hi, _ = geom
    return windows(xp, pad_spatial(xp, x, lo, hi), k, s, d, out_sp)


# On the CPU the batch is processed a few samples at a time so each column matrix stays in cache
# (about 1.5x faster than one big im2col); on a GPU one launch over the whole batch is best.
_CPU_CHUNK = 1 << 20  # elements of column matrix per chunk


def _chunks(backend: Any, n: int, per_sample: int) -> list:
    step = max(1, _CPU_CHUNK // max(1, per_sample)) if backend.name == "numpy" else max(1, n)
    return [(a, min(n, a + step)) for a in range(0, n, step)]


def _conv_raw(backend: Any, x: Any, w: Any, geom: tuple) -> Any:
    xp = backend.xp
    k, s, d, lo, hi, G = geom
    N, C = x.shape[:2]
    O = w.shape[0]
    out_sp = tuple(conv_out_size(n, *a) for n, a in zip(x.shape[2:], zip(k, s, d, lo, hi)))
    if _DEPTHWISE and C == G == O and G > 1:
        return _depthwise_raw(xp, x, w, geom, out_sp)
    CgK, L = C // G * prod(k), prod(out_sp)
    win = _im2col(xp, x, geom, out_sp)
    if G == 1:
        wm = w.reshape(O, CgK)
        out = xp.empty((N, O, L), dtype=x.dtype)
    else:
        wm = w.reshape(G, O // G, CgK)
        out = xp.empty((N, G, O // G, L), dtype=x.dtype)
    for n0, n1 in _chunks(backend, N, C * prod(k) * L):
        cols = win[n0:n1].reshape((n1 - n0,) + wm.shape[:-2] + (CgK, L))
        xp.matmul(wm, cols, out=out[n0:n1])
    return out.reshape((N, O) + out_sp)


def _conv_transpose_raw(backend: Any, g: Any, w: Any, geom: tuple, in_sp: tuple) -> Any:
    """The adjoint of ``_conv_raw`` in ``x``: ``g (N, O, *out)`` -> ``(N, C, *in_sp)``.

    ``cols = W^T g`` then col2im. With stride 1 (and 2+ spatial dims) the planes are handled flat: ``g`` is
    laid out with the padded input's row width (zeros in the extra columns), so each kernel offset is one
    contiguous shifted add instead of a strided one.
    """
    xp = backend.xp
    k, s, d, lo, hi, G = geom
    N, O = g.shape[:2]
    out_sp = tuple(g.shape[2:])
    D, K = len(k), prod(k)
    Cg = w.shape[1]
    C = Cg * G
    if _DEPTHWISE and Cg == 1 and O == G > 1:
        return _depthwise_transpose_raw(xp, g, w, geom, in_sp)
    if _flat_ok(backend, s, G, N):
        return _flat_transpose(xp, g, w, geom, in_sp)
    flat = D > 1 and all(st == 1 for st in s)
    if flat:
        pp = tuple(n + a + max(b, 0) for n, a, b in zip(in_sp, lo, hi))  # padded input extents
        gp = xp.zeros((N, O, out_sp[0]) + pp[1:], dtype=g.dtype)
        gp[(slice(None), slice(None)) + tuple(slice(0, o) for o in out_sp)] = g
        g, L = gp, out_sp[0] * prod(pp[1:])
        plane = [prod(pp[j + 1 :]) for j in range(D)]
        length = sum((o - 1) * st for o, st in zip(out_sp, plane)) + 1
        offsets = [sum(i * di * st for i, di, st in zip(idx, d, plane)) for idx in itertools.product(*map(range, k))]
        target = xp.zeros((N, C, prod(pp)), dtype=g.dtype)
    else:
        L = prod(out_sp)
        target = xp.zeros((N, C) + tuple(in_sp), dtype=g.dtype)
    if G == 1:
        wt = w.reshape(O, Cg * K).T
        gm = g.reshape(N, O, L)
    else:
        wt = w.reshape(G, O // G, Cg * K).swapaxes(1, 2)
        gm = g.reshape(N, G, O // G, L)
    buf = None
    for n0, n1 in _chunks(backend, N, C * K * L):
        shape = (n1 - n0,) + wt.shape[:-2] + (wt.shape[-2], L)
        if buf is None or buf.shape != shape:
            buf = xp.empty(shape, dtype=g.dtype)  # reused: no fresh pages per chunk
        cols = xp.matmul(wt, gm[n0:n1], out=buf)
        part = target[n0:n1]
        if flat:
            cols = cols.reshape(n1 - n0, C, K, L)
            for kk, off in enumerate(offsets):
                part[:, :, off : off + length] += cols[:, :, kk, :length]
        else:
            add_windows(xp, part, cols.reshape((n1 - n0, C) + tuple(k) + out_sp), k, s, d, lo, True)
    if not flat:
        return target
    target = target.reshape((N, C) + pp)
    if any(lo) or pp != tuple(in_sp):
        target = xp.ascontiguousarray(target[(Ellipsis,) + tuple(slice(a, a + n) for a, n in zip(lo, in_sp))])
    return target


def _conv_weight_raw(backend: Any, x: Any, g: Any, geom: tuple) -> Any:
    """The weight gradient: ``(O, C/G, *k)`` from input ``x`` and output gradient ``g``."""
    xp = backend.xp
    k, s, d, lo, hi, G = geom
    N, C = x.shape[:2]
    O = g.shape[1]
    out_sp = g.shape[2:]
    CgK, L = C // G * prod(k), prod(out_sp)
    if _DEPTHWISE and C == G == O and G > 1:
        return _depthwise_weight_raw(xp, x, g, geom, (O, 1) + tuple(k))
    win = _im2col(xp, x, geom, out_sp)
    total = buf = None
    for n0, n1 in _chunks(backend, N, C * prod(k) * L):
        shape = (n1 - n0, CgK, L) if G == 1 else (n1 - n0, G, CgK, L)
        if buf is None or buf.shape != shape:
            buf = xp.empty(shape, dtype=x.dtype)  # reused: no fresh pages per chunk
        xp.copyto(buf.reshape(win[n0:n1].shape), win[n0:n1])  # im2col of this chunk
        g3 = g[n0:n1].reshape((n1 - n0, O, L) if G == 1 else (n1 - n0, G, O // G, L))
        part = xp.matmul(g3, buf.swapaxes(-1, -2)).sum(axis=0)
        total = part if total is None else total + part
    if total is None:
        total = xp.zeros((O, CgK), dtype=x.dtype)
    return total.reshape((O, C // G) + tuple(k))


# Stride-1, ungrouped input gradient on the CPU: the output gradient is laid out channel-major, ``(O, N * P)``
# with ``P`` the padded input plane (each output plane at the top-left of its padded plane, zeros elsewhere),
# so every kernel offset is one contiguous shift of the flat columns. Per block of columns one GEMM
# ``W^T (k*C, O) @ g (O, B)`` and one add per offset into the shifted columns of the ``(C, N * P)`` target
# (~1.5x faster than per-sample GEMMs and a strided col2im); blocks keep the columns in cache.
def _flat_cn(xp: Any, a: Any, pp: tuple, start: tuple) -> Any:
    """``a (N, C, *sp)`` as ``(C, N * prod(pp))``: each plane written at ``start`` into zeros of extent ``pp``."""
    N, C = a.shape[:2]
    if tuple(a.shape[2:]) == tuple(pp):
        return xp.ascontiguousarray(a.swapaxes(0, 1)).reshape(C, N * prod(pp))
    out = xp.zeros((C, N) + tuple(pp), dtype=a.dtype)
    out[(slice(None), slice(None)) + tuple(slice(b, b + n) for b, n in zip(start, a.shape[2:]))] = a.swapaxes(0, 1)
    return out.reshape(C, N * prod(pp))


def _flat_geometry(k: tuple, d: tuple, pp: tuple, N: int) -> tuple:
    plane = [prod(pp[j + 1 :]) for j in range(len(pp))]
    offs = [sum(i * di * st for i, di, st in zip(idx, d, plane)) for idx in _offsets(k)]
    T = N * prod(pp)
    return offs, T - max(offs)


def _flat_ok(backend: Any, s: tuple, G: int, N: int) -> bool:
    return backend.name == "numpy" and G == 1 and N > 0 and all(st == 1 for st in s)


def _flat_crop_back(xp: Any, a: Any, N: int, pp: tuple, start: tuple, size: tuple) -> Any:
    """``a (C, N * prod(pp))`` cropped per plane to ``size`` at ``start``, as a contiguous ``(N, C, *size)``."""
    a = a.reshape((a.shape[0], N) + tuple(pp))
    a = a[(slice(None), slice(None)) + tuple(slice(b, b + n) for b, n in zip(start, size))]
    return xp.ascontiguousarray(a.swapaxes(0, 1))


def _flat_transpose(xp: Any, g: Any, w: Any, geom: tuple, in_sp: tuple) -> Any:
    k, s, d, lo, hi, G = geom
    N, O = g.shape[:2]
    C, K = w.shape[1], prod(k)
    pp = tuple(n + a + max(b, 0) for n, a, b in zip(in_sp, lo, hi))
    offs, span = _flat_geometry(k, d, pp, N)
    gf = _flat_cn(xp, g, pp, (0,) * len(pp))
    wt = xp.ascontiguousarray(w.reshape(O, C, K).transpose(2, 1, 0)).reshape(K * C, O)
    target = xp.zeros((C, N * prod(pp)), dtype=g.dtype)
    B = max(512, 2 * _CPU_CHUNK // (K * C))  # columns per block: the block's cols stay in cache
    buf = xp.empty((K * C, B), dtype=g.dtype)
    for b0 in range(0, span, B):
        b1 = min(span, b0 + B)
        cols = xp.matmul(wt, gf[:, b0:b1], out=buf[:, : b1 - b0])
        for kk, off in enumerate(offs):
            target[:, b0 + off : b1 + off] += cols[kk * C : (kk + 1) * C]
    return _flat_crop_back(xp, target, N, pp, lo, in_sp)


_DEPTHWISE = True

# Depthwise convolutions (groups == in channels == out channels): a multiply-add per kernel offset over the
# output beats a batch of 1-row GEMMs (~1.3x). With stride 1 the padded planes are handled flat (rows of the
# padded width), so each offset is one contiguous shifted slice.


def _offsets(k: tuple) -> list:
    return list(itertools.product(*(range(n) for n in k)))


def _flat_plan(in_sp: tuple, out_sp: tuple, k: tuple, d: tuple, lo: tuple, hi: tuple) -> tuple:
    """Padded extents, flat offset of every kernel position, flat span of the outputs, rows * padded width."""
    pp = tuple(n + a + max(b, 0) for n, a, b in zip(in_sp, lo, hi))
    plane = [prod(pp[j + 1 :]) for j in range(len(pp))]
    offs = [sum(i * di * st for i, di, st in zip(idx, d, plane)) for idx in _offsets(k)]
    span = sum((o - 1) * st for o, st in zip(out_sp, plane)) + 1
    return pp, offs, span, out_sp[0] * plane[0]


def _crop(xp: Any, a: Any, lead: tuple, full: tuple, start: tuple, size: tuple) -> Any:
    """``a`` viewed as ``lead + full``, cropped to ``size`` from ``start`` (contiguous)."""
    a = a.reshape(lead + full)
    if full == tuple(size):
        return a
    return xp.ascontiguousarray(a[(Ellipsis,) + tuple(slice(b, b + n) for b, n in zip(start, size))])


def _row_padded(xp: Any, g: Any, pp: tuple) -> Any:
    """``g (..., *out)`` written into zeros of shape ``(..., out[0], *pp[1:])`` (rows of the padded width)."""
    D = len(pp)
    out_sp = g.shape[-D:]
    gp = xp.zeros(g.shape[:-D] + (out_sp[0],) + pp[1:], dtype=g.dtype)
    gp[(Ellipsis,) + tuple(slice(0, o) for o in out_sp)] = g
    return gp


def _depthwise_raw(xp: Any, x: Any, w: Any, geom: tuple, out_sp: tuple) -> Any:
    k, s, d, lo, hi, G = geom
    N, D, K = x.shape[0], len(k), prod(k)
    wk = w.reshape(G, K)
    if all(st == 1 for st in s):
        pp, offs, span, rows = _flat_plan(x.shape[2:], out_sp, k, d, lo, hi)
        xf = pad_spatial(xp, x, lo, hi).reshape(N, G, prod(pp))
        out = xp.zeros((N, G, rows), dtype=x.dtype)
        tmp = xp.empty((N, G, span), dtype=x.dtype)
        for kk, off in enumerate(offs):
            xp.multiply(xf[..., off : off + span], wk[:, kk, None], out=tmp)
            out[..., :span] += tmp
        return _crop(xp, out, (N, G), (out_sp[0],) + pp[1:], (0,) * D, out_sp)
    win = _im2col(xp, x, geom, out_sp)  # (N, G, *k, *out)
    wk = wk.reshape((G, K) + (1,) * D)
    out = xp.zeros((N, G) + tuple(out_sp), dtype=x.dtype)
    tmp = xp.empty_like(out)
    for kk, idx in enumerate(_offsets(k)):
        xp.multiply(win[(slice(None), slice(None)) + idx], wk[:, kk], out=tmp)
        out += tmp
    return out


def _depthwise_transpose_raw(xp: Any, g: Any, w: Any, geom: tuple, in_sp: tuple) -> Any:
    k, s, d, lo, hi, G = geom
    N, D, K = g.shape[0], len(k), prod(k)
    out_sp = tuple(g.shape[2:])
    wk = w.reshape(G, K)
    if all(st == 1 for st in s):
        pp, offs, span, rows = _flat_plan(in_sp, out_sp, k, d, lo, hi)
        gp = _row_padded(xp, g, pp).reshape(N, G, rows)[..., :span]
        target = xp.zeros((N, G, prod(pp)), dtype=g.dtype)
        for kk, off in enumerate(offs):
            target[..., off : off + span] += gp * wk[:, kk, None]
        return _crop(xp, target, (N, G), pp, lo, in_sp)
    wk = wk.reshape((G, K) + (1,) * D)
    index = {idx: kk for kk, idx in enumerate(_offsets(k))}
    target = xp.zeros((N, G) + tuple(in_sp), dtype=g.dtype)
    return add_windows(xp, target, lambda idx: g * wk[:, index[idx]], k, s, d, lo, True, out_sp)


def _depthwise_weight_raw(xp: Any, x: Any, g: Any, geom: tuple, w_shape: tuple) -> Any:
    k, s, d, lo, hi, G = geom
    N, D = x.shape[0], len(k)
    out_sp = tuple(g.shape[2:])
    out = xp.empty((G, prod(k)), dtype=g.dtype)
    if all(st == 1 for st in s):
        pp, offs, span, rows = _flat_plan(x.shape[2:], out_sp, k, d, lo, hi)
        xf = pad_spatial(xp, x, lo, hi).reshape(N, G, prod(pp))
        gp = _row_padded(xp, g, pp).reshape(N, G, rows)[..., :span]
        for kk, off in enumerate(offs):
            out[:, kk] = xp.einsum("ngp,ngp->g", gp, xf[..., off : off + span])
        return out.reshape(w_shape)
    win = _im2col(xp, x, geom, out_sp)
    sp = "xyz"[:D]
    eq = f"ng{sp},ng{sp}->g"
    for kk, idx in enumerate(_offsets(k)):
        out[:, kk] = xp.einsum(eq, g, win[(slice(None), slice(None)) + idx])
    return out.reshape(w_shape)


def _add_bias(out: Any, b: Any) -> Any:
    """``out`` (N, O, *spatial) plus the per-channel bias ``b`` (None: none), in place."""
    if b is not None:
        out += b.reshape((-1,) + (1,) * (out.ndim - 2))
    return out


def _bias_grad(grad: Tensor) -> Tensor:
    shape = grad._data.shape
    O = shape[1]
    return _view(sum_to(grad, (O,) + (1,) * (len(shape) - 2)), (O,))


def _hi_for(in_sp: tuple, out_sp: tuple, k: tuple, s: tuple, d: tuple, lo: tuple) -> tuple:
    """The trailing pad that makes a conv map ``in_sp`` exactly onto ``out_sp`` (no unused tail)."""
    return tuple((o - 1) * st + di * (kk - 1) + 1 - a - n for n, o, kk, st, di, a in zip(in_sp, out_sp, k, s, d, lo))


# ----- Functions ---------------------------------------------------------------------------------------


class ConvNd(Function):
    _raw = True

    def name(self) -> str:
        return "ConvolutionBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any, b: Any, geom: tuple) -> Any:
        ctx.save_for_backward(x, w)
        ctx.geom = geom
        return _add_bias(_conv_raw(ctx.backend, x, w, geom), b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        geom = ctx.geom
        gx = ConvTransposeNd.apply(grad, w, None, geom, x._data.shape[2:]) if need_x else None
        gw = ConvWeight.apply(x, grad, geom) if need_w else None
        gb = _bias_grad(grad) if need_b else None
        return gx, gw, gb, None


class ConvTransposeNd(Function):
    """The adjoint of ``ConvNd`` in its input: ``geom`` is the conv from this op's output to its input."""

    _raw = True

    def name(self) -> str:
        return "ConvolutionBackward0"

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any, b: Any, geom: tuple, out_sp: tuple) -> Any:
        ctx.save_for_backward(x, w)
        ctx.geom = geom
        return _add_bias(_conv_transpose_raw(ctx.backend, x, w, geom, tuple(out_sp)), b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        geom = ctx.geom
        gx = ConvNd.apply(grad, w, None, geom) if need_x else None
        gw = ConvWeight.apply(grad, x, geom) if need_w else None
        gb = _bias_grad(grad) if need_b else None
        return gx, gw, gb, None, None


class ConvWeight(Function):
    """The weight gradient of ``ConvNd`` as an op of (input, output gradient); bilinear, so differentiable."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, g: Any, geom: tuple) -> Any:
        ctx.save_for_backward(x, g)
        ctx.geom = geom
        return _conv_weight_raw(ctx.backend, x, g, geom)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad[:2]
        geom = ctx.geom
        gx = ConvTransposeNd.apply(g, grad, None, geom, x._data.shape[2:]) if need_x else None
        gg = ConvNd.apply(x, grad, None, geom) if need_g else None
        return gx, gg, None


# ----- argument handling -------------------------------------------------------------------------------


def _ntuple(value: Any, n: int, name: str, op: str) -> tuple:
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if len(value) == 1 and n > 1:
            value = tuple(value) * n
        if len(value) != n:
            raise RuntimeError(
                f"expected {name} to be a single integer value or a list of {n} values to match the convolution "
                f"dimensions, but got {name}={list(value)}"
            )
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _tensor_type(t: Tensor) -> str:
    return f"{t.device.type == 'cuda' and 'torch.cuda.' or 'torch.'}{_SNAME[t._data.dtype.name]}Tensor"


def _check_conv_dtypes(op: str, x: Tensor, w: Tensor, b: Tensor | None) -> None:
    if not isinstance(x, Tensor) or not isinstance(w, Tensor):
        raise TypeError(f"{op}(): input and weight must be Tensors")
    if x._data.dtype != w._data.dtype:
        raise RuntimeError(
            f"Input type ({_tensor_type(x)}) and weight type ({_tensor_type(w)}) should be the same or input "
            "should be a MKLDNN tensor and weight is a dense tensor"
        )
    if b is not None and b._data.dtype != x._data.dtype:
        raise RuntimeError(
            f"Input type ({_CN[x._data.dtype.name]}) and bias type ({_CN[b._data.dtype.name]}) should be the same"
        )
    if x._data.dtype.kind == "b":
        raise NotImplementedError(f"\"{op}\" not implemented for 'Bool'")


_CN = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
       "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}  # fmt: skip


def _batched(op: str, x: Tensor, D: int) -> bool:
    nd = x._data.ndim
    if nd == D + 2:
        return True
    if nd == D + 1:
        return False
    raise RuntimeError(
        f"Expected {D + 1}D (unbatched) or {D + 2}D (batched) input to {op}, but got input of size: "
        f"{list(x._data.shape)}"
    )


def _check_weight(op: str, w: Tensor, D: int) -> None:
    if w._data.ndim != D + 2:
        raise RuntimeError(f"{op}: expected weight to be {D + 2}-D, but got weight of size {list(w._data.shape)}")


def _check_positive(stride: tuple, dilation: tuple, padding: Any) -> None:
    if any(v <= 0 for v in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(v <= 0 for v in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if not isinstance(padding, str) and any(v < 0 for v in padding):
        raise RuntimeError("negative padding is not supported")


def _conv(op: str, D: int, input: Tensor, weight: Tensor, bias: Any, stride: Any, padding: Any,  # noqa: A002
          dilation: Any, groups: int) -> Tensor:  # fmt: skip
    _check_conv_dtypes(op, input, weight, bias)
    batched = _batched(op, input, D)
    _check_weight(op, weight, D)
    s = _ntuple(stride, D, "stride", op)
    d = _ntuple(dilation, D, "dilation", op)
    ws = weight._data.shape
    k = ws[2:]
    if isinstance(padding, str):
        if padding == "valid":
            lo = hi = (0,) * D
        elif padding == "same":
            if any(v != 1 for v in s):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            lo = tuple(di * (kk - 1) // 2 for kk, di in zip(k, d))
            hi = tuple(di * (kk - 1) - a for kk, di, a in zip(k, d, lo))
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        _check_positive(s, d, padding)
    else:
        lo = hi = _ntuple(padding, D, "padding", op)
        _check_positive(s, d, lo)
    groups = int(groups)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    xs = input._data.shape if batched else (1,) + input._data.shape
    if ws[0] == 0:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got weight of size "
            f"{list(ws)} instead"
        )
    if ws[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of "
            f"size [{list(ws)}] instead"
        )
    if xs[1] != ws[1] * groups:
        shown = list(input._data.shape)
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(ws)}, expected input{shown} to have {ws[1] * groups} "
            f"channels, but got {xs[1]} channels instead"
        )
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != ws[0]):
        raise RuntimeError(
            f"Given weight of size {list(ws)}, expected bias to be 1-dimensional with {ws[0]} elements, but got "
            f"bias of size {list(bias._data.shape)} instead"
        )
    padded = tuple(n + a + b for n, a, b in zip(xs[2:], lo, hi))
    eff = tuple(di * (kk - 1) + 1 for kk, di in zip(k, d))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
            f"({' x '.join(map(str, eff))}). Kernel size can't be greater than actual input size"
        )
    geom = (tuple(k), s, d, lo, hi, groups)
    x = input if batched else _view(input, xs)
    out = ConvNd.apply(x, weight, bias, geom)
    return out if batched else _view(out, out._data.shape[1:])


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,  # noqa: A002
           dilation: Any = 1, groups: int = 1) -> Tensor:  # fmt: skip
    """1-D convolution (cross-correlation) over ``(N, C, L)`` or ``(C, L)`` input."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,  # noqa: A002
           dilation: Any = 1, groups: int = 1) -> Tensor:  # fmt: skip
    """2-D convolution (cross-correlation) over ``(N, C, H, W)`` or ``(C, H, W)`` input."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,  # noqa: A002
           dilation: Any = 1, groups: int = 1) -> Tensor:  # fmt: skip
    """3-D convolution (cross-correlation) over ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(op: str, D: int, input: Tensor, weight: Tensor, bias: Any, stride: Any, padding: Any,  # noqa: A002
                    output_padding: Any, groups: int, dilation: Any) -> Tensor:  # fmt: skip
    _check_conv_dtypes(op, input, weight, bias)
    batched = _batched(op, input, D)
    _check_weight(op, weight, D)
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    s = _ntuple(stride, D, "stride", op)
    d = _ntuple(dilation, D, "dilation", op)
    p = _ntuple(padding, D, "padding", op)
    op_ = _ntuple(output_padding, D, "output_padding", op)
    _check_positive(s, d, p)
    if any(v < 0 for v in op_):
        raise RuntimeError("negative output_padding is not supported")
    if any(o >= st and o >= di for o, st, di in zip(op_, s, d)):
        names = ("height", "width") if D == 2 else tuple(f"{i}" for i in range(D))
        parts = " ".join(f"output_padding_{n}: {o}" for n, o in zip(names, op_))
        parts += " " + " ".join(f"stride_{n}: {o}" for n, o in zip(names, s))
        parts += " " + " ".join(f"dilation_{n}: {o}" for n, o in zip(names, d))
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got {parts}")
    groups = int(groups)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    ws = weight._data.shape
    xs = input._data.shape if batched else (1,) + input._data.shape
    if ws[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of "
            f"size [{list(ws)}] instead"
        )
    if xs[1] != ws[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(ws)}, expected input{list(input._data.shape)} to have "
            f"{ws[0]} channels, but got {xs[1]} channels instead"
        )
    c_out = ws[1] * groups
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != c_out):
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(ws)}, expected bias to be 1-dimensional with {c_out} "
            f"elements, but got bias of size {list(bias._data.shape)} instead"
        )
    k = tuple(ws[2:])
    out_sp = tuple(
        (n - 1) * st - 2 * pp + di * (kk - 1) + o + 1 for n, st, pp, di, kk, o in zip(xs[2:], s, p, d, k, op_)
    )
    if any(v < 0 for v in out_sp):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, xs[2:]))}). Calculated output size per channel: "
            f"({' x '.join(map(str, out_sp))}). Output size is too small"
        )
    hi = _hi_for(out_sp, xs[2:], k, s, d, p)
    geom = (k, s, d, p, hi, groups)
    x = input if batched else _view(input, xs)
    out = ConvTransposeNd.apply(x, weight, bias, geom, out_sp)
    return out if batched else _view(out, out._data.shape[1:])


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:  # fmt: skip
    """1-D transposed convolution (the gradient of conv1d with respect to its input)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)  # fmt: skip


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:  # fmt: skip
    """2-D transposed convolution (the gradient of conv2d with respect to its input)."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)  # fmt: skip


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:  # fmt: skip
    """3-D transposed convolution (the gradient of conv3d with respect to its input)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)  # fmt: skip


# ----- unfold / fold (im2col / col2im) -------------------------------------------------------------------


class Unfold(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, geom: tuple, out_sp: tuple) -> Any:
        ctx.geom = geom
        ctx.in_sp = x.shape[2:]
        N, C = x.shape[:2]
        cols = _im2col(ctx.xp, x, geom, out_sp)
        return cols.reshape(N, C * prod(geom[0]), prod(out_sp))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return Fold.apply(grad, ctx.geom, ctx.in_sp, tuple(_out_sizes(ctx.in_sp, ctx.geom))), None, None


class Fold(Function):
    _raw = True

    @staticmethod
    def forward(ctx: Any, cols: Any, geom: tuple, in_sp: tuple, out_sp: tuple) -> Any:
        ctx.geom = geom
        ctx.out_sp = out_sp
        k, s, d, lo, _, _ = geom
        N, CK = cols.shape[:2]
        C = CK // prod(k)
        src = cols.reshape((N, C) + tuple(k) + tuple(out_sp))
        target = ctx.xp.zeros((N, C) + tuple(in_sp), dtype=cols.dtype)
        return add_windows(ctx.xp, target, src, k, s, d, lo, True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        return Unfold.apply(grad, ctx.geom, ctx.out_sp), None, None, None


def _out_sizes(in_sp: tuple, geom: tuple) -> list:
    k, s, d, lo, hi, _ = geom
    return [conv_out_size(n, *a) for n, a in zip(in_sp, zip(k, s, d, lo, hi))]


def _fold_args(kernel_size: Any, dilation: Any, padding: Any, stride: Any, op: str) -> tuple:
    k = _ntuple(kernel_size, 2, "kernel_size", op)
    d = _ntuple(dilation, 2, "dilation", op)
    p = _ntuple(padding, 2, "padding", op)
    s = _ntuple(stride, 2, "stride", op)
    if any(v <= 0 for v in k):
        raise RuntimeError(
            f"kernel size should be greater than zero, but got kernel_height: {k[0]} kernel_width: {k[1]}"
        )
    if any(v <= 0 for v in s):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} stride_width: {s[1]}")
    if any(v <= 0 for v in d):
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilation_height: {d[0]} dilation_width: {d[1]}"
        )
    if any(v < 0 for v in p):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} pad_width: {p[1]}")
    return (k, s, d, p, p, 1)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:  # noqa: A002
    """Extract sliding blocks: ``(N, C, H, W)`` -> ``(N, C * prod(kernel_size), L)`` (im2col)."""
    nd = input._data.ndim
    if nd not in (3, 4):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for "
            f"input, but got: {list(input._data.shape)}"
        )
    geom = _fold_args(kernel_size, dilation, padding, stride, "unfold")
    x = input if nd == 4 else _view(input, (1,) + input._data.shape)
    out_sp = tuple(_out_sizes(x._data.shape[2:], geom))
    if any(o <= 0 for o in out_sp):
        raise RuntimeError(
            f"Given input with spatial size ({', '.join(map(str, x._data.shape[2:]))}), kernel_size="
            f"{geom[0]}, dilation={geom[2]}, padding={geom[3]}, calculated shape of the array of sliding blocks as "
            f"({', '.join(map(str, out_sp))}), but its components must be at least one."
        )
    out = Unfold.apply(x, geom, out_sp)
    return out if nd == 4 else _view(out, out._data.shape[1:])


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
         stride: Any = 1) -> Tensor:  # fmt: skip
    """Combine sliding blocks into a tensor, summing overlaps (col2im; the adjoint of ``unfold``)."""
    nd = input._data.ndim
    if nd not in (2, 3):
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and non-zero dimensions for input, "
            f"but got: {list(input._data.shape)}"
        )
    geom = _fold_args(kernel_size, dilation, padding, stride, "fold")
    in_sp = _ntuple(output_size, 2, "output_size", "fold")
    x = input if nd == 3 else _view(input, (1,) + input._data.shape)
    k, s, d, p = geom[:4]
    CK, L = x._data.shape[1:]
    if CK % prod(k):
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={CK} and kernel_size={k}."
        )
    out_sp = tuple(_out_sizes(in_sp, geom))
    if prod(out_sp) != L or any(o <= 0 for o in out_sp):
        raise RuntimeError(
            f"Given output_size={in_sp}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, expected size of "
            f"input's dimension 2 to match the calculated number of sliding blocks {' * '.join(map(str, out_sp))} = "
            f"{prod(out_sp)}, but got input.size(2)={L}."
        )
    out = Fold.apply(x, geom, in_sp, out_sp)
    return out if nd == 3 else _view(out, out._data.shape[1:])


__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
FUNCTIONAL = [*__all__, "unfold", "fold"]
TENSOR_METHODS: dict = {}
