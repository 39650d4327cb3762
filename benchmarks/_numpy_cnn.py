"""The MNIST CNN training step written by hand in NumPy: the floor a framework on NumPy can reach.

Same math as ``torch.nn.Sequential(Conv2d(1, 32, 3), ReLU, Conv2d(32, 64, 3), ReLU, MaxPool2d(2), Flatten,
Linear(9216, 128), ReLU, Linear(128, 10))`` with mean cross-entropy and plain SGD, on torch state_dict keys.

Layout and tricks (measured on a 2-core OpenBLAS box: about 48 ms a step, against 56 ms for the same math run one
whole-batch phase at a time, and 45 ms for conv2 alone with NHWC im2col rows and a strided col2im):
- Activations are channel-major over the whole batch, ``(C, N*H*W)``, on a "full grid": conv2 is computed at every
  one of the 26x26 positions of its input, the last 2 rows and columns of each image being junk that is never used.
  A 3x3 kernel offset is then a plain shift of the flat position index, so im2col is 9 contiguous row-block copies,
  each conv GEMM is one 2-D GEMM, and col2im is 9 contiguous shifted adds (no short strided inner loops). The junk
  costs 17% extra conv2 FLOPs, less than strided copies/adds of the exact positions cost.
- The conv2 output gradient is zero on the junk border, so the weight and input gradients on the full grid are exact.
- conv2, the pool and their backward run per block of 8 images so each block's im2col, conv output and their
  gradients stay in cache, cutting memory traffic (the im2col is rebuilt in the backward pass instead of keeping 50 MB of it).
- Max pool commutes with the per-channel bias and with ReLU, so conv2's bias and ReLU are applied after pooling
  (4x fewer elements) and conv2's ReLU mask is the pooled output's sign. The 2x2 max is two passes (column pairs
  over the flat grid in one long loop, then row pairs) whose winners are kept as two boolean masks.
- The pooled output is written straight into fc1's (N, C*H*W) order through a transposed ``out=`` view.
- SGD's learning rate is folded into small output-gradients before the fc weight GEMMs, so the 1.2M-element fc1
  gradient is never scaled in a separate pass; all large buffers are allocated once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided

KEYS = ("0.weight", "0.bias", "2.weight", "2.bias", "6.weight", "6.bias", "8.weight", "8.bias")
_SHAPES = {
    "0.weight": (32, 1, 3, 3), "0.bias": (32,), "2.weight": (64, 32, 3, 3), "2.bias": (64,),
    "6.weight": (128, 9216), "6.bias": (128,), "8.weight": (10, 128), "8.bias": (10,),
}  # fmt: skip
_PAD = 64  # tail columns after the last image so every shifted slice of length N*26*26 stays in bounds (max 54)


def _check(weights: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> None:
    for key, shape in _SHAPES.items():
        w = weights.get(key)
        if not isinstance(w, np.ndarray) or w.shape != shape or w.dtype != np.float32 or not w.flags.c_contiguous:
            got = "missing" if w is None else f"{type(w).__name__} {getattr(w, 'shape', '')} {getattr(w, 'dtype', '')}"
            raise ValueError(f"weights[{key!r}] must be a C-contiguous float32 ndarray of shape {shape}; got {got}")
    if x.ndim != 4 or x.shape[1:] != (1, 28, 28) or x.dtype != np.float32:
        raise ValueError(f"x must be float32 of shape (N, 1, 28, 28); got {x.dtype} {x.shape}")
    if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9:
        raise ValueError(f"y must be N={x.shape[0]} integer class labels in [0, 9]; got {y.dtype} {y.shape}")


def numpy_cnn_step(
    weights: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, lr: float, block: int = 8
) -> Callable[[], float]:
    """A step function: forward, backward and SGD update (in place on ``weights``); returns the mean loss.

    ``block`` is how many images conv2 and its backward handle at a time (8 measured fastest for a batch of 64).
    ``x`` is re-im2col'ed every step, as if it were a fresh batch. The returned function also carries
    ``phases``: a list of (name, callable) run in order by the step, for per-phase timing.
    """
    _check(weights, x, y)
    if not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a positive int (images per conv2 block); got {block!r}")
    n = x.shape[0]
    m = n * 26 * 26  # full-grid positions of conv1's output = conv2's input
    f32 = np.float32
    w1 = weights["0.weight"].reshape(32, 9)  # a view: (kh, kw) order matches cols1
    b1, w2, b2 = weights["0.bias"], weights["2.weight"], weights["2.bias"]
    fc1_w, fc1_b, fc2_w, fc2_b = weights["6.weight"], weights["6.bias"], weights["8.weight"], weights["8.bias"]
    labels = np.ascontiguousarray(y, dtype=np.intp)
    rows = np.arange(n)

    blocks = [(i, min(n, i + block)) for i in range(0, n, block)]
    span = 676 * min(block, n)  # grid positions in one block of images
    cols1 = np.empty((9, n, 26, 26), f32)
    cols1_2d = cols1.reshape(9, m)
    es = x.strides[3]
    x_windows = as_strided(x, (3, 3, n, 26, 26), (28 * es, es, x.strides[0], 28 * es, es))
    a1 = np.zeros((32, m + _PAD), f32)  # conv1 output after ReLU; the tail stays zero
    es = a1.strides[1]
    a1_windows = as_strided(a1, (3, 3, 32, m), (26 * es, es, a1.strides[0], es))
    cols2 = np.empty((288, span), f32)  # one block's im2col, rebuilt in the backward pass (cheaper than keeping it)
    w2_mat = np.empty((64, 288), f32)  # columns in (kh, kw, c) order, matching cols2's rows
    w2_mat_t = np.empty((288, 64), f32)
    z2 = np.empty((64, span), f32)  # one block's conv2 output (before bias)
    col_max = np.empty((64, n, 26, 13), f32)  # max over column pairs; rows 24-25 and column 12 are junk
    col_max_2d = col_max.reshape(64, m // 2)
    row_top, row_bottom = col_max[:, :, 0:24:2, :12], col_max[:, :, 1:24:2, :12]
    pooled = np.empty((n, 64, 12, 12), f32)  # fc1's input order (c, i, j)
    pooled_t = pooled.transpose(1, 0, 2, 3)
    flat = pooled.reshape(n, 9216)
    h = np.empty((n, 128), f32)
    logits = np.empty((n, 10), f32)
    d_logits = np.empty((n, 10), f32)
    d_h = np.empty((n, 128), f32)
    d_flat = np.empty((n, 9216), f32)
    d_pool_t = d_flat.reshape(n, 64, 12, 12).transpose(1, 0, 2, 3)
    pool_mask = np.empty((64, n, 12, 12), bool)
    d_pool = np.empty((64, n, 12, 12), f32)
    top_wins = np.empty((64, n, 12, 12), bool)
    d_col_max = np.zeros((64, n, 26, 13), f32)  # junk rows/column are never written and stay zero
    d_top, d_bottom = d_col_max[:, :, 0:24:2, :12], d_col_max[:, :, 1:24:2, :12]
    d_col_max_2d = d_col_max.reshape(64, m // 2)
    left_wins = np.empty((64, m // 2), bool)  # per column pair: the left one is the max (ties go left)
    d_z2 = np.empty((64, span), f32)  # one block's conv2 output gradient, zero on the junk border
    d_cols2 = np.empty((288, span), f32)
    d_a1 = np.zeros((32, m + _PAD), f32)
    a1_mask = np.empty((32, span), bool)
    d_w2 = np.empty((64, 288), f32)
    d_w2_part = np.empty((64, 288), f32)
    d_w1 = np.empty((32, 9), f32)
    d_w1_part = np.empty((32, 9), f32)
    d_b1 = np.empty(32, f32)
    g_w7 = np.empty((128, 9216), f32)
    shifts = [kh * 26 + kw for kh in range(3) for kw in range(3)]
    loss = [0.0]

    def conv1() -> None:
        np.copyto(cols1.reshape(3, 3, n, 26, 26), x_windows)
        out = a1[:, :m]
        np.matmul(w1, cols1_2d, out=out)
        out += b1[:, None]
        np.maximum(out, 0, out=out)

    def conv2_pool() -> None:
        # per block of images, so the block's im2col and conv output stay in cache: im2col, one GEMM, then the
        # 2x2 max in two passes (column pairs over the flat grid in one long loop, then row pairs)
        w2_mat.reshape(64, 3, 3, 32)[...] = w2.transpose(0, 2, 3, 1)
        for i0, i1 in blocks:
            p0, p1 = 676 * i0, 676 * i1
            cols = cols2[:, : p1 - p0]
            np.copyto(cols.reshape(3, 3, 32, p1 - p0), a1_windows[..., p0:p1])
            out = z2[:, : p1 - p0]
            np.matmul(w2_mat, cols, out=out)
            pairs = out.reshape(64, -1, 2)
            np.maximum(pairs[..., 0], pairs[..., 1], out=col_max_2d[:, p0 // 2 : p1 // 2])
            np.greater_equal(pairs[..., 0], pairs[..., 1], out=left_wins[:, p0 // 2 : p1 // 2])
            top, bottom = row_top[:, i0:i1], row_bottom[:, i0:i1]
            np.maximum(top, bottom, out=pooled_t[:, i0:i1])
            np.greater_equal(top, bottom, out=top_wins[:, i0:i1])
        np.add(pooled_t, b2[:, None, None, None], out=pooled_t)
        np.maximum(pooled_t, 0, out=pooled_t)

    def fc() -> None:
        np.matmul(flat, fc1_w.T, out=h)
        np.add(h, fc1_b, out=h)
        np.maximum(h, 0, out=h)
        np.matmul(h, fc2_w.T, out=logits)
        np.add(logits, fc2_b, out=logits)

    def loss_and_heads() -> None:
        shifted = logits - logits.max(axis=1, keepdims=True)
        np.exp(shifted, out=d_logits)
        total = d_logits.sum(axis=1, keepdims=True)
        loss[0] = float(np.log(total[:, 0]).mean() - shifted[rows, labels].mean())
        np.divide(d_logits, total, out=d_logits)
        d_logits[rows, labels] -= 1.0
        np.multiply(d_logits, 1.0 / n, out=d_logits)
        np.matmul(d_logits, fc2_w, out=d_h)  # before fc2_w's update
        np.multiply(d_h, h > 0, out=d_h)
        np.subtract(fc2_w, (lr * d_logits).T @ h, out=fc2_w)
        np.subtract(fc2_b, lr * d_logits.sum(axis=0), out=fc2_b)
        np.matmul(d_h, fc1_w, out=d_flat)  # before fc1_w's update
        np.matmul((lr * d_h).T, flat, out=g_w7)
        np.subtract(fc1_w, g_w7, out=fc1_w)
        np.subtract(fc1_b, lr * d_h.sum(axis=0), out=fc1_b)

    def unpool() -> None:
        # ReLU after the pool: gradient only where the pooled value is positive. Then route it to the first max of
        # each 2x2 window (torch's tie rule: top row before bottom, left before right): rows here, columns per block.
        np.greater(pooled_t, 0, out=pool_mask)
        np.multiply(d_pool_t, pool_mask, out=d_pool)
        np.subtract(b2, lr * d_pool.sum(axis=(1, 2, 3)), out=b2)

    def conv_backward() -> None:
        # per block: column un-pool, im2col again, conv2's weight and input gradients, col2im (9 shifted adds: a
        # block's junk border adds zeros past its end, overwritten by the next block's first copy), conv1's gradients
        np.copyto(w2_mat_t, w2_mat.T)
        d_w2.fill(0)
        d_w1.fill(0)
        d_b1.fill(0)
        for i0, i1 in blocks:
            p0, p1 = 676 * i0, 676 * i1
            width = p1 - p0
            np.multiply(d_pool[:, i0:i1], top_wins[:, i0:i1], out=d_top[:, i0:i1])
            np.subtract(d_pool[:, i0:i1], d_top[:, i0:i1], out=d_bottom[:, i0:i1])
            wins = left_wins[:, p0 // 2 : p1 // 2]
            d_out = d_z2[:, :width]
            d_pairs = d_out.reshape(64, -1, 2)
            d_max = d_col_max_2d[:, p0 // 2 : p1 // 2]
            np.multiply(d_max, wins, out=d_pairs[..., 0])
            np.subtract(d_max, d_pairs[..., 0], out=d_pairs[..., 1])
            cols = cols2[:, :width]
            np.copyto(cols.reshape(3, 3, 32, width), a1_windows[..., p0:p1])
            np.matmul(d_out, cols.T, out=d_w2_part)
            np.add(d_w2, d_w2_part, out=d_w2)
            d_cols = d_cols2[:, :width]
            np.matmul(w2_mat_t, d_out, out=d_cols)
            np.copyto(d_a1[:, p0:p1], d_cols[:32])
            for k, s in enumerate(shifts[1:], 1):
                d_a1[:, p0 + s : p1 + s] += d_cols[32 * k : 32 * k + 32]
            d = d_a1[:, p0:p1]
            mask = a1_mask[:, :width]
            np.greater(a1[:, p0:p1], 0, out=mask)
            np.multiply(d, mask, out=d)
            np.matmul(d, cols1_2d[:, p0:p1].T, out=d_w1_part)
            np.add(d_w1, d_w1_part, out=d_w1)
            np.add(d_b1, d.sum(axis=1), out=d_b1)
        np.multiply(d_w2, lr, out=d_w2)
        np.subtract(w2, d_w2.reshape(64, 3, 3, 32).transpose(0, 3, 1, 2), out=w2)
        np.multiply(d_w1, lr, out=d_w1)
        np.subtract(w1, d_w1, out=w1)
        np.multiply(d_b1, lr, out=d_b1)
        np.subtract(b1, d_b1, out=b1)

    phases = [
        ("conv1", conv1), ("conv2_pool", conv2_pool), ("fc", fc), ("loss_fc_backward", loss_and_heads),
        ("unpool_relu", unpool), ("conv_backward", conv_backward),
    ]  # fmt: skip

    def step() -> float:
        for _, phase in phases:
            phase()
        return loss[0]

    step.phases = phases  # type: ignore[attr-defined]
    return step
