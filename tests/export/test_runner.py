"""``Runner`` on small ONNX models built with ``onnx.helper``: outputs against NumPy, metadata, input checks with
clear errors, output kinds (NumPy, portable_dl Tensor, CuPy), providers and session options."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import portable_dl as pdl  # noqa: E402
from portable_dl.export import Runner  # noqa: E402

RNG = np.random.default_rng(0)
W = RNG.standard_normal((4, 3)).astype(np.float32)
B = RNG.standard_normal(3).astype(np.float32)
TABLE = RNG.standard_normal((10, 2)).astype(np.float32)


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def linear_model(path: Path) -> Path:
    """y = x @ W + B with x: (batch, 4) float32."""
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"]), helper.make_node("Add", ["h", "B"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B")],
    )
    return _save(graph, path)


def two_output_model(path: Path) -> Path:
    """(a + b, a * b) with a, b: (batch, 3) float32."""
    nodes = [helper.make_node("Add", ["a", "b"], ["sum"]), helper.make_node("Mul", ["a", "b"], ["product"])]
    value = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 3]) for n in ("a", "b")]
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 3]) for n in ("sum", "product")]
    return _save(helper.make_graph(nodes, "two", value, outputs), path)


def embedding_model(path: Path) -> Path:
    """TABLE[ids] with ids: (batch, 5) int64."""
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["vectors"])],
        "embedding",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", 5])],
        [helper.make_tensor_value_info("vectors", TensorProto.FLOAT, ["batch", 5, 2])],
        [numpy_helper.from_array(TABLE, "table")],
    )
    return _save(graph, path)


def fixed_model(path: Path) -> Path:
    """relu(x) with x: (2, 3) float32, no symbolic dims."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "fixed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
    )
    return _save(graph, path)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {
        "linear": linear_model(root / "linear.onnx"),
        "two": two_output_model(root / "two.onnx"),
        "embedding": embedding_model(root / "embedding.onnx"),
        "fixed": fixed_model(root / "fixed.onnx"),
    }


@pytest.fixture(scope="module")
def linear(models: dict[str, Path]) -> Runner:
    return Runner(models["linear"], device="cpu")


# ----- outputs against NumPy ---------------------------------------------------------------------------------
@pytest.mark.parametrize("batch", [1, 5])
def test_linear_matches_numpy(linear: Runner, batch: int) -> None:
    x = RNG.standard_normal((batch, 4)).astype(np.float32)
    y = linear(x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == (batch, 3)
    np.testing.assert_allclose(y, x @ W + B, rtol=1e-5, atol=1e-6)


def test_positional_keyword_and_mapping_calls_agree(linear: Runner) -> None:
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    expected = x @ W + B
    for result in (linear(x), linear(x=x), linear.run({"x": x})):
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)


def test_two_outputs_come_as_a_list_in_model_order(models: dict[str, Path]) -> None:
    runner = Runner(models["two"], device="cpu")
    a = RNG.standard_normal((2, 3)).astype(np.float32)
    b = RNG.standard_normal((2, 3)).astype(np.float32)
    result = runner(a, b=b)
    assert isinstance(result, list) and len(result) == 2
    np.testing.assert_allclose(result[0], a + b, rtol=1e-6)
    np.testing.assert_allclose(result[1], a * b, rtol=1e-6)
    swapped = runner(b=a, a=b)  # keywords bind by name, not order
    np.testing.assert_allclose(swapped[0], a + b, rtol=1e-6)


def test_int64_input(models: dict[str, Path]) -> None:
    runner = Runner(models["embedding"], device="cpu")
    ids = np.array([[0, 9, 3, 3, 1], [2, 2, 8, 0, 5]], dtype=np.int64)
    np.testing.assert_array_equal(runner(ids), TABLE[ids])


def test_python_lists_take_the_input_dtype_when_lossless(linear: Runner, models: dict[str, Path]) -> None:
    rows = [[0.5, -1.0, 2.0, 3.0]]
    np.testing.assert_allclose(linear(rows), np.array(rows, np.float32) @ W + B, rtol=1e-5, atol=1e-6)
    ids = [[1, 2, 3, 4, 5]]
    np.testing.assert_array_equal(Runner(models["embedding"], device="cpu")(ids), TABLE[np.array(ids)])
    with pytest.raises(TypeError, match=r"'ids'.*int64.*float64"):
        Runner(models["embedding"], device="cpu")([[1.5, 2.0, 3.0, 4.0, 5.0]])


def test_model_bytes_are_accepted(models: dict[str, Path]) -> None:
    runner = Runner(models["linear"].read_bytes(), device="cpu")
    x = np.ones((1, 4), np.float32)
    np.testing.assert_allclose(runner(x), x @ W + B, rtol=1e-5, atol=1e-6)


# ----- metadata and session --------------------------------------------------------------------------------
def test_metadata(models: dict[str, Path], linear: Runner) -> None:
    (x,) = linear.inputs
    assert (x.name, x.shape, x.dtype) == ("x", ("batch", 4), np.dtype(np.float32))
    assert [(o.name, o.shape) for o in linear.outputs] == [("y", ("batch", 3))]
    embedding = Runner(models["embedding"], device="cpu")
    assert embedding.inputs[0].dtype == np.dtype(np.int64)
    assert linear.has_dynamic_batch and not Runner(models["fixed"], device="cpu").has_dynamic_batch
    sample = linear.sample_inputs(7, random=True)
    assert sample["x"].shape == (7, 4) and sample["x"].dtype == np.float32


def test_providers_on_cpu(models: dict[str, Path]) -> None:
    runner = Runner(models["linear"], device="cpu")
    assert runner.providers == ["CPUExecutionProvider"] and runner.device == "cpu"
    auto = Runner(models["linear"], device="auto")
    cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    assert auto.providers == (["CUDAExecutionProvider"] if cuda else []) + ["CPUExecutionProvider"]


@pytest.mark.skipif("CUDAExecutionProvider" in ort.get_available_providers(), reason="CUDA is usable here")
def test_cuda_request_falls_back_to_cpu_with_a_warning(models: dict[str, Path]) -> None:
    with pytest.warns(RuntimeWarning, match="CUDA"):
        runner = Runner(models["linear"], device="cuda:0")
    assert runner.providers == ["CPUExecutionProvider"] and runner.device == "cpu"
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(runner(x), x @ W + B, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("optimization", ["disable", "basic", "extended", "all"])
def test_optimization_levels_and_threads_give_the_same_numbers(models: dict[str, Path], optimization: str) -> None:
    runner = Runner(models["linear"], device="cpu", threads=1, optimization=optimization)
    level = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC"}.get(optimization)
    if level is not None:
        assert runner.session.get_session_options().graph_optimization_level == getattr(
            ort.GraphOptimizationLevel, level
        )
    assert runner.session.get_session_options().intra_op_num_threads == 1
    x = RNG.standard_normal((4, 4)).astype(np.float32)
    np.testing.assert_allclose(runner(x), x @ W + B, rtol=1e-5, atol=1e-6)


# ----- clear errors --------------------------------------------------------------------------------------
def test_wrong_name_and_missing_input(models: dict[str, Path], linear: Runner) -> None:
    with pytest.raises(ValueError, match=r"unexpected input\(s\) 'z'.*'x'"):
        linear(z=np.ones((1, 4), np.float32))
    two = Runner(models["two"], device="cpu")
    with pytest.raises(ValueError, match=r"missing input\(s\) 'b'"):
        two(np.ones((1, 3), np.float32))
    with pytest.raises(TypeError, match="both by position and by name"):
        two(np.ones((1, 3), np.float32), a=np.ones((1, 3), np.float32))
    with pytest.raises(TypeError, match="takes 2 input"):
        two(*[np.ones((1, 3), np.float32)] * 3)


def test_wrong_dtype_says_how_to_cast(linear: Runner) -> None:
    with pytest.raises(TypeError, match=r"'x' expects dtype float32 but got float64.*astype\(np.float32\)"):
        linear(np.ones((2, 4)))
    with pytest.raises(TypeError, match=r"'x' expects dtype float32 but got int32"):
        linear(np.ones((2, 4), np.int32))


def test_wrong_rank_and_wrong_fixed_dim(models: dict[str, Path], linear: Runner) -> None:
    with pytest.raises(ValueError, match=r"'x' expects 2 dimension\(s\).*got 1"):
        linear(np.ones(4, np.float32))
    with pytest.raises(ValueError, match=r"'x' expects size 4 at dimension 1.*\(2, 5\)"):
        linear(np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"'x' expects size 2 at dimension 0"):
        Runner(models["fixed"], device="cpu")(np.ones((3, 3), np.float32))


def test_bad_files_name_the_path(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x01this is not a protobuf\xff\xff")
    with pytest.raises(ValueError, match="corrupt.onnx"):
        Runner(corrupt)
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        Runner(tmp_path / "missing.onnx")


def test_runtime_failures_warn_at_warm_up_and_raise_naming_the_model(tmp_path: Path) -> None:
    """Reshape of (batch, 4) to (3, 4) only runs for batch 3: warm-up (batch 1) warns, a bad call raises."""
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"])],
        "reshape",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])],
        [numpy_helper.from_array(np.array([3, 4], np.int64), "shape")],
    )
    path = _save(graph, tmp_path / "reshape.onnx")
    with pytest.warns(RuntimeWarning, match="warm-up"):
        runner = Runner(path, device="cpu")
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(runner(x), x)
    with pytest.raises(RuntimeError, match="reshape.onnx"):
        runner(np.ones((2, 4), np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Runner(path, device="cpu", warmup=False)


def test_bad_options(models: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        Runner(models["linear"], device="gpu")
    with pytest.raises(ValueError, match="unknown optimization 'max'.*disable, basic, extended, all"):
        Runner(models["linear"], optimization="max")
    with pytest.raises(ValueError, match="threads"):
        Runner(models["linear"], threads=0)


# ----- output kinds ----------------------------------------------------------------------------------------
def test_tensor_in_tensor_out(models: dict[str, Path], linear: Runner) -> None:
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    y = linear(pdl.tensor(x, requires_grad=True))
    assert isinstance(y, pdl.Tensor) and y.device.type == "cpu" and y.dtype == pdl.float32
    np.testing.assert_allclose(y.numpy(), x @ W + B, rtol=1e-5, atol=1e-6)
    a, b = pdl.tensor(x[:, :3].copy()), np.ones((3, 3), np.float32)
    out = Runner(models["two"], device="cpu")(a, b)  # one Tensor among the inputs: Tensors out
    assert all(isinstance(o, pdl.Tensor) for o in out)
    np.testing.assert_allclose(out[1].numpy(), x[:, :3], rtol=1e-6)
    with pytest.raises(TypeError, match=r"\.to\(portable_dl.float32\)"):
        linear(pdl.tensor(x, dtype=pdl.float64))


def test_importing_the_runner_does_not_load_onnxruntime() -> None:
    import subprocess
    import sys

    code = "import sys, portable_dl.export.runner as r; print('onnxruntime' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"  # onnxruntime waits for the first Runner


@pytest.mark.gpu
def test_cuda_iobinding_keeps_arrays_on_the_device(models: dict[str, Path]) -> None:
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        pytest.skip("onnxruntime has no CUDAExecutionProvider (install onnxruntime-gpu)")
    cupy = pytest.importorskip("cupy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback expected
        runner = Runner(models["two"], device="cuda:0")
    assert runner.providers[0] == "CUDAExecutionProvider" and runner.device == "cuda:0"
    a = RNG.standard_normal((4, 3)).astype(np.float32)
    b = RNG.standard_normal((4, 3)).astype(np.float32)
    total, product = runner(cupy.asarray(a), cupy.asarray(b))
    assert isinstance(total, cupy.ndarray) and isinstance(product, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(total), a + b, rtol=1e-6)
    np.testing.assert_allclose(cupy.asnumpy(product), a * b, rtol=1e-6)
    total, product = runner(pdl.tensor(a, device="cuda"), pdl.tensor(b, device="cuda"))
    assert isinstance(total, pdl.Tensor) and total.is_cuda
    np.testing.assert_allclose(total.cpu().numpy(), a + b, rtol=1e-6)
    total, _ = runner(a, b)  # NumPy in, NumPy out on a CUDA session
    assert isinstance(total, np.ndarray)
    np.testing.assert_allclose(total, a + b, rtol=1e-6)
