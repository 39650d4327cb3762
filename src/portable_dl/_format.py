"""``repr(tensor)`` exactly as PyTorch prints it (a port of ``torch._tensor_str`` with default print options).

Works on a host NumPy copy obtained through the CPU backend, so this module imports no array library.
"""

from __future__ import annotations

import math
from typing import Any

from . import _dtype
from .backends import CPU

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80


class _Formatter:
    """Decides int mode / scientific mode and the common width of all printed elements."""

    def __init__(self, array: Any) -> None:
        np = CPU.xp
        self.floating = array.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = array.reshape(-1)
        if not self.floating:
            if flat.size:
                if flat.dtype.kind == "b":
                    self.max_width = 5 if not flat.all() else 4
                else:
                    self.max_width = max(len(str(int(flat.max()))), len(str(int(flat.min()))), 1)
            return
        values = flat[np.isfinite(flat) & (flat != 0)]
        if values.size == 0:
            return
        absolute = np.abs(values.astype(np.float64))
        vmin, vmax = float(absolute.min()), float(absolute.max())
        self.int_mode = bool(np.all(values == np.ceil(values)))
        self.sci_mode = vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4
        items = values.tolist()
        if self.sci_mode:
            self.max_width = max(len(f"{v:.{PRECISION}e}") for v in items)
        elif self.int_mode:
            self.max_width = max(len(f"{v:.0f}") + 1 for v in items)
        else:
            self.max_width = max(len(f"{v:.{PRECISION}f}") for v in items)

    def format(self, value: Any) -> str:
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{PRECISION}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{PRECISION}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _summarized(array: Any) -> Any:
    """Only the elements that a summarised print shows (``EDGEITEMS`` at each end of every dim)."""
    np = CPU.xp
    for axis, size in enumerate(array.shape):
        if size > 2 * EDGEITEMS:
            index = list(range(EDGEITEMS)) + list(range(size - EDGEITEMS, size))
            array = np.take(array, index, axis=axis)
    return array


def _vector_str(array: Any, indent: int, summarize: bool, formatter: _Formatter) -> str:
    element_length = formatter.max_width + 2
    per_line = max(1, math.floor((LINEWIDTH - indent) / element_length))
    if summarize and array.shape[0] > 2 * EDGEITEMS:
        data = (
            [formatter.format(v) for v in array[:EDGEITEMS].tolist()]
            + [" ..."]
            + [formatter.format(v) for v in array[-EDGEITEMS:].tolist()]
        )
    else:
        data = [formatter.format(v) for v in array.tolist()]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(array: Any, indent: int, summarize: bool, formatter: _Formatter) -> str:
    ndim = array.ndim
    if ndim == 0:
        return formatter.format(array.item())
    if ndim == 1:
        return _vector_str(array, indent, summarize, formatter)
    size = array.shape[0]
    if summarize and size > 2 * EDGEITEMS:
        rows = list(range(EDGEITEMS)) + [None] + list(range(size - EDGEITEMS, size))
    else:
        rows = list(range(size))
    slices = ["..." if i is None else _tensor_str(array[i], indent + 1, summarize, formatter) for i in rows]
    return "[" + ("," + "\n" * (ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def format_tensor(t: Any) -> str:
    prefix = "tensor("
    indent = len(prefix)
    array = t._backend.to_numpy(t._data)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    dt = t.dtype
    default = _dtype.get_default_dtype()
    if array.size == 0:
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt!r}")
        body = "[]"
    else:
        if dt not in (default, _dtype.int64, _dtype.bool_):
            suffixes.append(f"dtype={dt!r}")
        summarize = array.size > THRESHOLD
        formatter = _Formatter(_summarized(array) if summarize else array)
        body = _tensor_str(array, indent, summarize, formatter)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
