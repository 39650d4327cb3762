"""``default_collate`` / ``default_convert``: sample lists to batched tensors, following torch's rules.

Tensors are stacked along a new first dimension; NumPy arrays and NumPy scalars become tensors of their dtype
(string/object arrays are refused); Python ``float`` -> float64, ``int`` -> int64, ``bool`` -> bool tensors;
strings and bytes stay lists; mappings, namedtuples and sequences are collated element-wise (tuples come back
as lists, as in torch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ... import _dtype
from ...ops.creation import as_tensor, tensor
from ...ops.shape_join import stack
from ...tensor import Tensor

_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_numpy(x: Any) -> bool:
    return type(x).__module__ == "numpy"


def _numpy_kind_ok(x: Any) -> bool:
    return getattr(getattr(x, "dtype", None), "kind", "O") not in "SaUO"


def default_convert(data: Any) -> Any:
    """Converts NumPy arrays inside ``data`` to tensors (used when automatic batching is off)."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data) and type(data).__name__ in ("ndarray", "memmap"):
        return as_tensor(data) if _numpy_kind_ok(data) else data
    if _is_numpy(data) and hasattr(data, "dtype") and getattr(data, "shape", None) == ():
        return as_tensor(data) if _numpy_kind_ok(data) else data
    if isinstance(data, Mapping):
        try:
            return type(data)({k: default_convert(v) for k, v in data.items()})
        except TypeError:
            return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def default_collate(batch: Any) -> Any:
    """Puts each data field of a list of samples into a tensor with an outer batch dimension."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if _is_numpy(elem) and type(elem).__name__ in ("ndarray", "memmap"):
        if not _numpy_kind_ok(elem):
            raise TypeError(_ERR.format(elem.dtype))
        return default_collate([as_tensor(b) for b in batch])
    if _is_numpy(elem) and hasattr(elem, "dtype") and getattr(elem, "shape", None) == ():
        if not _numpy_kind_ok(elem):
            raise TypeError(_ERR.format(elem.dtype))
        return as_tensor(list(batch), dtype=_dtype.FROM_NUMPY[elem.dtype])
    if isinstance(elem, bool):
        return tensor(list(batch), dtype=_dtype.bool_)
    if isinstance(elem, float):
        return tensor(list(batch), dtype=_dtype.float64)
    if isinstance(elem, int):
        return tensor(list(batch), dtype=_dtype.int64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        try:
            return type(elem)({key: default_collate([d[key] for d in batch]) for key in elem})
        except TypeError:
            return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [default_collate(samples) for samples in transposed]
        try:
            return type(elem)([default_collate(samples) for samples in transposed])
        except TypeError:
            return [default_collate(samples) for samples in transposed]
    raise TypeError(_ERR.format(type(elem)))


__all__ = ["default_collate", "default_convert"]
