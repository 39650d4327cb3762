"""Triton Inference Server model repositories for ONNX models: write one, read a ``config.pbtxt``, list one.

A repository is ``<repo>/<name>/config.pbtxt`` plus ``<repo>/<name>/<version>/model.onnx``; the config names the
``onnxruntime_onnx`` platform and each input/output with its Triton data type and dims. Triton's batching rule is
followed: with ``max_batch_size > 0`` the first (batch) dim of every input and output is implied, not listed, and
must be symbolic in the ONNX model; other symbolic dims are written as ``-1``.

Why a hand-written parser for ``config.pbtxt``: the exact reader would be protobuf's ``text_format`` with Triton's
``ModelConfig`` message, but that message ships only with Triton's own packages (``tritonclient[grpc]``), which
this project does not depend on. So :func:`read_triton_config` parses the protobuf text format generically (``#``
comments, ``key: value``, nested ``{ }`` / ``< >`` blocks with or without a colon, ``[ ]`` lists of scalars or
blocks, repeated fields, quoted strings with C escapes, ``,``/``;`` separators) and then reads the fields it knows,
ignoring all others, as Triton users write them by hand. A singular field given twice is an error, as in protobuf.
The tests cross-check this parser against protobuf's ``text_format`` on a subset of Triton's schema built there.
``onnx`` is imported only inside the writer.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .._atomic import write_bytes

__all__ = [
    "TensorSpec",
    "TritonConfig",
    "config_text",
    "read_triton_config",
    "scan_model_repository",
    "write_triton_repository",
]

CONFIG_FILE = "config.pbtxt"
MODEL_FILE = "model.onnx"
PLATFORM = "onnxruntime_onnx"
DEFAULT_MAX_BATCH_SIZE = 64

# ONNX TensorProto element type -> Triton data type (model_config.proto). ONNX types Triton lacks are refused.
_ONNX_TO_TRITON = {
    1: "TYPE_FP32",
    2: "TYPE_UINT8",
    3: "TYPE_INT8",
    4: "TYPE_UINT16",
    5: "TYPE_INT16",
    6: "TYPE_INT32",
    7: "TYPE_INT64",
    8: "TYPE_STRING",
    9: "TYPE_BOOL",
    10: "TYPE_FP16",
    11: "TYPE_FP64",
    12: "TYPE_UINT32",
    13: "TYPE_UINT64",
    16: "TYPE_BF16",
}
# Triton's DataType enum numbers, so a config that spells the enum as a number still reads.
_TRITON_TYPES = (
    "TYPE_INVALID TYPE_BOOL TYPE_UINT8 TYPE_UINT16 TYPE_UINT32 TYPE_UINT64 TYPE_INT8 TYPE_INT16 TYPE_INT32 "
    "TYPE_INT64 TYPE_FP16 TYPE_FP32 TYPE_FP64 TYPE_STRING TYPE_BF16"
).split()
_INSTANCE_KINDS = {"auto": None, "cpu": "KIND_CPU", "gpu": "KIND_GPU"}
_MODEL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_VERSION = re.compile(r"[1-9][0-9]*")
_INT32_MAX = 2**31 - 1


class TensorSpec(NamedTuple):
    """One ``input`` or ``output`` entry: Triton data type (``TYPE_FP32``...) and dims without the batch dim when
    the model batches; ``-1`` marks a variable dim."""

    name: str
    data_type: str
    dims: tuple[int, ...]


@dataclass
class TritonConfig:
    """The fields of a ``config.pbtxt`` this project uses; ``instance_kind`` is the first instance group's kind
    (``"auto"`` when there is none)."""

    name: str
    platform: str = ""
    max_batch_size: int = 0
    inputs: list[TensorSpec] = field(default_factory=list)
    outputs: list[TensorSpec] = field(default_factory=list)
    dynamic_batching: bool = False
    preferred_batch_size: list[int] = field(default_factory=list)
    max_queue_delay_microseconds: int = 0
    backend: str = ""
    instance_kind: str = "auto"


# --------------------------------------------------------------------------------------------------- writing


def write_triton_repository(
    model: Any,
    repo: str | os.PathLike,
    name: str,
    *,
    max_batch_size: int | None = None,
    dynamic_batching: bool = True,
    version: int = 1,
    instance_kind: str = "auto",
) -> Path:
    """Write ``<repo>/<name>/<version>/model.onnx`` and ``<repo>/<name>/config.pbtxt``; return ``<repo>/<name>``.

    ``model`` is a path to an ``.onnx`` file (copied byte for byte, with its external-data files) or an
    ``onnx.ModelProto``. ``max_batch_size=None`` picks 0 when some input/output has a fixed first dim, else
    ``DEFAULT_MAX_BATCH_SIZE``. ``dynamic_batching`` only applies when the model batches (``max_batch_size > 0``).
    ``instance_kind`` is ``"auto"`` (Triton decides), ``"cpu"`` or ``"gpu"``. Files are written atomically, the
    model first, so Triton never sees a config without its model.
    """
    _check_model_name(name)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(
            f"version must be an integer >= 1 (Triton ignores a version folder named 0 or with leading zeros), got {version!r}"
        )
    if instance_kind not in _INSTANCE_KINDS:
        raise ValueError(f"instance_kind must be one of {sorted(_INSTANCE_KINDS)}, got {instance_kind!r}")
    if max_batch_size is not None and (
        isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int) or not 0 <= max_batch_size <= _INT32_MAX
    ):
        raise ValueError(f"max_batch_size must be None or an integer in [0, {_INT32_MAX}], got {max_batch_size!r}")

    payload, external, source_dir, proto = _load_model(model)
    inputs, outputs = _tensor_shapes(proto)
    max_batch_size = _resolve_max_batch_size(max_batch_size, inputs, outputs)
    text = config_text(
        name,
        inputs,
        outputs,
        max_batch_size=max_batch_size,
        dynamic_batching=dynamic_batching and max_batch_size > 0,
        instance_kind=instance_kind,
    )

    model_dir = Path(repo) / name
    version_dir = model_dir / str(version)
    version_dir.mkdir(parents=True, exist_ok=True)
    for location in external:  # external-data files first, so model.onnx never points at a missing file
        target = version_dir / location
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(target, (source_dir / location).read_bytes())
    _atomic_write(version_dir / MODEL_FILE, payload)
    _atomic_write(model_dir / CONFIG_FILE, text.encode("utf-8"))
    return model_dir


def config_text(
    name: str,
    inputs: list[tuple[str, int, list[int | None]]],
    outputs: list[tuple[str, int, list[int | None]]],
    *,
    max_batch_size: int,
    dynamic_batching: bool,
    instance_kind: str = "auto",
) -> str:
    """The ``config.pbtxt`` text for tensors given as (name, ONNX elem type, ONNX dims with None for symbolic)."""
    lines = [f"name: {_quote(name)}", f'platform: "{PLATFORM}"', f"max_batch_size: {max_batch_size}"]
    for key, tensors in (("input", inputs), ("output", outputs)):
        lines.append(f"{key} [")
        for i, (tensor_name, elem_type, dims) in enumerate(tensors):
            shown = dims[1:] if max_batch_size > 0 else dims
            lines += ["  {", f"    name: {_quote(tensor_name)}", f"    data_type: {_ONNX_TO_TRITON[elem_type]}"]
            if shown:
                lines.append(f"    dims: [ {', '.join(str(-1 if d is None else d) for d in shown)} ]")
            else:  # Triton's spelling of a scalar (per batch item): one element, reshaped to rank 0 for the model
                lines += ["    dims: [ 1 ]", "    reshape: { shape: [ ] }"]
            lines.append("  }," if i + 1 < len(tensors) else "  }")
        lines.append("]")
    kind = _INSTANCE_KINDS[instance_kind]
    if kind is not None:
        lines += ["instance_group [", "  {", f"    kind: {kind}", "    count: 1", "  }", "]"]
    if dynamic_batching:
        lines.append("dynamic_batching { }")
    return "\n".join(lines) + "\n"


def _check_model_name(name: Any) -> None:
    if not isinstance(name, str) or not _MODEL_NAME.fullmatch(name) or name in (".", ".."):
        raise ValueError(
            f"invalid Triton model name {name!r}: it names a folder and a URL path, so use letters, digits, '_', "
            "'-' and '.' only, not starting with '.' or '-' (no '/', spaces or other characters)"
        )


def _load_model(model: Any) -> tuple[bytes, list[str], Path, Any]:
    """(bytes to write as model.onnx, external-data locations to copy, their folder, parsed ModelProto)."""
    import onnx

    if isinstance(model, onnx.ModelProto):
        if _external_locations(model):
            raise ValueError(
                "the ModelProto refers to external-data files whose folder is unknown; pass the .onnx path "
                "instead, or load it with onnx.load(path) (which reads the external data in)"
            )
        return model.SerializeToString(), [], Path("."), model
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a path to an .onnx file or an onnx.ModelProto, got {type(model).__name__}")
    path = Path(model)
    if not path.is_file():
        raise FileNotFoundError(f"ONNX model file not found: {str(path)!r}")
    payload = path.read_bytes()
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(payload)
    except Exception as error:  # protobuf's DecodeError and friends
        raise ValueError(f"{str(path)!r} is not a valid ONNX model file: {error}") from error
    if not proto.HasField("graph"):
        raise ValueError(f"{str(path)!r} is not a valid ONNX model file: it has no graph")
    locations = _external_locations(proto)
    for location in locations:
        parts = Path(location).parts
        if Path(location).is_absolute() or ".." in parts:
            raise ValueError(f"{str(path)!r} refers to external data outside its folder: {location!r}")
        if not (path.parent / location).is_file():
            raise FileNotFoundError(f"external-data file {location!r} of {str(path)!r} not found")
    return payload, locations, path.parent, proto


def _external_locations(proto: Any) -> list[str]:
    from onnx.external_data_helper import _get_all_tensors

    locations = []
    for tensor in _get_all_tensors(proto):
        if tensor.data_location == tensor.EXTERNAL:
            location = next((e.value for e in tensor.external_data if e.key == "location"), None)
            if location and location not in locations:
                locations.append(location)
    return locations


def _tensor_shapes(proto: Any) -> tuple[list, list]:
    """Graph inputs (initializers excluded) and outputs as (name, elem type, dims with None for symbolic)."""
    graph = proto.graph
    if not graph.output:
        raise ValueError("the ONNX model has no graph outputs; Triton needs at least one output")
    if any(not _has_shape(v) for v in graph.output):
        import onnx

        try:  # exporters may leave output shapes to inference; ask ONNX for them
            graph = onnx.shape_inference.infer_shapes(proto).graph
        except Exception:  # inference is a best effort: the error below names the tensor
            pass
    initializers = {t.name for t in graph.initializer}
    inputs = [_describe(v, "input") for v in graph.input if v.name not in initializers]
    outputs = [_describe(v, "output") for v in graph.output]
    return inputs, outputs


def _has_shape(value: Any) -> bool:
    return value.type.HasField("tensor_type") and value.type.tensor_type.HasField("shape")


def _describe(value: Any, kind: str) -> tuple[str, int, list[int | None]]:
    if not value.name or any(ord(c) < 32 for c in value.name):
        raise ValueError(f"ONNX {kind} name {value.name!r} is empty or has control characters")
    if not value.type.HasField("tensor_type"):
        raise ValueError(f"ONNX {kind} {value.name!r} is not a tensor (sequence/map/optional types are unsupported)")
    tensor_type = value.type.tensor_type
    if tensor_type.elem_type not in _ONNX_TO_TRITON:
        import onnx

        known = ", ".join(onnx.TensorProto.DataType.Name(t) for t in _ONNX_TO_TRITON)
        try:
            type_name = onnx.TensorProto.DataType.Name(tensor_type.elem_type)
        except ValueError:
            type_name = "unknown"
        raise ValueError(
            f"ONNX {kind} {value.name!r} has element type {type_name} ({tensor_type.elem_type}), which Triton has no "
            f"data type for; supported: {known}"
        )
    if not tensor_type.HasField("shape"):
        raise ValueError(f"ONNX {kind} {value.name!r} has no shape (unknown rank); give it one in the model")
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
    return value.name, tensor_type.elem_type, dims


def _resolve_max_batch_size(requested: int | None, inputs: list, outputs: list) -> int:
    tensors = [("input", t) for t in inputs] + [("output", t) for t in outputs]
    unbatched = [(kind, name, dims) for kind, (name, _, dims) in tensors if not dims or dims[0] is not None]
    if requested is None:
        return 0 if unbatched or not inputs else DEFAULT_MAX_BATCH_SIZE
    if requested > 0 and unbatched:
        kind, name, dims = unbatched[0]
        shape = [("?" if d is None else d) for d in dims]
        raise ValueError(
            f"max_batch_size={requested} needs a symbolic first (batch) dim on every input and output, but {kind} "
            f"{name!r} has shape {shape}; export it with a dynamic batch axis or use max_batch_size=0"
        )
    return requested


def _quote(text: str) -> str:
    """A protobuf text-format string literal (UTF-8 kept, quotes/backslashes/control bytes escaped)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\{ord(ch):03o}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _atomic_write(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder, then rename, so readers never see half a file."""
    write_bytes(path, data)


# --------------------------------------------------------------------------------------------------- reading

_TOKEN = re.compile(
    r"""(?P<skip>\s+|\#[^\n]*)
    |(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    |(?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?|inf(?:inity)?\b|nan\b))
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct>[{}\[\]<>:,;])""",
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|[xX]([0-9a-fA-F]{1,2})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11, "\\": 92, "'": 39, '"': 34, "?": 63}
_CLOSERS = {"{": "}", "<": ">"}


class _Token(NamedTuple):
    kind: str
    value: Any
    line: int
    column: int


class _TextFormatParser:
    """Protobuf text format to nested dicts: each field name maps to the list of its values (scalars or dicts)."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.tokens: list[_Token] = []
        self.pos = 0
        index, line, line_start = 0, 1, 0
        while index < len(text):
            match = _TOKEN.match(text, index)
            if match is None:
                self._fail(f"unexpected character {text[index]!r}", line, index - line_start + 1)
            kind = match.lastgroup
            value = match.group()
            if kind != "skip":
                token_value = _unquote(value, self, line) if kind == "string" else value
                self.tokens.append(_Token(kind, token_value, line, index - line_start + 1))
            newlines = value.count("\n")
            if newlines:
                line += newlines
                line_start = index + value.rindex("\n") + 1
            index = match.end()

    def _fail(self, message: str, line: int, column: int) -> None:
        raise ValueError(f"{self.source}:{line}:{column}: cannot parse Triton config: {message}")

    def _peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _next(self, expected: str) -> _Token:
        token = self._peek()
        if token is None:
            last = self.tokens[-1] if self.tokens else _Token("", "", 1, 1)
            self._fail(f"unexpected end of file, expected {expected}", last.line, last.column)
        self.pos += 1
        return token

    def _is(self, *punct: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "punct" and token.value in punct

    def parse(self) -> dict[str, list]:
        return self._message(closer=None)

    def _message(self, closer: str | None) -> dict[str, list]:
        fields: dict[str, list] = {}
        while True:
            token = self._peek()
            if token is None:
                if closer is not None:
                    self._next(f"{closer!r} to close a block")
                return fields
            if token.kind == "punct" and token.value == closer:
                self.pos += 1
                return fields
            token = self._next("a field name")
            if token.kind != "ident":
                self._fail(f"expected a field name, found {token.value!r}", token.line, token.column)
            values = fields.setdefault(token.value, [])
            colon = self._is(":")
            if colon:
                self.pos += 1
            if self._is("{", "<"):
                values.append(self._message(_CLOSERS[self._next("a block").value]))
            elif self._is("["):
                self.pos += 1
                values.extend(self._list())
            elif colon:
                values.append(self._scalar())
            else:
                after = self._peek()
                where = after or token
                self._fail(f"expected ':' or '{{' after field {token.value!r}", where.line, where.column)
            if self._is(",", ";"):
                self.pos += 1

    def _list(self) -> list:
        items: list = []
        while True:
            if self._is("]"):
                self.pos += 1
                return items
            if self._is("{", "<"):
                items.append(self._message(_CLOSERS[self._next("a block").value]))
            else:
                items.append(self._scalar())
            if self._is(","):
                self.pos += 1
            elif not self._is("]"):
                token = self._next("',' or ']' in a list")
                self._fail(f"expected ',' or ']' in a list, found {token.value!r}", token.line, token.column)

    def _scalar(self) -> Any:
        token = self._next("a value")
        if token.kind == "string":
            text = token.value
            while (after := self._peek()) is not None and after.kind == "string":  # "a" "b" concatenate
                text += self._next("a string").value
            return text
        if token.kind == "ident":
            return token.value
        if token.kind == "number":
            return _number(token.value)
        self._fail(f"expected a value, found {token.value!r}", token.line, token.column)
        return None  # unreachable: _fail raises


def _number(text: str) -> int | float:
    body = text.lstrip("+-")
    sign = -1 if text.startswith("-") else 1
    if body[:2] in ("0x", "0X"):
        return sign * int(body, 16)
    if body.isdigit():
        return sign * int(body)
    return float(text.rstrip("fF") if not body.lower().startswith("inf") else text)


def _unquote(literal: str, parser: _TextFormatParser, line: int) -> str:
    body = literal[1:-1]
    out = bytearray()
    last = 0
    for match in _ESCAPE.finditer(body):
        out += body[last : match.start()].encode("utf-8")
        octal, hexa, simple = match.groups()
        if octal is not None:
            out.append(int(octal, 8) & 0xFF)
        elif hexa is not None:
            out.append(int(hexa, 16))
        elif simple in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[simple])
        else:
            parser._fail(f"unknown escape '\\{simple}' in string {literal}", line, 1)
        last = match.end()
    out += body[last:].encode("utf-8")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        parser._fail(f"string {literal} is not valid UTF-8 once unescaped", line, 1)
        raise  # unreachable: _fail raises


def read_triton_config(path: str | os.PathLike) -> TritonConfig:
    """Read a ``config.pbtxt`` (or the model folder holding one). Fields this project does not use are ignored;
    a missing ``name`` is the folder's name, as Triton does."""
    path = Path(path)
    if path.is_dir():
        path = path / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"Triton config not found: {str(path)!r}")
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{source}: a Triton config must be UTF-8 text: {error}") from error
    fields = _TextFormatParser(text, source).parse()
    reader = _FieldReader(fields, source)
    batching = reader.message("dynamic_batching")
    groups = reader.messages("instance_group")
    kind = _FieldReader(groups[0], f"{source}: instance_group").scalar("kind", str, "KIND_AUTO") if groups else None
    return TritonConfig(
        name=reader.scalar("name", str, path.parent.name),
        platform=reader.scalar("platform", str, ""),
        backend=reader.scalar("backend", str, ""),
        max_batch_size=reader.scalar("max_batch_size", int, 0),
        inputs=[_tensor_spec(m, f"{source}: input") for m in reader.messages("input")],
        outputs=[_tensor_spec(m, f"{source}: output") for m in reader.messages("output")],
        dynamic_batching=batching is not None,
        preferred_batch_size=_FieldReader(batching or {}, source).ints("preferred_batch_size"),
        max_queue_delay_microseconds=_FieldReader(batching or {}, source).scalar(
            "max_queue_delay_microseconds", int, 0
        ),
        instance_kind="auto" if kind is None else kind.removeprefix("KIND_").lower(),
    )


class _FieldReader:
    """Typed access to one parsed message, with errors naming the file and field."""

    def __init__(self, fields: dict[str, list], where: str) -> None:
        self.fields = fields
        self.where = where

    def scalar(self, key: str, kind: type, default: Any) -> Any:
        values = self._single(key)
        if not values:
            return default
        value = values[0]
        if kind is str and isinstance(value, str):
            return value
        if kind is int and isinstance(value, int):
            return value
        if kind is object:
            return value
        raise ValueError(
            f"{self.where}: field {key!r} must be {'a string' if kind is str else 'an integer'}, got {value!r}"
        )

    def ints(self, key: str) -> list[int]:
        values = self.fields.get(key, [])
        if not all(isinstance(v, int) for v in values):
            raise ValueError(f"{self.where}: field {key!r} must be a list of integers, got {values!r}")
        return list(values)

    def messages(self, key: str) -> list[dict[str, list]]:
        values = self.fields.get(key, [])
        if not all(isinstance(v, dict) for v in values):
            raise ValueError(f"{self.where}: field {key!r} must be blocks {{ ... }}, got {values!r}")
        return values

    def message(self, key: str) -> dict[str, list] | None:
        self._single(key)
        values = self.messages(key)
        return values[0] if values else None

    def _single(self, key: str) -> list:
        values = self.fields.get(key, [])
        if len(values) > 1:  # protobuf (and so Triton) rejects a singular field given twice
            raise ValueError(f"{self.where}: field {key!r} is given {len(values)} times; it takes one value")
        return values


def _tensor_spec(fields: dict[str, list], where: str) -> TensorSpec:
    reader = _FieldReader(fields, where)
    name = reader.scalar("name", str, "")
    if not name:
        raise ValueError(f"{where}: every entry needs a name")
    where = f"{where} {name!r}"
    data_type = reader.scalar("data_type", object, None)
    if isinstance(data_type, int) and not isinstance(data_type, bool) and 0 < data_type < len(_TRITON_TYPES):
        data_type = _TRITON_TYPES[data_type]
    if data_type not in _TRITON_TYPES[1:]:
        raise ValueError(f"{where}: data_type must be one of {', '.join(_TRITON_TYPES[1:])}, got {data_type!r}")
    dims = _FieldReader(fields, where).ints("dims")
    if any(d < -1 for d in dims):
        raise ValueError(f"{where}: dims must be >= -1 (-1 is a variable dim), got {dims}")
    return TensorSpec(name, data_type, tuple(dims))


# --------------------------------------------------------------------------------------------------- listing


def scan_model_repository(repo: str | os.PathLike) -> dict[str, list[int]]:
    """The models of a repository and, for each, its sorted version numbers that hold a ``model.onnx``.

    A model is a sub-folder with a ``config.pbtxt`` or at least one such version; version folders are named by a
    positive integer without leading zeros (Triton ignores others). Hidden folders are skipped.
    """
    root = Path(repo)
    if not root.exists():
        raise FileNotFoundError(f"Triton model repository not found: {str(root)!r}")
    if not root.is_dir():
        raise NotADirectoryError(f"Triton model repository must be a folder, got a file: {str(root)!r}")
    models: dict[str, list[int]] = {}
    for model_dir in sorted(root.iterdir()):
        if not model_dir.is_dir() or model_dir.name.startswith("."):
            continue
        versions = sorted(
            int(v.name)
            for v in model_dir.iterdir()
            if v.is_dir() and _VERSION.fullmatch(v.name) and (v / MODEL_FILE).is_file()
        )
        if versions or (model_dir / CONFIG_FILE).is_file():
            models[model_dir.name] = versions
    return models
