"""``repr(tensor)`` in PyTorch's style: ``tensor([1., 2.], dtype=..., grad_fn=<MulBackward>)``."""

from __future__ import annotations

from typing import Any

from . import _dtype
from .backends import CPU

_SILENT_DTYPES = ("float32", "int64", "bool")


def format_tensor(t: Any) -> str:
    np = CPU.xp
    array = t._backend.to_numpy(t._data)
    if array.size == 0:
        body = "[]" if array.ndim == 1 else "[]"
    elif array.dtype.kind == "f":
        finite = array[np.isfinite(array)]
        whole = finite.size == 0 or bool(np.all(finite == np.round(finite)))
        big = finite.size and (np.abs(finite).max() >= 1e8 or (np.abs(finite[finite != 0]).min(initial=1) < 1e-4))
        if whole and not big:
            formatter = {"float_kind": lambda v: _whole(v)}
        elif big:
            formatter = {"float_kind": lambda v: f"{v:.4e}"}
        else:
            formatter = {"float_kind": lambda v: f"{v:.4f}"}
        body = np.array2string(array, separator=", ", prefix="tensor(", formatter=formatter, threshold=1000)
    else:
        body = np.array2string(array, separator=", ", prefix="tensor(", threshold=1000)
    extras = []
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    if t.dtype.name not in _SILENT_DTYPES and not (array.size == 0 and t.dtype is _dtype.float32):
        extras.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + ", ".join([body, *extras]) + ")"


def _whole(value: float) -> str:
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return f"{value:.0f}."
