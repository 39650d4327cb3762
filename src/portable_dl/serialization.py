"""``portable_dl.save`` / ``portable_dl.load``: state dicts as one safetensors file, without pickle.

The file is a standard safetensors file: every tensor of ``obj`` is stored under a key (a state dict's own
names for a flat ``{str: tensor}`` dict, path-like names such as ``state/0/exp_avg`` otherwise), and the
structure around them (nested dicts with str/int/float/bool/None keys, lists, tuples, numbers, strings,
booleans, ``None``) is JSON-encoded in the safetensors metadata under ``portable_dl.structure``. So:

* a flat state dict saved here loads in PyTorch with ``safetensors.torch.load_file(path)``;
* a file written by ``safetensors.torch.save_file(model.state_dict(), path)`` loads here as ``{name: tensor}``;
* nothing is ever unpickled: PyTorch ``torch.save`` checkpoints (zip or legacy pickle) are refused with an
  explanation.

safetensors is an optional dependency (``pip install 'portable-dl[io]'``), imported only when used.
Tensors are saved detached; ``requires_grad`` and the Parameter class are not stored (``load_state_dict``
copies values into the existing parameters). Two entries sharing one tensor are stored twice.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from ._atomic import write_bytes
from .tensor import Tensor

STRUCTURE_KEY = "portable_dl.structure"
FORMAT_VERSION = 1
_SUPPORTED_DTYPES = {"BOOL", "U8", "I8", "I16", "I32", "I64", "F16", "F32", "F64"}
_INSTALL = "pip install 'portable-dl[io]'"
_TORCH_HINT = (
    "portable_dl.load never unpickles (pickle can run arbitrary code). Re-save the checkpoint with safetensors "
    "on the PyTorch side: `from safetensors.torch import save_file; save_file(model.state_dict(), path)`, then "
    "`model.load_state_dict(portable_dl.load(path))`."
)


def _safetensors_numpy() -> Any:
    try:
        import safetensors.numpy as st
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching in the tests
        raise ImportError(
            f"portable_dl.save/load store checkpoints as safetensors files and need the safetensors package: {_INSTALL}"
        ) from exc
    return st


# ----- structure encoding -------------------------------------------------------------------------------------


def _encode_key(key: Any) -> Any:
    if key is None or isinstance(key, (bool, int, str)):
        return key
    if isinstance(key, float):
        return _encode_float(key)
    raise TypeError(f"portable_dl.save: dict keys must be str, int, float, bool or None, got {type(key).__name__}")


def _encode_float(value: float) -> Any:
    if math.isfinite(value):
        return value
    return {"__float__": repr(value)}  # 'nan', 'inf', '-inf': not valid JSON numbers


class _Encoder:
    def __init__(self) -> None:
        self.tensors: dict[str, Any] = {}

    def _name(self, path: list[str]) -> str:
        base = "/".join(path) if path else "tensor"
        name, n = base, 1
        while name in self.tensors or name == "__metadata__":
            name, n = f"{base}#{n}", n + 1
        return name

    def tensor(self, t: Tensor, name: str) -> dict:
        array = t._backend.to_numpy(t.detach()._data)
        if not array.flags["C_CONTIGUOUS"]:
            array = array.copy(order="C")
        self.tensors[name] = array
        return {"__tensor__": name}

    def encode(self, obj: Any, path: list[str]) -> Any:
        if isinstance(obj, Tensor):
            return self.tensor(obj, self._name(path))
        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            return _encode_float(obj)
        if isinstance(obj, dict):
            if (
                all(isinstance(k, str) for k in obj)
                and all(isinstance(v, Tensor) for v in obj.values())
                and not path
                and "__metadata__" not in obj
            ):
                # a flat state dict: tensors keep their own names, so torch-side tools read the file as-is
                items = [[k, self.tensor(v, k)] for k, v in obj.items()]
            else:
                items = [[_encode_key(k), self.encode(v, [*path, str(k)])] for k, v in obj.items()]
            return {"__dict__": items}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, [*path, str(i)]) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, [*path, str(i)]) for i, v in enumerate(obj)]
        raise TypeError(
            f"portable_dl.save stores tensors, numbers, strings, booleans, None and dicts/lists/tuples of them; "
            f"got {type(obj).__name__} (no pickle fallback)"
        )


def _decode(node: Any, tensors: dict[str, Tensor]) -> Any:
    if isinstance(node, list):
        return [_decode(v, tensors) for v in node]
    if isinstance(node, dict):
        if "__tensor__" in node:
            name = node["__tensor__"]
            if name not in tensors:
                raise ValueError(f"portable_dl.load: corrupt file: the structure names a missing tensor {name!r}")
            return tensors[name]
        if "__dict__" in node:
            return {_decode(k, tensors): _decode(v, tensors) for k, v in node["__dict__"]}
        if "__tuple__" in node:
            return tuple(_decode(v, tensors) for v in node["__tuple__"])
        if "__float__" in node:
            return float(node["__float__"])
        raise ValueError(f"portable_dl.load: corrupt file: unknown structure node {sorted(node)}")
    return node


# ----- save ---------------------------------------------------------------------------------------------------


def save(obj: Any, f: Any) -> None:
    """Save a state dict (or a nested structure of tensors, numbers, strings, None, bools) to ``f``.

    ``f``: a path (str / os.PathLike), written atomically (a temporary file in the same directory, then
    ``os.replace``; nothing is left behind on error), or a binary file object opened for writing.
    """
    st = _safetensors_numpy()
    encoder = _Encoder()
    structure = encoder.encode(obj, [])
    metadata = {
        "format": "pt",
        STRUCTURE_KEY: json.dumps({"version": FORMAT_VERSION, "root": structure}, allow_nan=False),
    }
    data = st.save(encoder.tensors, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
        return
    write_bytes(f, data)


# ----- load ---------------------------------------------------------------------------------------------------


def _read(f: Any) -> tuple[bytes, str]:
    if hasattr(f, "read"):
        return f.read(), getattr(f, "name", "<file object>")
    path = os.fspath(f)
    with open(path, "rb") as handle:
        return handle.read(), str(path)


def _header(data: bytes, where: str) -> dict:
    looks_safetensors = data[8:9] == b"{"  # 8-byte header length, then a JSON object
    if not looks_safetensors and data[:4] == b"PK\x03\x04":
        raise RuntimeError(
            f"portable_dl.load: {where} is a PyTorch torch.save checkpoint (zip + pickle). {_TORCH_HINT}"
        )
    if not looks_safetensors and data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise RuntimeError(f"portable_dl.load: {where} is a pickle file (legacy torch.save format). {_TORCH_HINT}")
    if len(data) < 8:
        raise ValueError(f"portable_dl.load: {where} is empty or truncated ({len(data)} bytes): not a safetensors file")
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8:
        raise ValueError(
            f"portable_dl.load: {where} is truncated or not a safetensors file (header of {size} bytes announced, "
            f"{len(data) - 8} present)"
        )
    try:
        header = json.loads(data[8 : 8 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"portable_dl.load: {where} is corrupt: unreadable safetensors header ({exc})") from None
    if not isinstance(header, dict):
        raise ValueError(f"portable_dl.load: {where} is corrupt: the safetensors header is not a JSON object")
    body = len(data) - 8 - size
    for name, info in header.items():
        if name == "__metadata__":
            continue
        end = info.get("data_offsets", [0, 0])[1] if isinstance(info, dict) else None
        if not isinstance(end, int) or end > body:
            raise ValueError(f"portable_dl.load: {where} is truncated or corrupt (tensor {name!r} ends past the data)")
    return header


def _target_device(map_location: Any) -> Any:
    if map_location is None:
        return None
    if isinstance(map_location, str) or type(map_location).__name__ == "device":
        return map_location
    raise TypeError(
        "portable_dl.load: map_location must be None, a device or a device string such as 'cpu' or 'cuda' "
        f"(got {type(map_location).__name__})"
    )


def load(f: Any, map_location: Any = None, weights_only: bool = True, **kwargs: Any) -> Any:
    """Load what ``save`` wrote (or any safetensors file) from a path or a binary file object.

    ``map_location``: None / 'cpu' / 'cuda' / 'cuda:N' / a ``portable_dl.device``: where the tensors go
    (default: CPU). ``weights_only`` is accepted for torch compatibility; loading is always weights-only
    (no pickle). A safetensors file without portable_dl's structure metadata loads as ``{name: tensor}``.
    """
    from .ops.creation import from_numpy

    device = _target_device(map_location)
    data, where = _read(f)
    header = _header(data, where)
    for name, info in header.items():
        dtype = info.get("dtype") if isinstance(info, dict) and name != "__metadata__" else None
        if dtype is not None and dtype not in _SUPPORTED_DTYPES:
            raise TypeError(
                f"portable_dl.load: tensor {name!r} in {where} has dtype {dtype}, which portable_dl does not support "
                f"(supported: {', '.join(sorted(_SUPPORTED_DTYPES))}); convert it before saving, e.g. "
                "`{k: v.float() for k, v in state_dict.items()}` for bfloat16"
            )
    st = _safetensors_numpy()
    try:
        arrays = st.load(data)
    except Exception as exc:  # safetensors' own SafetensorError
        raise ValueError(f"portable_dl.load: {where} is corrupt: {exc}") from None

    def to_tensor(array: Any) -> Tensor:
        t = from_numpy(array.copy())  # own, writeable memory (not a view of the file's bytes)
        return t if device is None else t.to(device)

    tensors = {name: to_tensor(array) for name, array in arrays.items()}
    metadata = header.get("__metadata__") or {}
    raw = metadata.get(STRUCTURE_KEY) if isinstance(metadata, dict) else None
    if raw is None:
        order = [name for name in header if name != "__metadata__"]
        return {name: tensors[name] for name in order}
    try:
        payload = json.loads(raw)
        root = payload["root"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"portable_dl.load: {where} is corrupt: unreadable portable_dl structure ({exc})") from None
    if not isinstance(payload.get("version"), int) or payload["version"] > FORMAT_VERSION:
        raise ValueError(
            f"portable_dl.load: {where} was written by a newer portable_dl (format {payload.get('version')}); upgrade"
        )
    return _decode(root, tensors)


__all__ = ["save", "load"]
