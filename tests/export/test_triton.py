"""Triton model repositories: layout, the written config checked against an independent protobuf parse of Triton's
ModelConfig schema (built here from the ONNX graph), the hand-written-config reader, and the error paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
import numpy as np
import onnx
import onnxruntime as ort
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from onnx import TensorProto, helper, numpy_helper

from portable_dl.export.triton import (
    TritonConfig,
    read_triton_config,
    scan_model_repository,
    write_triton_repository,
)

# ------------------------------------------------------------------ an independent oracle: Triton's schema subset

# Triton's DataType enum (model_config.proto), in enum-number order.
TRITON_TYPES = [
    "TYPE_INVALID", "TYPE_BOOL", "TYPE_UINT8", "TYPE_UINT16", "TYPE_UINT32", "TYPE_UINT64", "TYPE_INT8",
    "TYPE_INT16", "TYPE_INT32", "TYPE_INT64", "TYPE_FP16", "TYPE_FP32", "TYPE_FP64", "TYPE_STRING", "TYPE_BF16",
]  # fmt: skip
# Triton's documented ONNX Runtime type table (model_configuration.md, "Datatypes"), keyed by ONNX type name.
ONNX_NAME_TO_TRITON = {
    "BOOL": "TYPE_BOOL", "UINT8": "TYPE_UINT8", "INT8": "TYPE_INT8", "INT32": "TYPE_INT32", "INT64": "TYPE_INT64",
    "FLOAT16": "TYPE_FP16", "FLOAT": "TYPE_FP32", "DOUBLE": "TYPE_FP64",
}  # fmt: skip


def _model_config_class() -> type:
    """A ModelConfig message with the fields of Triton's schema used here, so protobuf's own text_format can parse
    config.pbtxt (field numbers do not matter to the text format)."""
    F = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(name="triton_subset.proto", package="inference", syntax="proto3")
    data_type = proto.enum_type.add(name="DataType")
    for number, name in enumerate(TRITON_TYPES):
        data_type.value.add(name=name, number=number)

    def message(name: str, *fields: tuple) -> descriptor_pb2.DescriptorProto:
        msg = proto.message_type.add(name=name)
        for number, (field_name, kind, type_name, repeated) in enumerate(fields, start=1):
            label = F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL
            entry = msg.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                entry.type_name = type_name
        return msg

    message("ModelTensorReshape", ("shape", F.TYPE_INT64, "", True))
    for name in ("ModelInput", "ModelOutput"):
        message(
            name,
            ("name", F.TYPE_STRING, "", False),
            ("data_type", F.TYPE_ENUM, ".inference.DataType", False),
            ("dims", F.TYPE_INT64, "", True),
            ("reshape", F.TYPE_MESSAGE, ".inference.ModelTensorReshape", False),
        )
    message(
        "ModelDynamicBatching",
        ("preferred_batch_size", F.TYPE_INT32, "", True),
        ("max_queue_delay_microseconds", F.TYPE_UINT64, "", False),
    )
    group = message(
        "ModelInstanceGroup", ("kind", F.TYPE_ENUM, ".inference.ModelInstanceGroup.Kind", False),
        ("count", F.TYPE_INT32, "", False),
    )  # fmt: skip
    kind = group.enum_type.add(name="Kind")
    for number, name in enumerate(["KIND_AUTO", "KIND_GPU", "KIND_CPU", "KIND_MODEL"]):
        kind.value.add(name=name, number=number)
    message(
        "ModelConfig",
        ("name", F.TYPE_STRING, "", False),
        ("platform", F.TYPE_STRING, "", False),
        ("backend", F.TYPE_STRING, "", False),
        ("max_batch_size", F.TYPE_INT32, "", False),
        ("input", F.TYPE_MESSAGE, ".inference.ModelInput", True),
        ("output", F.TYPE_MESSAGE, ".inference.ModelOutput", True),
        ("instance_group", F.TYPE_MESSAGE, ".inference.ModelInstanceGroup", True),
        ("dynamic_batching", F.TYPE_MESSAGE, ".inference.ModelDynamicBatching", False),
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("inference.ModelConfig"))


ModelConfig = _model_config_class()
KIND = ModelConfig.DESCRIPTOR.fields_by_name["instance_group"].message_type.enum_types_by_name["Kind"]


def protobuf_parse(text: str):
    message = ModelConfig()
    text_format.Parse(text, message, allow_unknown_field=True)
    return message


def expected_config(model: onnx.ModelProto, name: str, max_batch_size: int, *, batching: bool, kind: str = ""):
    """Triton's config for an ONNX model, built field by field from the graph's inputs and outputs."""
    config = ModelConfig(name=name, platform="onnxruntime_onnx", max_batch_size=max_batch_size)
    initializers = {t.name for t in model.graph.initializer}
    for entries, values in (
        (config.input, [v for v in model.graph.input if v.name not in initializers]),
        (config.output, list(model.graph.output)),
    ):
        for value in values:
            tensor = value.type.tensor_type
            dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim]
            if max_batch_size > 0:
                assert dims and dims[0] == -1, "a batching model has a symbolic first dim"
                dims = dims[1:]
            triton_type = ONNX_NAME_TO_TRITON[TensorProto.DataType.Name(tensor.elem_type)]
            entry = entries.add(name=value.name, data_type=TRITON_TYPES.index(triton_type), dims=dims or [1])
            if not dims:  # Triton's documented spelling of a per-item scalar
                entry.reshape.SetInParent()
    if kind:
        config.instance_group.add(kind=KIND.values_by_name[kind].number, count=1)
    if batching:
        config.dynamic_batching.SetInParent()
    return config


def config_from_protobuf(message) -> TritonConfig:
    """The reader's dataclass, filled from protobuf's parse of the same text."""

    def specs(entries) -> list:
        return [(e.name, TRITON_TYPES[e.data_type], tuple(e.dims)) for e in entries]

    return TritonConfig(
        name=message.name,
        platform=message.platform,
        backend=message.backend,
        max_batch_size=message.max_batch_size,
        inputs=specs(message.input),
        outputs=specs(message.output),
        dynamic_batching=message.HasField("dynamic_batching"),
        preferred_batch_size=list(message.dynamic_batching.preferred_batch_size),
        max_queue_delay_microseconds=message.dynamic_batching.max_queue_delay_microseconds,
        instance_kind=(
            KIND.values_by_number[message.instance_group[0].kind].name.removeprefix("KIND_").lower()
            if message.instance_group
            else "auto"
        ),
    )


# ------------------------------------------------------------------ small ONNX models


def _model(nodes, inputs, outputs, initializers=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def dense_model() -> onnx.ModelProto:
    """y = x @ W + b with a symbolic batch dim; W and b are initializers (also listed as graph inputs, old style)."""
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "W")
    bias = numpy_helper.from_array(rng.standard_normal(3).astype(np.float32), "b")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])
    init_inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in (("W", [4, 3]), ("b", [3]))]
    nodes = [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])]
    return _model(nodes, [x, *init_inputs], [y], [weight, bias])


def fixed_batch_model() -> onnx.ModelProto:
    """A model whose first dim is fixed (2) and whose second dim is symbolic."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, "length"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, "length"])
    return _model([helper.make_node("Neg", ["x"], ["y"])], [x], [y])


def token_model() -> onnx.ModelProto:
    """Two int64 inputs (token ids, lengths) -> embeddings, a per-item scalar, and a bool mask."""
    table = numpy_helper.from_array(np.arange(20, dtype=np.float16).reshape(10, 2), "table")
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])
    lengths = helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"])
    embedded = helper.make_tensor_value_info("embedded", TensorProto.FLOAT16, ["batch", "seq", 2])
    total = helper.make_tensor_value_info("total", TensorProto.INT64, ["batch"])
    mask = helper.make_tensor_value_info("mask", TensorProto.BOOL, ["batch", "seq"])
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["embedded"]),
        helper.make_node("Constant", [], ["axis"], value=numpy_helper.from_array(np.array([1], np.int64))),
        helper.make_node("ReduceSum", ["input_ids", "axis"], ["summed"], keepdims=0),
        helper.make_node("Add", ["summed", "lengths"], ["total"]),
        helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0, np.int64))),
        helper.make_node("Greater", ["input_ids", "zero"], ["mask"]),
    ]
    return _model(nodes, [ids, lengths], [embedded, total, mask], [table])


def scalar_model() -> onnx.ModelProto:
    """A rank-0 input: the model cannot batch, and Triton spells it dims [1] + reshape { shape: [] }."""
    x = helper.make_tensor_value_info("scale", TensorProto.DOUBLE, [])
    y = helper.make_tensor_value_info("twice", TensorProto.DOUBLE, [])
    return _model([helper.make_node("Add", ["scale", "scale"], ["twice"])], [x], [y])


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save_model(model, str(path))
    return path


def _all_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


# ------------------------------------------------------------------ writing


def test_layout_and_byte_identical_copy(tmp_path: Path) -> None:
    source = _save(dense_model(), tmp_path / "dense.onnx")
    repo = tmp_path / "repo"
    model_dir = write_triton_repository(source, repo, "dense")
    assert model_dir == repo / "dense"
    assert _all_files(repo) == {"dense/config.pbtxt", "dense/1/model.onnx"}  # no temporary files left behind
    copied = repo / "dense" / "1" / "model.onnx"
    assert copied.read_bytes() == source.read_bytes()
    onnx.checker.check_model(onnx.load(str(copied)))


def test_model_proto_is_serialized_equal(tmp_path: Path) -> None:
    model = token_model()
    write_triton_repository(model, tmp_path, "tokens", version=3)
    loaded = onnx.load(str(tmp_path / "tokens" / "3" / "model.onnx"))
    assert loaded == model


MODELS = {
    "dense": (dense_model, None, 64),
    "dense_mbs8": (dense_model, 8, 8),
    "dense_unbatched": (dense_model, 0, 0),
    "fixed_first_dim": (fixed_batch_model, None, 0),
    "tokens": (token_model, None, 64),
    "scalar": (scalar_model, None, 0),
}


@pytest.mark.parametrize("case", sorted(MODELS))
@pytest.mark.parametrize("dynamic_batching", [True, False])
def test_config_matches_triton_schema(tmp_path: Path, case: str, dynamic_batching: bool) -> None:
    build, requested, expected_mbs = MODELS[case]
    model = build()
    model_dir = write_triton_repository(
        model, tmp_path, case, max_batch_size=requested, dynamic_batching=dynamic_batching
    )
    text = (model_dir / "config.pbtxt").read_text(encoding="utf-8")
    parsed = ModelConfig()
    text_format.Parse(text, parsed)  # strict: every field the writer emits is in Triton's schema
    batching = dynamic_batching and expected_mbs > 0  # Triton's dynamic batcher needs a batching model
    assert parsed == expected_config(model, case, expected_mbs, batching=batching)
    assert read_triton_config(model_dir) == config_from_protobuf(parsed)


@pytest.mark.parametrize("kind", ["cpu", "gpu"], ids=["kind_cpu", "kind_cuda"])  # an id "gpu" would mark it GPU-only
def test_instance_kind(tmp_path: Path, kind: str) -> None:
    model = dense_model()
    model_dir = write_triton_repository(model, tmp_path, "dense", instance_kind=kind)
    parsed = ModelConfig()
    text_format.Parse((model_dir / "config.pbtxt").read_text(encoding="utf-8"), parsed)
    assert parsed == expected_config(model, "dense", 64, batching=True, kind=f"KIND_{kind.upper()}")
    assert read_triton_config(model_dir).instance_kind == kind


def test_batched_config_describes_what_onnxruntime_accepts(tmp_path: Path) -> None:
    """Requests shaped [batch] + dims (with -1 filled in) run at batch 1 and at max_batch_size, and give the same
    numbers as NumPy."""
    model = dense_model()
    model_dir = write_triton_repository(model, tmp_path, "dense", max_batch_size=5)
    config = read_triton_config(model_dir)
    session = ort.InferenceSession(str(model_dir / "1" / "model.onnx"), providers=["CPUExecutionProvider"])
    weight = numpy_helper.to_array(model.graph.initializer[0])
    bias = numpy_helper.to_array(model.graph.initializer[1])
    (name, _, dims), = config.inputs  # fmt: skip
    for batch in (1, config.max_batch_size):
        x = np.random.default_rng(batch).standard_normal((batch, *dims)).astype(np.float32)
        (y,) = session.run(None, {name: x})
        assert y.shape == (batch, *config.outputs[0].dims)
        np.testing.assert_allclose(y, x @ weight + bias, rtol=1e-5, atol=1e-6)


def test_new_version_keeps_old_ones_and_overwrites_in_place(tmp_path: Path) -> None:
    write_triton_repository(dense_model(), tmp_path, "m", version=1)
    write_triton_repository(fixed_batch_model(), tmp_path, "m", version=2)
    assert scan_model_repository(tmp_path) == {"m": [1, 2]}
    assert onnx.load(str(tmp_path / "m" / "1" / "model.onnx")) == dense_model()
    assert read_triton_config(tmp_path / "m").max_batch_size == 0  # the config describes the latest write
    write_triton_repository(dense_model(), tmp_path, "m", version=2)
    assert onnx.load(str(tmp_path / "m" / "2" / "model.onnx")) == dense_model()
    assert _all_files(tmp_path) == {"m/config.pbtxt", "m/1/model.onnx", "m/2/model.onnx"}


def test_external_data_files_are_copied(tmp_path: Path) -> None:
    model = dense_model()
    source_dir = tmp_path / "src"
    source_dir.mkdir()
    onnx.save_model(model, str(source_dir / "dense.onnx"), save_as_external_data=True, location="weights.bin",
                    size_threshold=0)  # fmt: skip
    model_dir = write_triton_repository(source_dir / "dense.onnx", tmp_path / "repo", "dense")
    assert (model_dir / "1" / "weights.bin").read_bytes() == (source_dir / "weights.bin").read_bytes()
    x = np.ones((2, 4), np.float32)
    expected = ort.InferenceSession(str(source_dir / "dense.onnx")).run(None, {"x": x})[0]
    got = ort.InferenceSession(str(model_dir / "1" / "model.onnx")).run(None, {"x": x})[0]
    np.testing.assert_array_equal(got, expected)
    unloaded = onnx.load(str(source_dir / "dense.onnx"), load_external_data=False)
    with pytest.raises(ValueError, match="external-data"):
        write_triton_repository(unloaded, tmp_path / "repo", "other")


def test_tensor_names_with_quotes_round_trip(tmp_path: Path) -> None:
    odd = 'in "put" \\ näme'
    x = helper.make_tensor_value_info(odd, TensorProto.FLOAT, ["n", 2])
    y = helper.make_tensor_value_info("out:0", TensorProto.FLOAT, ["n", 2])
    model = _model([helper.make_node("Abs", [odd], ["out:0"])], [x], [y])
    model_dir = write_triton_repository(model, tmp_path, "odd")
    parsed = protobuf_parse((model_dir / "config.pbtxt").read_text(encoding="utf-8"))
    assert [parsed.input[0].name, parsed.output[0].name] == [odd, "out:0"]
    assert [t.name for t in read_triton_config(model_dir).inputs] == [odd]


# ------------------------------------------------------------------ reading hand-written configs

HAND_WRITTEN = {
    "documented": """
# An ONNX model as the Triton docs show it
name: "text_classifier"
platform: "onnxruntime_onnx"
max_batch_size: 8   # the batch dim is implied
input [
  {
    name: "input_ids"
    data_type: TYPE_INT64
    dims: [ -1 ]
  },
  {
    name: "attention_mask"
    data_type: TYPE_INT64
    dims: [ -1 ]
  }
]
output [
  {
    name: "logits"
    data_type: TYPE_FP32
    dims: [ 2 ]
  }
]
dynamic_batching {
  max_queue_delay_microseconds: 100
  preferred_batch_size: [4, 8]
}
""",
    "repeated_blocks_and_unknown_fields": """
name: 'resnet'  # single quotes are allowed too
backend: "onnxruntime"
max_batch_size: 16
input { name: "images" data_type: TYPE_FP32 format: FORMAT_NCHW dims: 3 dims: 224 dims: 224 }
output: { name: "probs", data_type: TYPE_FP16, dims: [ 1000 ] }
output < name: "features"; data_type: TYPE_FP32; dims: [ -1, 512 ] >
instance_group [ { count: 2, kind: KIND_GPU, gpus: [ 0, 1 ] } ]
version_policy: { latest { num_versions: 2 } }
optimization { execution_accelerators {
  gpu_execution_accelerator : [ { name : "tensorrt" parameters { key: "precision_mode" value: "FP16" } } ]
}}
parameters { key: "intra_op_thread_count" value: { string_value: "1" } }
dynamic_batching { preferred_batch_size: 4 preferred_batch_size: 8 max_queue_delay_microseconds: 0x10 }
""",
    "minimal_no_batching": """
platform: "onnxruntime_onnx"
input [{name: "x", data_type: TYPE_BOOL, dims: [1], reshape: {shape: []}}]
output [{name: "y", data_type: TYPE_UINT8, dims: [2, 3]}]
""",
}


@pytest.mark.parametrize("case", sorted(HAND_WRITTEN))
def test_hand_written_configs_read_like_protobuf_does(tmp_path: Path, case: str) -> None:
    model_dir = tmp_path / "from_folder"
    model_dir.mkdir()
    (model_dir / "config.pbtxt").write_text(HAND_WRITTEN[case], encoding="utf-8")
    expected = config_from_protobuf(protobuf_parse(HAND_WRITTEN[case]))
    if not expected.name:
        expected.name = "from_folder"  # Triton names a config without a name after its folder
    assert read_triton_config(model_dir / "config.pbtxt") == expected


def test_documented_example_values(tmp_path: Path) -> None:
    path = tmp_path / "config.pbtxt"
    path.write_text(HAND_WRITTEN["documented"], encoding="utf-8")
    config = read_triton_config(path)
    assert (config.name, config.platform, config.max_batch_size) == ("text_classifier", "onnxruntime_onnx", 8)
    assert config.inputs == [("input_ids", "TYPE_INT64", (-1,)), ("attention_mask", "TYPE_INT64", (-1,))]
    assert config.outputs == [("logits", "TYPE_FP32", (2,))]
    assert config.dynamic_batching and config.preferred_batch_size == [4, 8]
    assert config.max_queue_delay_microseconds == 100
    assert config.instance_kind == "auto"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name: "a"\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 1 ] }', r"config.pbtxt:2:.*'\]'"),
        ("name: \"a\"\ninput { name: \"x\"\n", r":\d+:\d+: .*end of file"),
        ("name \"a\"", r"config.pbtxt:1:6: .*expected ':' or '\{' after field 'name'"),
        ("max_batch_size: \"8\"", r"'max_batch_size' must be an integer"),
        ('input [ { name: "x" data_type: TYPE_FLOAT32 dims: [1] } ]', r"input 'x': data_type must be one of .*TYPE_FP32"),
        ('input [ { name: "x" data_type: TYPE_FP32 dims: [1, -2] } ]', r"dims must be >= -1"),
        ('input [ { data_type: TYPE_FP32 dims: [1] } ]', r"needs a name"),
        ("name: \"a\" $", r"config.pbtxt:1:11: .*unexpected character '\$'"),
        ('name: "bad \\q escape"', r"unknown escape"),
        ("dims: [1 2]", r"expected ',' or '\]'"),
        ("max_batch_size: 4\nmax_batch_size: 8", r"'max_batch_size' is given 2 times"),
        ("dynamic_batching { }\ndynamic_batching { }", r"'dynamic_batching' is given 2 times"),
        ('input [ { name: "x" name: "y" data_type: TYPE_FP32 dims: [1] } ]', r"input: field 'name' is given 2 times"),
    ],
)  # fmt: skip
def test_malformed_configs_name_the_place(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.pbtxt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_triton_config(path)


def test_missing_config(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Triton config not found"):
        read_triton_config(tmp_path)


# ------------------------------------------------------------------ scanning a repository


def test_scan_model_repository(tmp_path: Path) -> None:
    write_triton_repository(dense_model(), tmp_path, "b_dense", version=1)
    write_triton_repository(dense_model(), tmp_path, "b_dense", version=10)
    write_triton_repository(dense_model(), tmp_path, "b_dense", version=2)
    write_triton_repository(fixed_batch_model(), tmp_path, "a_fixed", version=7)
    for ignored in ("0", "01", "v3", "4"):  # Triton ignores 0 and leading zeros; "4" has no model.onnx
        (tmp_path / "b_dense" / ignored).mkdir()
    for ignored in ("0", "01", "v3"):
        (tmp_path / "b_dense" / ignored / "model.onnx").write_bytes(b"")
    (tmp_path / "configured_only").mkdir()
    (tmp_path / "configured_only" / "config.pbtxt").write_text('name: "configured_only"\n', encoding="utf-8")
    (tmp_path / "not_a_model").mkdir()
    (tmp_path / ".hidden" / "1").mkdir(parents=True)
    (tmp_path / ".hidden" / "1" / "model.onnx").write_bytes(b"")
    (tmp_path / "README.md").write_text("a file, not a model", encoding="utf-8")
    assert scan_model_repository(tmp_path) == {"a_fixed": [7], "b_dense": [1, 2, 10], "configured_only": []}


def test_scan_missing_repository(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="model repository not found"):
        scan_model_repository(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(NotADirectoryError, match="must be a folder"):
        scan_model_repository(tmp_path / "file")


# ------------------------------------------------------------------ writer errors


def test_fixed_first_dim_refuses_batching(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"max_batch_size=4 .*input 'x' has shape \[2, '\?'\]"):
        write_triton_repository(fixed_batch_model(), tmp_path, "fixed", max_batch_size=4)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])
    y = helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [3])
    model = _model([helper.make_node("ReduceMean", ["x"], ["pooled"], keepdims=0, axes=[0])], [x], [y])
    with pytest.raises(ValueError, match=r"output 'pooled'"):
        write_triton_repository(model, tmp_path, "pooled", max_batch_size=4)
    assert not (tmp_path / "fixed").exists() and not (tmp_path / "pooled").exists()  # nothing half-written


@pytest.mark.parametrize("name", ["a/b", "", "..", ".hidden", "-dash", "with space", "back\\slash", 'q"uote', 7])
def test_invalid_model_names(tmp_path: Path, name: object) -> None:
    with pytest.raises(ValueError, match="invalid Triton model name"):
        write_triton_repository(dense_model(), tmp_path, name)  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"version": 0}, "version must be an integer >= 1"),
        ({"version": "1"}, "version must be an integer >= 1"),
        ({"max_batch_size": -1}, "max_batch_size must be None or an integer"),
        ({"max_batch_size": True}, "max_batch_size must be None or an integer"),
        ({"instance_kind": "tpu"}, r"instance_kind must be one of \['auto', 'cpu', 'gpu'\]"),
    ],
)
def test_invalid_arguments(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_triton_repository(dense_model(), tmp_path, "m", **kwargs)


def test_bad_model_inputs(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="ONNX model file not found"):
        write_triton_repository(tmp_path / "missing.onnx", tmp_path / "repo", "m")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\xff\xfe not protobuf at all")
    with pytest.raises(ValueError, match="not a valid ONNX model file"):
        write_triton_repository(corrupt, tmp_path / "repo", "m")
    with pytest.raises(TypeError, match="path to an .onnx file or an onnx.ModelProto"):
        write_triton_repository(b"bytes", tmp_path / "repo", "m")  # type: ignore[arg-type]
    assert not (tmp_path / "repo").exists()


def test_unsupported_tensor_types(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("z", TensorProto.COMPLEX64, ["n"])
    model = _model([helper.make_node("Identity", ["z"], ["w"])], [x], [helper.make_tensor_value_info(
        "w", TensorProto.COMPLEX64, ["n"])])  # fmt: skip
    with pytest.raises(ValueError, match=r"input 'z' has element type COMPLEX64 .*supported: FLOAT"):
        write_triton_repository(model, tmp_path, "complex")
    seq = helper.make_tensor_sequence_value_info("items", TensorProto.FLOAT, ["n"])
    out = helper.make_tensor_value_info("first", TensorProto.FLOAT, ["n"])
    position = numpy_helper.from_array(np.array(0, np.int64), "position")
    model = _model([helper.make_node("SequenceAt", ["items", "position"], ["first"])], [seq], [out], [position])
    with pytest.raises(ValueError, match="input 'items' is not a tensor"):
        write_triton_repository(model, tmp_path, "sequence")
