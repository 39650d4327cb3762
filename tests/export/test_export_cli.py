"""``portable-dl export`` through the real entry point in a subprocess: the exported file against the model run
in-process (with ONNX Runtime, at other batch sizes too), the printed summary against the file, the Triton
layout, and one-line errors with exit code 2."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

import portable_dl as pdl  # noqa: E402

from .fixtures import tiny_models  # noqa: E402
from .onnx_models import assert_clean_error, run_cli  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MODELS_FILE = FIXTURES / "tiny_models.py"


def cli(*args: object, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH", "")]))
    return run_cli("export", *args, env=env)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def run_ort(path: Path, *arrays: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: a for i, a in zip(session.get_inputs(), arrays)})


def eager(model: pdl.nn.Module, *arrays: np.ndarray) -> list[np.ndarray]:
    with pdl.no_grad():
        out = model.eval()(*[pdl.tensor(a) for a in arrays])
    return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]


def dims(value: onnx.ValueInfoProto) -> list:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def field(stdout: str, label: str) -> str:
    match = re.search(rf"^\s*{label}:\s+(.*)$", stdout, re.MULTILINE)
    assert match, f"no {label!r} line in:\n{stdout}"
    return match.group(1)


def test_file_target_class_factory_summary_matches_the_file(tmp_path: Path) -> None:
    out = tmp_path / "cnn.onnx"
    stdout = ok(cli(f"{MODELS_FILE}:SmallCNN", "-o", out, "--input", "x:2x1x8x8", "--dynamic-axis", "x:0"))
    proto = onnx.load(out)
    model = tiny_models.SmallCNN()
    assert field(stdout, "opset") == "17" and proto.opset_import[0].version == 17
    assert int(field(stdout, "nodes")) == len(proto.graph.node)
    assert int(field(stdout, "parameters").replace(",", "")) == sum(int(np.prod(p.shape)) for p in model.parameters())
    assert field(stdout, "file size").startswith(f"{out.stat().st_size:,} bytes")
    assert re.search(r"input\s+x \[batch, 1, 8, 8\] float32", stdout), stdout
    assert re.search(r"output\s+output \[batch, 5\] float32", stdout), stdout
    diffs = re.findall(r"([0-9.e+-]+) \(batch (\d+)\)", field(stdout, "check"))
    assert [b for _, b in diffs] == ["2", "5"] and all(float(d) < 1e-5 for d, _ in diffs), stdout
    x = np.random.default_rng(5).standard_normal((6, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(run_ort(out, x)[0], eager(model, x)[0], rtol=1e-5, atol=1e-6)


def test_module_target_function_factory_with_two_inputs(tmp_path: Path) -> None:
    out = tmp_path / "two.onnx"
    args = ["tiny_models:TwoInputs", "-o", out, "-i", "a:3,4", "-i", "b:3x3:float32"]
    stdout = ok(cli(*args, "--dynamic-axis", "a:0", "--dynamic-axis", "b:0", pythonpath=FIXTURES))
    proto = onnx.load(out)
    assert [i.name for i in proto.graph.input] == ["a", "b"]
    assert dims(proto.graph.input[1]) == ["batch", 3]
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((7, 4)).astype(np.float32), rng.standard_normal((7, 3)).astype(np.float32)
    for got, want in zip(run_ort(out, a, b), eager(tiny_models.TwoInputs(), a, b), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert "(batch 6)" in field(stdout, "check")

    out = tmp_path / "mlp.onnx"
    ok(cli("tiny_models:mlp", "-o", out, "-i", "x:2x4", pythonpath=FIXTURES))
    assert dims(onnx.load(out).graph.input[0]) == [2, 4]  # no --dynamic-axis: static shapes
    x = np.random.default_rng(7).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(run_ort(out, x)[0], eager(tiny_models.mlp(), x)[0], rtol=1e-5, atol=1e-6)


def test_weights_round_trip(tmp_path: Path) -> None:
    trained = tiny_models.fill(tiny_models.mlp(), seed=99)  # differs from what the factory builds
    weights = tmp_path / "mlp.safetensors"
    pdl.save(trained.state_dict(), weights)
    out = tmp_path / "mlp.onnx"
    ok(cli(f"{MODELS_FILE}:mlp", "-o", out, "-i", "x:2x4", "--weights", weights, "--dynamic-axis", "x:0"))
    loaded = tiny_models.mlp()
    loaded.load_state_dict(pdl.load(weights))
    x = np.random.default_rng(8).standard_normal((9, 4)).astype(np.float32)
    expected = eager(loaded, x)[0]
    assert not np.allclose(expected, eager(tiny_models.mlp(), x)[0])  # the weights matter
    np.testing.assert_allclose(run_ort(out, x)[0], expected, rtol=1e-5, atol=1e-6)


def test_dynamic_axis_labels_and_other_batch_sizes(tmp_path: Path) -> None:
    out = tmp_path / "mlp.onnx"
    ok(cli(f"{MODELS_FILE}:mlp", "-o", out, "-i", "x:1x4", "--dynamic-axis", "x:0:N", "--opset", "13"))
    proto = onnx.load(out)
    assert proto.opset_import[0].version == 13
    assert dims(proto.graph.input[0]) == ["N", 4] and dims(proto.graph.output[0]) == ["N", 3]
    model = tiny_models.mlp()
    for n in (1, 4, 16):
        x = np.random.default_rng(n).standard_normal((n, 4)).astype(np.float32)
        np.testing.assert_allclose(run_ort(out, x)[0], eager(model, x)[0], rtol=1e-5, atol=1e-6)


def test_integer_inputs(tmp_path: Path) -> None:
    out = tmp_path / "counts.onnx"
    stdout = ok(cli(f"{MODELS_FILE}:FromCounts", "-o", out, "-i", "ids:3x6:int64", "--dynamic-axis", "ids:0"))
    assert re.search(r"input\s+ids \[batch, 6\] int64", stdout), stdout
    assert onnx.load(out).graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    ids = np.random.default_rng(9).integers(0, 50, size=(4, 6), dtype=np.int64)
    np.testing.assert_allclose(run_ort(out, ids)[0], eager(tiny_models.FromCounts(), ids)[0], rtol=1e-5, atol=1e-5)


def test_triton_repository_layout(tmp_path: Path) -> None:
    out, repo = tmp_path / "classifier.onnx", tmp_path / "repo"
    common = [f"{MODELS_FILE}:SmallCNN", "-o", out, "-i", "x:1x1x8x8", "--dynamic-axis", "x:0", "--triton-repo", repo]
    stdout = ok(cli(*common))
    config = (repo / "classifier" / "config.pbtxt").read_text()
    assert (repo / "classifier" / "1" / "model.onnx").read_bytes() == out.read_bytes()
    assert re.search(r'^name: "classifier"$', config, re.MULTILINE) and "onnxruntime_onnx" in config
    assert re.search(r"^max_batch_size: 64$", config, re.MULTILINE), config
    assert re.search(r"dims: \[ 1, 8, 8 \]", config) and re.search(r"dims: \[ 5 \]", config), config
    assert str(repo / "classifier") in field(stdout, "triton")

    ok(cli(*common, "--triton-name", "cnn_small", "--max-batch-size", "8"))
    config = (repo / "cnn_small" / "config.pbtxt").read_text()
    assert re.search(r'^name: "cnn_small"$', config, re.MULTILINE) and "max_batch_size: 8\n" in config
    assert sorted(p.name for p in repo.iterdir()) == ["classifier", "cnn_small"]


def _assert_clean_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert_clean_error(result, *fragments, prefix="portable-dl export: error: ")


@pytest.mark.parametrize(
    ("target", "extra", "fragments"),
    [
        ("tiny_models", [], ["FILE.py:FACTORY or package.module:FACTORY"]),
        ("missing_file.py:mlp", [], ["model file not found", "missing_file.py"]),
        ("no_such_module_xyz:mlp", [], ["cannot import module 'no_such_module_xyz'"]),
        (f"{MODELS_FILE}:nope", [], ["cannot find 'nope'"]),
        (f"{MODELS_FILE}:not_a_model", [], ["returned a dict", "portable_dl.nn.Module"]),
        (f"{MODELS_FILE}:NOT_CALLABLE", [], ["not callable"]),
        (f"{MODELS_FILE}:mlp", ["-i", "x:2xfour"], ["shape '2xfour'", "1x3x32x32"]),
        (f"{MODELS_FILE}:mlp", ["-i", "x"], ["NAME:SHAPE[:DTYPE]"]),
        (f"{MODELS_FILE}:mlp", ["-i", "x:2x4:complex64"], ["unknown dtype 'complex64'", "float16", "int64"]),
        (f"{MODELS_FILE}:mlp", ["-i", "x:2x4", "--dynamic-axis", "x:5"], ["has only 2 dims"]),
        (f"{MODELS_FILE}:mlp", ["-i", "x:2x4", "--dynamic-axis", "x:first"], ["NAME:DIM[:LABEL]"]),
        (f"{MODELS_FILE}:mlp", ["-i", "x:2x4", "--weights", "nowhere.safetensors"], ["weights file not found"]),
        (f"{MODELS_FILE}:mlp", ["-i", "x:2x4", "--opset", "7"], ["opset_version 7"]),
        (f"{MODELS_FILE}:mlp", ["-i", "x:2x4", "--int-high", "0"], ["--int-high must be >= 1"]),
        (f"{MODELS_FILE}:mlp", ["-i", "x:2x4", "--max-batch-size", "4"], ["need --triton-repo"]),
        (f"{MODELS_FILE}:Unexportable", ["-i", "x:2x4"], ["no ONNX converter", "_NoConverterOp"]),
    ],
)
def test_errors_are_one_line_with_exit_code_2(
    tmp_path: Path, target: str, extra: list[str], fragments: list[str]
) -> None:
    out = tmp_path / "model.onnx"
    _assert_clean_error(cli(target, "-o", out, *(extra or ["-i", "x:2x4"]), pythonpath=FIXTURES), *fragments)
    assert not out.exists()


def test_weights_with_wrong_keys_are_refused(tmp_path: Path) -> None:
    weights = tmp_path / "other.safetensors"
    state = tiny_models.mlp().state_dict()
    state["2.extra"] = state.pop("2.bias")
    pdl.save(state, weights)
    result = cli(f"{MODELS_FILE}:mlp", "-o", tmp_path / "m.onnx", "-i", "x:2x4", "--weights", weights)
    _assert_clean_error(result, "Missing key(s)", '"2.bias"', "Unexpected key(s)", '"2.extra"')
