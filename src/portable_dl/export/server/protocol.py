"""Open Inference Protocol (KServe v2 / Triton HTTP) inference bodies: parse a request, encode a response.

A request body is JSON, optionally followed by raw tensor bytes (the binary tensor data extension): the
``Inference-Header-Content-Length`` header says how many bytes the JSON takes, and each input with a
``binary_data_size`` parameter takes that many bytes of the rest, in input order. Responses mirror this: outputs
asked for as binary carry ``binary_data_size`` and their bytes follow the JSON. Binary tensors are little-endian and
row-major, BOOL is one byte per element. ``BYTES`` (strings) and ``BF16`` are refused with a clear error: the
runner feeds NumPy arrays, and NumPy has no bfloat16, and strings would need a different wire format.

Every problem with a request raises :class:`ProtocolError` carrying the HTTP status to answer with.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "DATATYPES",
    "InferRequest",
    "ProtocolError",
    "RequestedOutput",
    "datatype_of",
    "encode_response",
    "parse_request",
]

# Protocol datatype -> NumPy dtype, for every type this server can carry.
DATATYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
}
_BY_DTYPE = {dtype: name for name, dtype in DATATYPES.items()}
# ONNX Runtime type names without a NumPy twin here, named as the protocol names them (for metadata).
_ORT_ONLY = {"tensor(string)": "BYTES", "tensor(bfloat16)": "BF16"}
_REFUSED = {
    "BYTES": "BYTES (string) tensors are not supported by this server",
    "BF16": "BF16 tensors are not supported by this server (NumPy has no bfloat16)",
}
_UNSUPPORTED_PARAMETERS = {
    "shared_memory_region": "shared memory is not supported by this server; send the data in the body",
    "classification": "the classification extension is not supported by this server",
    "sequence_id": "sequence batching is not supported by this server",
}
_VALID = ", ".join(DATATYPES)
_FITS = object()  # marker: every element fits


class ProtocolError(Exception):
    """A request the server refuses; ``status`` is the HTTP status code to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RequestedOutput:
    name: str
    binary: bool


@dataclass
class InferRequest:
    """A parsed request: input arrays by name (in request order), the outputs wanted (None: all of them, with
    ``binary_default`` saying whether as binary) and the request ``id`` to echo."""

    inputs: dict[str, np.ndarray]
    outputs: list[RequestedOutput] | None
    binary_default: bool = False
    id: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


def datatype_of(dtype: np.dtype | None, ort_type: str = "") -> str:
    """The protocol datatype of a NumPy dtype (or of an ONNX Runtime type NumPy lacks)."""
    if dtype is not None and np.dtype(dtype) in _BY_DTYPE:
        return _BY_DTYPE[np.dtype(dtype)]
    if ort_type in _ORT_ONLY:
        return _ORT_ONLY[ort_type]
    return ort_type or "UNKNOWN"


def numpy_dtype(datatype: Any, where: str) -> np.dtype:
    """The NumPy dtype of a protocol datatype; unknown and unsupported ones are a 400 naming the valid ones."""
    if not isinstance(datatype, str):
        raise ProtocolError(f"{where}: 'datatype' must be a string, one of {_VALID}; got {datatype!r}")
    if datatype in _REFUSED:
        raise ProtocolError(f"{where}: {_REFUSED[datatype]}; supported datatypes: {_VALID}")
    if datatype not in DATATYPES:
        raise ProtocolError(f"{where}: unknown datatype {datatype!r}; supported datatypes: {_VALID}")
    return DATATYPES[datatype]


# --------------------------------------------------------------------------------------------------- requests


def parse_request(body: bytes, header_length: str | None = None) -> InferRequest:
    """Parse an inference request body; ``header_length`` is the ``Inference-Header-Content-Length`` header."""
    json_end = len(body) if header_length is None else _header_length(header_length, len(body))
    try:
        document = json.loads(body[:json_end])
    except (UnicodeDecodeError, ValueError) as err:
        raise ProtocolError(f"the request body is not valid JSON: {err}") from None
    except RecursionError:
        raise ProtocolError("the request JSON is nested too deeply") from None
    if not isinstance(document, dict):
        raise ProtocolError(f"the request must be a JSON object, got {type(document).__name__}")
    parameters = _parameters(document.get("parameters"), "request")
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise ProtocolError(f"request 'id' must be a string, got {request_id!r}")
    inputs = document.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise ProtocolError("the request needs 'inputs': a non-empty list of tensors")
    binary = memoryview(body)[json_end:]
    arrays: dict[str, np.ndarray] = {}
    offset = 0
    for position, tensor in enumerate(inputs):
        name, array, used = _input(tensor, position, binary[offset:])
        if name in arrays:
            raise ProtocolError(f"input {name!r} is given twice")
        arrays[name] = array
        offset += used
    if offset != len(binary):
        raise ProtocolError(
            f"the body has {len(binary) - offset} byte(s) of binary data after the inputs that no input's "
            f"'binary_data_size' accounts for ({offset} used of {len(binary)})"
        )
    return InferRequest(
        inputs=arrays,
        outputs=_requested_outputs(document.get("outputs")),
        binary_default=_flag(parameters, "binary_data_output", "request parameter"),
        id=request_id,
        parameters=parameters,
    )


def _header_length(text: str, body_size: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ProtocolError(f"Inference-Header-Content-Length must be an integer, got {text!r}") from None
    if not 0 <= value <= body_size:
        raise ProtocolError(
            f"Inference-Header-Content-Length is {value} but the body has {body_size} byte(s); it must be between "
            "0 and the body size"
        )
    return value


def _parameters(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError(f"{where} 'parameters' must be a JSON object, got {value!r}")
    for key, message in _UNSUPPORTED_PARAMETERS.items():
        if key in value:
            raise ProtocolError(f"{where} parameter {key!r}: {message}")
    return value


def _flag(parameters: dict[str, Any], key: str, where: str) -> bool:
    value = parameters.get(key, False)
    if not isinstance(value, bool):
        raise ProtocolError(f"{where} {key!r} must be true or false, got {value!r}")
    return value


def _shape(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in value):
        raise ProtocolError(f"{where}: 'shape' must be a list of integers, got {value!r}")
    if any(d < 0 for d in value):
        raise ProtocolError(f"{where}: 'shape' must not have negative sizes, got {value}")
    return tuple(value)


def _input(tensor: Any, position: int, binary: memoryview) -> tuple[str, np.ndarray, int]:
    """One input tensor: its name, array and how many bytes of the binary section it took."""
    if not isinstance(tensor, dict):
        raise ProtocolError(f"inputs[{position}] must be a JSON object, got {type(tensor).__name__}")
    name = tensor.get("name")
    if not isinstance(name, str) or not name:
        raise ProtocolError(f"inputs[{position}] needs a 'name' (a non-empty string)")
    where = f"input {name!r}"
    for key in ("shape", "datatype"):
        if key not in tensor:
            raise ProtocolError(f"{where} needs {key!r}")
    shape = _shape(tensor["shape"], where)
    dtype = numpy_dtype(tensor["datatype"], where)
    count = math.prod(shape)
    parameters = _parameters(tensor.get("parameters"), where)
    size = parameters.get("binary_data_size")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ProtocolError(f"{where}: 'binary_data_size' must be a non-negative integer, got {size!r}")
        if "data" in tensor:
            raise ProtocolError(f"{where} has both 'data' and 'binary_data_size'; send one of them")
        if size != count * dtype.itemsize:
            raise ProtocolError(
                f"{where}: 'binary_data_size' is {size} byte(s) but shape {list(shape)} of {tensor['datatype']} "
                f"needs {count * dtype.itemsize}"
            )
        if size > len(binary):
            raise ProtocolError(
                f"{where}: the body is truncated: 'binary_data_size' is {size} byte(s) but only {len(binary)} "
                "remain after the JSON header and earlier inputs"
            )
        if dtype.kind == "b":  # one byte per element; any non-zero byte is true
            array = np.frombuffer(binary[:size], dtype=np.uint8) != 0
        else:
            array = np.frombuffer(binary[:size], dtype=dtype.newbyteorder("<")).astype(dtype, copy=True)
        return name, array.reshape(shape), size
    if "data" not in tensor:
        raise ProtocolError(f"{where} needs 'data' (or a 'binary_data_size' parameter with binary data)")
    return name, _json_array(tensor["data"], shape, dtype, tensor["datatype"], where), 0


def _json_array(data: Any, shape: tuple[int, ...], dtype: np.dtype, datatype: str, where: str) -> np.ndarray:
    """A flat or nested JSON list (row-major) as an array of ``shape``; element kinds must fit the datatype."""
    flat = _flatten(data, where)
    if len(flat) != math.prod(shape):
        raise ProtocolError(
            f"{where}: 'data' has {len(flat)} element(s) but shape {list(shape)} needs {math.prod(shape)}"
        )
    bad = next((v for v in flat if not _fits(v, dtype)), _FITS)
    if bad is not _FITS:
        kind = "true/false" if dtype.kind == "b" else "integers" if dtype.kind in "iu" else "numbers"
        raise ProtocolError(f"{where}: {datatype} data must be {kind}, got {bad!r}")
    try:
        array = np.array(flat, dtype=dtype)
    except OverflowError:
        info = np.iinfo(dtype)
        raise ProtocolError(f"{where}: a value is out of range for {datatype} ({info.min} to {info.max})") from None
    return array.reshape(shape)


def _fits(value: Any, dtype: np.dtype) -> bool:
    if dtype.kind == "b":
        return type(value) is bool
    if dtype.kind in "iu":
        return type(value) is int
    return type(value) in (int, float)


def _flatten(data: Any, where: str) -> list:
    """Leaves of a nested list in row-major order, without recursion (a deep body cannot exhaust the stack)."""
    if not isinstance(data, list):
        return [data]
    flat: list = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            if isinstance(item, dict):
                raise ProtocolError(f"{where}: 'data' must hold numbers or booleans, not objects")
            flat.append(item)
        else:
            stack.pop()
    return flat


def _requested_outputs(value: Any) -> list[RequestedOutput] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ProtocolError(f"request 'outputs' must be a list of {{'name': ...}} objects, got {value!r}")
    outputs = []
    for position, entry in enumerate(value):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ProtocolError(f"outputs[{position}] must be an object with a 'name' string, got {entry!r}")
        where = f"output {entry['name']!r}"
        parameters = _parameters(entry.get("parameters"), where)
        binary = parameters.get("binary_data")
        if binary is not None and not isinstance(binary, bool):
            raise ProtocolError(f"{where} parameter 'binary_data' must be true or false, got {binary!r}")
        outputs.append(RequestedOutput(entry["name"], binary))  # None: the request-level default
    return outputs


# -------------------------------------------------------------------------------------------------- responses


def encode_response(
    model_name: str,
    model_version: str,
    outputs: list[tuple[str, np.ndarray, bool]],
    request_id: str | None = None,
) -> tuple[bytes, int | None]:
    """The response body for ``(name, array, binary)`` outputs and, when some are binary, the JSON length to put in
    the ``Inference-Header-Content-Length`` header (None when the body is JSON only)."""
    entries, chunks = [], []
    for name, array, binary in outputs:
        array = np.asarray(array)
        datatype = datatype_of(array.dtype)
        entry: dict[str, Any] = {"name": name, "datatype": datatype, "shape": list(array.shape)}
        if binary:
            data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
            entry["parameters"] = {"binary_data_size": len(data)}
            chunks.append(data)
        else:
            entry["data"] = array.reshape(-1).tolist()
        entries.append(entry)
    document: dict[str, Any] = {"model_name": model_name, "model_version": model_version, "outputs": entries}
    if request_id is not None:
        document["id"] = request_id
    header = json.dumps(document, separators=(",", ":")).encode("utf-8")
    if not chunks:
        return header, None
    return b"".join([header, *chunks]), len(header)
