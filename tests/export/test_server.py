"""``portable-dl serve``: the Open Inference Protocol server, run for real (uvicorn on a free port, in a thread or a
subprocess) and called with ``tritonclient.http`` and raw HTTP. Outputs are checked against ONNX Runtime sessions
made here; bad requests must answer ``{"error": ...}`` with the right status and leave the server serving."""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")
httpclient = pytest.importorskip("tritonclient.http")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from portable_dl.export.server import Repository, create_app  # noqa: E402

RNG = np.random.default_rng(7)
WEIGHTS = {
    v: (RNG.standard_normal((4, 3)).astype(np.float32), RNG.standard_normal(3).astype(np.float32)) for v in (1, 2, 3)
}
TYPES = {  # protocol datatype -> (ONNX element type, NumPy dtype)
    "BOOL": (TensorProto.BOOL, np.bool_),
    "UINT8": (TensorProto.UINT8, np.uint8),
    "INT8": (TensorProto.INT8, np.int8),
    "INT16": (TensorProto.INT16, np.int16),
    "INT32": (TensorProto.INT32, np.int32),
    "INT64": (TensorProto.INT64, np.int64),
    "FP16": (TensorProto.FLOAT16, np.float16),
    "FP32": (TensorProto.FLOAT, np.float32),
    "FP64": (TensorProto.DOUBLE, np.float64),
}
MAX_BODY_MB = 4.0


def _model(graph: onnx.GraphProto) -> bytes:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def linear_model(version: int) -> bytes:
    """y = x @ W + B, x: (batch, 4) float32; the weights differ per version."""
    w, b = WEIGHTS[version]
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"]), helper.make_node("Add", ["h", "B"], ["y"])]
    return _model(
        helper.make_graph(
            nodes,
            "linear",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
            [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")],
        )
    )


def pair_model() -> bytes:
    """(a + b, a * b), a and b: (batch, 3) float32."""
    nodes = [helper.make_node("Add", ["a", "b"], ["sum"]), helper.make_node("Mul", ["a", "b"], ["product"])]
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 3]) for n in ("a", "b")]
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 3]) for n in ("sum", "product")]
    return _model(helper.make_graph(nodes, "pair", inputs, outputs))


def types_model() -> bytes:
    """One Identity per datatype: in_<TYPE> -> out_<TYPE>, shape (batch, 3)."""
    nodes = [helper.make_node("Identity", [f"in_{t}"], [f"out_{t}"]) for t in TYPES]
    inputs = [helper.make_tensor_value_info(f"in_{t}", e, ["batch", 3]) for t, (e, _) in TYPES.items()]
    outputs = [helper.make_tensor_value_info(f"out_{t}", e, ["batch", 3]) for t, (e, _) in TYPES.items()]
    return _model(helper.make_graph(nodes, "types", inputs, outputs))


def _write(root: Path, name: str, versions: dict[int, bytes], config: str | None = None) -> None:
    for version, data in versions.items():
        (root / name / str(version)).mkdir(parents=True)
        (root / name / str(version) / "model.onnx").write_bytes(data)
    if config is not None:
        (root / name / "config.pbtxt").write_text(config)


@contextlib.contextmanager
def running(app: object) -> Iterator[str]:
    """A real uvicorn server for ``app`` on a free port, in a thread; yields ``host:port``."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


@pytest.fixture(scope="module")
def repo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repository")
    _write(root, "linear", {1: linear_model(1), 2: linear_model(2)}, 'name: "linear"\nmax_batch_size: 8\n')
    _write(root, "pair", {1: pair_model()})
    _write(root, "types", {1: types_model()}, "max_batch_size: 4")
    batched = 'name: "batched"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 4\n'
    batched += "dynamic_batching { max_queue_delay_microseconds: 3000000 }\n"
    _write(root, "batched", {1: linear_model(3)}, batched)
    return root


@pytest.fixture(scope="module")
def server(repo_dir: Path) -> Iterator[str]:
    repository = Repository.from_directory(repo_dir)
    assert repository.load("cpu") == []
    with running(create_app(repository, max_body_mb=MAX_BODY_MB)) as url:
        yield url


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://{server}", timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def client(server: str) -> httpclient.InferenceServerClient:
    return httpclient.InferenceServerClient(server)


def reference(repo_dir: Path, name: str, feeds: dict[str, np.ndarray], version: int = 1) -> dict[str, np.ndarray]:
    """The outputs ONNX Runtime gives, from a session made here."""
    session = ort.InferenceSession(
        str(repo_dir / name / str(version) / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


def metric(text: str, name: str, model: str) -> int:
    match = re.search(rf'^{name}{{model="{model}",version="1"}} (\d+)$', text, re.MULTILINE)
    assert match, f"{name} for {model} missing from /metrics"
    return int(match.group(1))


# ----- health and metadata -----------------------------------------------------------------------------------------


def test_health_and_server_metadata(http: httpx.Client, client: httpclient.InferenceServerClient) -> None:
    assert http.get("/v2/health/live").json() == {"live": True}
    assert http.get("/v2/health/ready").json() == {"ready": True}
    assert client.is_server_live() and client.is_server_ready()
    metadata = client.get_server_metadata()
    assert metadata["name"] == "portable_dl"
    assert "binary_tensor_data" in metadata["extensions"]


def test_model_metadata(http: httpx.Client, client: httpclient.InferenceServerClient) -> None:
    metadata = client.get_model_metadata("linear")
    assert metadata == {
        "name": "linear",
        "versions": ["1", "2"],
        "platform": "onnxruntime_onnx",
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}],
        "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 3]}],
    }
    assert http.get("/v2/models/linear/versions/1").json()["versions"] == ["1"]
    types = http.get("/v2/models/types").json()
    assert [t["datatype"] for t in types["inputs"]] == list(TYPES)
    assert client.is_model_ready("linear") and client.is_model_ready("linear", "2")
    config = client.get_model_config("batched")
    assert config["max_batch_size"] == 4
    assert config["dynamic_batching"] == {"max_queue_delay_microseconds": 3000000}


# ----- inference ---------------------------------------------------------------------------------------------------


def test_json_inference_flat_and_nested(http: httpx.Client, repo_dir: Path) -> None:
    a = RNG.standard_normal((2, 3)).astype(np.float32)
    b = RNG.standard_normal((2, 3)).astype(np.float32)
    expected = reference(repo_dir, "pair", {"a": a, "b": b})
    body = {
        "id": "request-42",
        "inputs": [
            {"name": "a", "shape": [2, 3], "datatype": "FP32", "data": a.ravel().tolist()},
            {"name": "b", "shape": [2, 3], "datatype": "FP32", "data": b.tolist()},
        ],
    }
    response = http.post("/v2/models/pair/infer", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["id"] == "request-42"
    assert result["model_name"] == "pair" and result["model_version"] == "1"
    outputs = {o["name"]: o for o in result["outputs"]}
    for name in ("sum", "product"):
        assert outputs[name]["datatype"] == "FP32" and outputs[name]["shape"] == [2, 3]
        np.testing.assert_allclose(np.array(outputs[name]["data"], np.float32).reshape(2, 3), expected[name], rtol=1e-6)
    body["outputs"] = [{"name": "product"}]
    only = http.post("/v2/models/pair/infer", json=body).json()
    assert [o["name"] for o in only["outputs"]] == ["product"]


def test_binary_output_from_json_request(http: httpx.Client, repo_dir: Path) -> None:
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    body = {
        "inputs": [{"name": "x", "shape": [3, 4], "datatype": "FP32", "data": x.tolist()}],
        "outputs": [{"name": "y", "parameters": {"binary_data": True}}],
    }
    response = http.post("/v2/models/linear/versions/1/infer", json=body)
    assert response.status_code == 200, response.text
    length = int(response.headers["Inference-Header-Content-Length"])
    header = json.loads(response.content[:length])
    (output,) = header["outputs"]
    assert output["parameters"]["binary_data_size"] == 3 * 3 * 4
    y = np.frombuffer(response.content[length:], dtype="<f4").reshape(output["shape"])
    np.testing.assert_allclose(y, reference(repo_dir, "linear", {"x": x})["y"], rtol=1e-6)


@pytest.mark.parametrize("binary_in", [True, False])
@pytest.mark.parametrize("binary_out", [True, False, None])
def test_tritonclient_inference(
    client: httpclient.InferenceServerClient, repo_dir: Path, binary_in: bool, binary_out: bool | None
) -> None:
    a = RNG.standard_normal((4, 3)).astype(np.float32)
    b = RNG.standard_normal((4, 3)).astype(np.float32)
    inputs = []
    for name, array in (("a", a), ("b", b)):
        tensor = httpclient.InferInput(name, list(array.shape), "FP32")
        tensor.set_data_from_numpy(array, binary_data=binary_in)
        inputs.append(tensor)
    outputs = None if binary_out is None else [httpclient.InferRequestedOutput("sum", binary_data=binary_out)]
    result = client.infer("pair", inputs, outputs=outputs, request_id="7")
    expected = reference(repo_dir, "pair", {"a": a, "b": b})
    np.testing.assert_allclose(result.as_numpy("sum"), expected["sum"], rtol=1e-6)
    if binary_out is None:  # no outputs asked: all of them, as binary (tritonclient sets binary_data_output)
        np.testing.assert_allclose(result.as_numpy("product"), expected["product"], rtol=1e-6)
    else:
        assert result.as_numpy("product") is None
    assert result.get_response()["id"] == "7"


def test_large_binary_request(client: httpclient.InferenceServerClient, repo_dir: Path) -> None:
    a = RNG.standard_normal((100_000, 3)).astype(np.float32)  # 1.2 MB per tensor: parsed and encoded off the loop
    b = RNG.standard_normal((100_000, 3)).astype(np.float32)
    inputs = []
    for name, array in (("a", a), ("b", b)):
        tensor = httpclient.InferInput(name, list(array.shape), "FP32")
        tensor.set_data_from_numpy(array)
        inputs.append(tensor)
    result = client.infer("pair", inputs)
    expected = reference(repo_dir, "pair", {"a": a, "b": b})
    np.testing.assert_array_equal(result.as_numpy("sum"), expected["sum"])
    np.testing.assert_array_equal(result.as_numpy("product"), expected["product"])


def test_versions_are_routed(client: httpclient.InferenceServerClient, repo_dir: Path) -> None:
    x = RNG.standard_normal((2, 4)).astype(np.float32)
    tensor = httpclient.InferInput("x", [2, 4], "FP32")
    tensor.set_data_from_numpy(x)
    for version, asked in ((1, "1"), (2, "2"), (2, "")):  # no version: the highest
        got = client.infer("linear", [tensor], model_version=asked).as_numpy("y")
        np.testing.assert_allclose(got, reference(repo_dir, "linear", {"x": x}, version)["y"], rtol=1e-6)


@pytest.mark.parametrize("binary", [True, False])
def test_every_datatype_round_trips(client: httpclient.InferenceServerClient, binary: bool) -> None:
    arrays = {
        "BOOL": np.array([[True, False, True], [False, False, True]]),
        "UINT8": np.array([[0, 7, 255], [1, 2, 3]], np.uint8),
        "INT8": np.array([[-128, 0, 127], [1, -2, 3]], np.int8),
        "INT16": np.array([[-32768, 5, 32767], [1, -2, 3]], np.int16),
        "INT32": np.array([[-(2**31), 5, 2**31 - 1], [1, -2, 3]], np.int32),
        "INT64": np.array([[-(2**63), 5, 2**63 - 1], [1, -2, 3]], np.int64),
        "FP16": np.array([[0.5, -1.25, 65504], [1e-3, 2, 3]], np.float16),
        "FP32": np.array([[0.1, -1e30, 3.5], [1, 2, 3]], np.float32),
        "FP64": np.array([[0.1, -1e300, np.pi], [1, 2, 3]], np.float64),
    }
    inputs = []
    for datatype, array in arrays.items():
        tensor = httpclient.InferInput(f"in_{datatype}", list(array.shape), datatype)
        tensor.set_data_from_numpy(array, binary_data=binary)
        inputs.append(tensor)
    outputs = [httpclient.InferRequestedOutput(f"out_{t}", binary_data=binary) for t in arrays]
    result = client.infer("types", inputs, outputs=outputs)
    for datatype, array in arrays.items():
        got = result.as_numpy(f"out_{datatype}")
        assert got.dtype == array.dtype, datatype
        np.testing.assert_array_equal(got, array)


def test_gzip_request_body(server: str, repo_dir: Path) -> None:
    x = RNG.standard_normal((2, 4)).astype(np.float32)
    tensor = httpclient.InferInput("x", [2, 4], "FP32")
    tensor.set_data_from_numpy(x)
    with httpclient.InferenceServerClient(server) as compressed:
        got = compressed.infer("linear", [tensor], request_compression_algorithm="gzip").as_numpy("y")
    np.testing.assert_allclose(got, reference(repo_dir, "linear", {"x": x}, 2)["y"], rtol=1e-6)


# ----- bad requests ------------------------------------------------------------------------------------------------


def _json(**tensor: object) -> bytes:
    base = {"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}
    return json.dumps({"inputs": [{**base, **tensor}]}).encode()


def _binary(header: dict, payload: bytes, length: int | None = None) -> tuple[bytes, dict[str, str]]:
    text = json.dumps(header).encode()
    return text + payload, {"Inference-Header-Content-Length": str(len(text) if length is None else length)}


BINARY_X = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "parameters": {"binary_data_size": 16}}]}
BAD_REQUESTS = {
    "malformed json": (b'{"inputs": [', {}, 400, "not valid JSON"),
    "deeply nested": (b'{"inputs": ' + b"[" * 100_000, {}, 400, "nested too deeply"),
    "not an object": (b"[1, 2]", {}, 400, "JSON object"),
    "no inputs": (b'{"id": "1"}', {}, 400, "'inputs'"),
    "input not an object": (b'{"inputs": [3]}', {}, 400, "inputs[0]"),
    "missing name": (_json(name=None), {}, 400, "'name'"),
    "missing data": (
        json.dumps({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32"}]}).encode(),
        {},
        400,
        "'data'",
    ),
    "unknown datatype": (_json(datatype="FLOAT"), {}, 400, "unknown datatype 'FLOAT'"),
    "bytes refused": (_json(datatype="BYTES", data=["a", "b", "c", "d"]), {}, 400, "BYTES"),
    "wrong datatype": (_json(datatype="FP64"), {}, 400, "expects datatype FP32, got FP64"),
    "wrong shape": (_json(shape=[2, 2]), {}, 400, "expects shape [-1, 4]"),
    "wrong rank": (_json(shape=[4]), {}, 400, "expects shape [-1, 4]"),
    "negative shape": (_json(shape=[-1, 4]), {}, 400, "negative"),
    "wrong name": (_json(name="z"), {}, 400, "has no input(s) 'z'; inputs: 'x'"),
    "count mismatch": (_json(data=[1, 2, 3]), {}, 400, "3 element(s) but shape [1, 4] needs 4"),
    "string element": (_json(data=[1, 2, 3, "4"]), {}, 400, "FP32 data must be numbers"),
    "ragged object": (_json(data=[1, 2, 3, {"a": 1}]), {}, 400, "numbers or booleans"),
    "batch over max": (_json(shape=[9, 4], data=[0.0] * 36), {}, 400, "max_batch_size 8"),
    "unknown output": (
        json.dumps({**json.loads(_json()), "outputs": [{"name": "nope"}]}).encode(),
        {},
        400,
        "has no output 'nope'",
    ),
    "shared memory": (_json(parameters={"shared_memory_region": "r"}), {}, 400, "shared memory"),
    "truncated binary": (*_binary(BINARY_X, b"\0" * 10), 400, "truncated"),
    "extra binary": (*_binary(BINARY_X, b"\0" * 20), 400, "4 byte(s) of binary data"),
    "binary size mismatch": (
        *_binary({"inputs": [{**BINARY_X["inputs"][0], "parameters": {"binary_data_size": 12}}]}, b"\0" * 12),
        400,
        "needs 16",
    ),
    "header length too big": (*_binary(BINARY_X, b"\0" * 16, length=10_000), 400, "Inference-Header-Content-Length"),
    "header length not a number": (*_binary(BINARY_X, b"\0" * 16, length=0), 400, "not valid JSON"),
    "bad gzip": (b"not gzip at all", {"Content-Encoding": "gzip"}, 400, "decompress"),
    "too large": (b" " * int(MAX_BODY_MB * 2**20 + 1), {}, 413, "over the limit"),
    "too large once inflated": (
        gzip.compress(b" " * int(2 * MAX_BODY_MB * 2**20)),
        {"Content-Encoding": "gzip"},
        413,
        "decompressed",
    ),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_request_is_refused_and_server_keeps_serving(http: httpx.Client, repo_dir: Path, case: str) -> None:
    body, headers, status, message = BAD_REQUESTS[case]
    response = http.post("/v2/models/linear/infer", content=body, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert message in error, error
    assert "Traceback" not in response.text and 'File "' not in response.text
    x = np.array([[1, 2, 3, 4]], np.float32)  # what _json() sends
    good = http.post("/v2/models/linear/infer", content=_json())
    assert good.status_code == 200, good.text
    got = np.array(good.json()["outputs"][0]["data"], np.float32).reshape(1, 3)
    np.testing.assert_allclose(got, reference(repo_dir, "linear", {"x": x}, 2)["y"], rtol=1e-6)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/v2/models/nope/infer", 404, "unknown model 'nope'"),
        ("/v2/models/linear/versions/3/infer", 404, "has no version 3; versions: 1, 2"),
        ("/v2/models/linear/versions/one/infer", 400, "positive integer"),
        ("/v2/models/nope/ready", 404, "unknown model"),
        ("/v2/nothing", 404, "Not Found"),
    ],
)
def test_unknown_models_and_paths(http: httpx.Client, path: str, status: int, message: str) -> None:
    response = http.post(path, content=_json()) if path.endswith("infer") else http.get(path)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_data_types_the_model_cannot_take(http: httpx.Client) -> None:
    body = json.dumps({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "INT64", "data": [1, 2, 3, 4]}]})
    response = http.post("/v2/models/linear/infer", content=body)
    assert response.status_code == 400 and "expects datatype FP32, got INT64" in response.json()["error"]
    out_of_range = {"name": "in_INT8", "shape": [1, 3], "datatype": "INT8", "data": [1, 2, 300]}
    response = http.post("/v2/models/types/infer", json={"inputs": [out_of_range]})
    assert response.status_code == 400 and "out of range for INT8" in response.json()["error"]


def test_mismatched_batch_sizes(http: httpx.Client) -> None:
    inputs = [
        {
            "name": f"in_{t}",
            "shape": [n, 3],
            "datatype": t,
            "data": [t == "BOOL"] * 3 * n if t == "BOOL" else [1] * 3 * n,
        }
        for t, n in zip(TYPES, [1, 2] * len(TYPES))
    ]
    response = http.post("/v2/models/types/infer", json={"inputs": inputs})
    assert response.status_code == 400
    assert "same batch size" in response.json()["error"]


# ----- batching and metrics ----------------------------------------------------------------------------------------


def test_concurrent_requests_are_batched(server: str, http: httpx.Client, repo_dir: Path) -> None:
    before = http.get("/metrics").text
    inputs = [RNG.standard_normal((n, 4)).astype(np.float32) for n in (1, 2, 1)]  # together a full batch of 4

    def call(x: np.ndarray) -> np.ndarray:
        with httpclient.InferenceServerClient(server) as own:
            tensor = httpclient.InferInput("x", list(x.shape), "FP32")
            tensor.set_data_from_numpy(x)
            return own.infer("batched", [tensor]).as_numpy("y")

    with ThreadPoolExecutor(len(inputs)) as pool:
        results = list(pool.map(call, inputs))
    for x, got in zip(inputs, results):
        np.testing.assert_allclose(got, reference(repo_dir, "batched", {"x": x})["y"], rtol=1e-6)
    after = http.get("/metrics").text
    inferences = metric(after, "nv_inference_count", "batched") - metric(before, "nv_inference_count", "batched")
    executions = metric(after, "nv_inference_exec_count", "batched") - metric(
        before, "nv_inference_exec_count", "batched"
    )
    assert inferences == sum(len(x) for x in inputs)
    assert 1 <= executions < len(inputs)


def test_metrics_count_success_and_failure(http: httpx.Client) -> None:
    before = http.get("/metrics")
    assert before.headers["content-type"].startswith("text/plain")
    assert http.post("/v2/models/pair/infer", content=b"{").status_code == 400
    good = {"name": "a", "shape": [2, 3], "datatype": "FP32", "data": [0.0] * 6}
    assert http.post("/v2/models/pair/infer", json={"inputs": [good, {**good, "name": "b"}]}).status_code == 200
    after = http.get("/metrics").text
    for name, delta in (
        ("nv_inference_request_success", 1),
        ("nv_inference_request_failure", 1),
        ("nv_inference_count", 1),  # pair has max_batch_size 0: one inference per request
        ("nv_inference_exec_count", 1),
    ):
        assert metric(after, name, "pair") - metric(before.text, name, "pair") == delta, name
    assert "# TYPE nv_inference_queue_duration_us counter" in after


# ----- readiness ---------------------------------------------------------------------------------------------------


def test_broken_model_is_not_ready_and_others_serve(tmp_path: Path) -> None:
    _write(tmp_path, "good", {1: pair_model()})
    _write(tmp_path, "broken", {1: b"this is not an onnx file"})
    _write(tmp_path, "misconfigured", {1: pair_model()}, 'name: "other"\n')
    wrong_type = 'input [{ name: "a", data_type: TYPE_INT64, dims: [-1, 3] }]'
    _write(tmp_path, "wrongtype", {1: pair_model()}, wrong_type)
    repository = Repository.from_directory(tmp_path)
    failures = repository.load("cpu")
    assert len(failures) == 2
    assert "broken" in failures[0]
    assert "config.pbtxt input 'a' says TYPE_INT64 but the ONNX model has TYPE_FP32" in failures[1]
    with running(create_app(repository)) as url, httpx.Client(base_url=f"http://{url}") as http:
        assert http.get("/v2/health/live").json() == {"live": True}
        ready = http.get("/v2/health/ready")
        assert ready.status_code == 503 and ready.json()["ready"] is False
        assert "broken" in ready.json()["error"] and "misconfigured" in ready.json()["error"]
        assert http.get("/v2/models/broken/ready").status_code == 503
        assert http.get("/v2/models/good/ready").status_code == 200
        refused = http.post("/v2/models/broken/infer", content=b'{"inputs": []}')
        assert refused.status_code == 503 and "not ready" in refused.json()["error"]
        assert http.get("/v2/models/misconfigured").status_code == 503
        good = {"name": "a", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}
        response = http.post("/v2/models/good/infer", json={"inputs": [good, {**good, "name": "b"}]})
        assert response.status_code == 200
        assert response.json()["outputs"][1]["data"] == [1.0, 4.0, 9.0]


def test_repository_written_by_the_exporter_serves(tmp_path: Path) -> None:
    from portable_dl.export.triton import read_triton_config, write_triton_repository

    path = tmp_path / "pair.onnx"
    path.write_bytes(pair_model())
    folder = write_triton_repository(path, tmp_path / "repo", "pair")
    repository = Repository.from_directory(tmp_path / "repo")
    try:
        assert repository.load("cpu") == []
        model = repository.get("pair")
        written = read_triton_config(folder)
        assert model.max_batch_size == written.max_batch_size > 0
        assert model.dynamic_batching == written.dynamic_batching
        served = model.config()
        assert [(i["name"], i["data_type"], tuple(i["dims"])) for i in served["input"]] == list(written.inputs)
        assert [(o["name"], o["data_type"], tuple(o["dims"])) for o in served["output"]] == list(written.outputs)
    finally:
        repository.close()


# ----- command line ------------------------------------------------------------------------------------------------


def test_cli_serves_a_model_file(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(linear_model(1))
    command = [sys.executable, "-m", "portable_dl.commands.serve", str(path), "--name", "lin", "--port", "0"]
    command += ["--device", "cpu", "--max-batch-size", "4", "--max-queue-delay-ms", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        address = None
        for line in process.stdout:
            found = re.search(r"running on http://([\d.]+:\d+)", line)
            if found:
                address = found.group(1)
                break
        assert address, "the server did not report its address"
        x = RNG.standard_normal((3, 4)).astype(np.float32)
        tensor = httpclient.InferInput("x", [3, 4], "FP32")
        tensor.set_data_from_numpy(x)
        with httpclient.InferenceServerClient(address) as triton:
            assert triton.is_server_ready()
            got = triton.infer("lin", [tensor]).as_numpy("y")
        w, b = WEIGHTS[1]
        np.testing.assert_allclose(got, x @ w + b, rtol=1e-5)
    finally:
        process.terminate()
        process.wait(20)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.onnx"], "not found"),
        (["--model-repository", ".", "--max-batch-size", "2"], "--max-batch-size: only for a single model file"),
    ],
)
def test_cli_errors(tmp_path: Path, arguments: list[str], message: str) -> None:
    command = [sys.executable, "-m", "portable_dl.commands.serve", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
