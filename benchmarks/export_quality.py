"""ONNX export quality, portable_dl vs PyTorch, on eight twin architectures run through ONNX Runtime.

For each model (mlp, cnn, cnn_bn_dropout, resnet_small, lstm, gru, transformer, dcgan_generator; see
``_twin_models.py``) a seeded torch model is built, its portable_dl twin is built from the same code and given the
same weights through state_dict, both go to eval mode and are exported at opset 17 with a dynamic batch axis (and
sequence axis for the text models): torch with the TorchScript exporter (``dynamo=False``; the default exporter
only if that fails, and the report says which), portable_dl with its own ``export``. Reported per model:

- graph: node count, op-type histogram and where the two differ, initializer count/bytes, file size, onnx checker;
- accuracy: max |torch graph - our graph| in ONNX Runtime at batch 1 and 32 (exported at batch 2), and each graph
  against eager torch; text models also at a sequence length other than the exported one, to exercise that axis
  (torch 2.13's TorchScript exporter bakes the sequence length into MultiheadAttention's reshapes, so its
  transformer graph fails there: recorded as ``torch_error``);
- latency: ONNX Runtime CPU p50 at batch 1 and 32 (text: exported sequence length), intra_op_num_threads =
  BENCH_THREADS (2), thread spinning off, the two sessions called alternately (order swapped every run) so
  machine noise hits both alike. Timing a graph against itself this way gives ratios within about 2%.

A failure on one side is recorded as ``"error"`` for that model; the other side's figures are still printed.
Run: python benchmarks/export_quality.py [model ...] [--runs 200] [--seconds 4]  (prints JSON, < 3 minutes)
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import THREADS, emit, pin_threads

pin_threads()

import numpy as np  # noqa: E402
from _twin_models import MODELS, Spec, build  # noqa: E402

OPSET = 17
EXPORT_BATCH, EXPORT_SEQ, EVAL_SEQ = 2, 16, 24
BATCHES = (1, 32)


def _error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= 400 else text[:400] + "..."


def our_exporter() -> tuple[Callable[..., Any], str]:
    """portable_dl's exporter: ``portable_dl.onnx.export`` (torch's spelling), else ``portable_dl.export.export``."""
    problems = []
    for module in ("portable_dl.onnx", "portable_dl.export"):
        try:
            return importlib.import_module(module).export, f"{module}.export"
        except (ImportError, AttributeError) as exc:
            problems.append(f"{module}.export: {_error(exc)}")
    raise ImportError("portable_dl has no usable ONNX exporter (" + "; ".join(problems) + ")")


def make_reference(name: str) -> tuple[Any, Spec]:
    """The seeded torch model in eval mode, its BatchNorm statistics and affine made non-trivial."""
    import torch

    torch.manual_seed(0)
    reference, spec = build(torch, name)
    rng = np.random.default_rng(1)
    with torch.no_grad():
        for module in reference.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                n = module.num_features
                module.running_mean.copy_(torch.from_numpy(rng.normal(0, 0.3, n).astype(np.float32)))
                module.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, n).astype(np.float32)))
                module.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, n).astype(np.float32)))
                module.bias.copy_(torch.from_numpy(rng.normal(0, 0.1, n).astype(np.float32)))
    return reference.eval(), spec


def make_twin(reference: Any, name: str) -> Any:
    """The portable_dl model built from the same code, given the torch model's weights and buffers, in eval mode."""
    import portable_dl

    twin, _ = build(portable_dl, name)
    twin.load_state_dict({k: portable_dl.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    return twin.eval()


def export_torch(model: Any, spec: Spec, path: str) -> str:
    """Export with the TorchScript exporter; fall back to the default one. Returns which exporter wrote ``path``."""
    import torch

    args = tuple(torch.from_numpy(a) for a in spec.arrays(EXPORT_BATCH, EXPORT_SEQ, seed=0).values())
    common = {
        "input_names": [n for n, _, _ in spec.inputs],
        "output_names": [spec.output],
        "dynamic_axes": spec.dynamic_axes(),
        "opset_version": OPSET,
        "do_constant_folding": True,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(model, args, path, dynamo=False, **common)
            return "torchscript (dynamo=False)"
        except Exception as exc:  # any failure means: try the other exporter
            first = _error(exc)
        torch.onnx.export(model, args, path, dynamo=True, external_data=False, **common)
        return f"dynamo (default; dynamo=False failed: {first})"


def export_ours(model: Any, spec: Spec, path: str) -> str:
    import portable_dl

    export, where = our_exporter()
    args = tuple(portable_dl.tensor(a) for a in spec.arrays(EXPORT_BATCH, EXPORT_SEQ, seed=0).values())
    export(
        model, args, path, input_names=[n for n, _, _ in spec.inputs], output_names=[spec.output],
        dynamic_axes=spec.dynamic_axes(), opset_version=OPSET, do_constant_folding=True,
    )  # fmt: skip
    return where


def graph_stats(path: str) -> dict:
    """Node count, op histogram, initializers and file size of an ONNX file, plus the onnx checker's verdict."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    try:
        onnx.checker.check_model(model, full_check=True)
        checker = "ok"
    except Exception as exc:  # reported, not fatal
        checker = _error(exc)
    inits = model.graph.initializer
    return {
        "nodes": len(model.graph.node),
        "ops": dict(sorted(Counter(n.op_type for n in model.graph.node).items())),
        "initializers": len(inits),
        "initializer_bytes": int(sum(numpy_helper.to_array(t).nbytes for t in inits)),
        "file_bytes": os.path.getsize(path),
        "opset": next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None),
        "checker": checker,
    }


def session(path: str) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    # Idle pool threads spin after a run; with two sessions alternating on a small machine, one session's spinning
    # would steal cores from the other, so spinning is off for both.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 4  # failures are reported in the JSON instead
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def feed(sess: Any, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Inputs by name when the graph kept our names, else by position (exporters may drop or rename inputs)."""
    names = [i.name for i in sess.get_inputs()]
    if set(names) <= set(arrays):
        return {n: arrays[n] for n in names}
    return dict(zip(names, arrays.values()))


def run_once(sess: Any, arrays: dict[str, np.ndarray]) -> np.ndarray:
    return sess.run(None, feed(sess, arrays))[0]


def compare_outputs(reference: Any, twin: Any, sessions: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict:
    """Max |difference| of each graph (and of eager portable_dl) against eager torch, and between the two graphs."""
    expected = eager_torch(reference, arrays)
    row: dict[str, Any] = {}
    if twin is not None:  # separates a twin that computes differently from an exporter that does
        try:
            row["portable_dl_eager_vs_eager"] = max_abs(eager_ours(twin, arrays), expected)
        except Exception as exc:
            row["portable_dl_eager_error"] = _error(exc)
    outputs = {}
    for side, sess in sessions.items():
        try:
            outputs[side] = run_once(sess, arrays)
            row[f"{side}_onnx_vs_eager"] = max_abs(outputs[side], expected)
        except Exception as exc:  # a graph that will not run at these shapes is a result, not a crash
            row[f"{side}_error"] = _error(exc)
    if len(outputs) == 2:
        row["torch_onnx_vs_ours_onnx"] = max_abs(outputs["torch"], outputs["portable_dl"])
    return row


def max_abs(a: np.ndarray, b: np.ndarray) -> float | str:
    if a.shape != b.shape:
        return f"shape mismatch {a.shape} vs {b.shape}"
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def eager_ours(model: Any, arrays: dict[str, np.ndarray]) -> np.ndarray:
    import portable_dl

    with portable_dl.no_grad():
        return model(*(portable_dl.tensor(a) for a in arrays.values())).numpy()


def eager_torch(model: Any, arrays: dict[str, np.ndarray]) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model(*(torch.from_numpy(a) for a in arrays.values())).numpy()


def alternating_p50(sessions: dict[str, Any], arrays: dict[str, np.ndarray], runs: int, seconds: float) -> dict:
    """p50 latency (ms) of each session, run alternately with the order swapped each round, within ``seconds``."""
    feeds = {k: feed(s, arrays) for k, s in sessions.items()}
    start, rounds = time.perf_counter(), 0
    while rounds < 20 or time.perf_counter() - start < 0.25:  # warm-up: allocator arenas, caches, CPU clocks
        for k, s in sessions.items():
            s.run(None, feeds[k])
        rounds += 1
    per_round = (time.perf_counter() - start) / rounds
    runs = min(runs, max(20, int(seconds / max(per_round, 1e-9))))  # at least 20 runs, even past the time cap
    samples: dict[str, list[float]] = {k: [] for k in sessions}
    order = list(sessions)
    for i in range(runs):
        for k in order if i % 2 == 0 else order[::-1]:
            t0 = time.perf_counter()
            sessions[k].run(None, feeds[k])
            samples[k].append(time.perf_counter() - t0)
    result = {f"{k}_ms": round(statistics.median(v) * 1e3, 4) for k, v in samples.items()}
    result["runs"] = runs
    if len(sessions) == 2:
        torch_ms, ours_ms = (statistics.median(samples[k]) for k in ("torch", "portable_dl"))
        result["ratio_ours_vs_torch"] = round(ours_ms / torch_ms, 3)
    return result


def op_diff(torch_ops: dict[str, int], our_ops: dict[str, int]) -> dict[str, list[int]]:
    """Op types whose counts differ: ``{op: [torch count, our count]}``."""
    return {op: [torch_ops.get(op, 0), our_ops.get(op, 0)] for op in sorted(set(torch_ops) | set(our_ops))
            if torch_ops.get(op, 0) != our_ops.get(op, 0)}  # fmt: skip


def evaluate(name: str, tmp: str, runs: int, seconds: float) -> dict:
    """Export one model both ways and compare the graphs, their outputs and their ONNX Runtime latency."""
    report: dict[str, Any] = {"benchmark": "export_quality", "model": name, "opset": OPSET, "threads": THREADS}
    reference, spec = make_reference(name)
    paths = {"torch": os.path.join(tmp, f"{name}_torch.onnx"), "portable_dl": os.path.join(tmp, f"{name}_ours.onnx")}
    exporters = {"torch": export_torch, "portable_dl": export_ours}
    sessions: dict[str, Any] = {}
    models: dict[str, Any] = {"torch": reference}
    twin = None
    try:
        twin = models["portable_dl"] = make_twin(reference, name)
    except Exception as exc:  # a missing layer or a state_dict mismatch in portable_dl
        report["portable_dl"] = {"error": f"building the portable_dl twin failed: {_error(exc)}"}
    for side, model in models.items():
        exporter, entry = exporters[side], {}
        try:
            t0 = time.perf_counter()
            entry["exporter"] = exporter(model, spec, paths[side])
            entry["export_s"] = round(time.perf_counter() - t0, 3)
            entry.update(graph_stats(paths[side]))
            sessions[side] = session(paths[side])
        except Exception as exc:  # one side failing must not hide the other's figures
            entry["error"] = _error(exc)
        report[side] = entry
    if len(sessions) == 2:
        report["op_diff"] = op_diff(report["torch"]["ops"], report["portable_dl"]["ops"])
    report["max_abs_diff"] = {}
    for batch in BATCHES:
        for seq in (EXPORT_SEQ, EVAL_SEQ) if spec.text else (EXPORT_SEQ,):
            key = f"batch_{batch}_seq_{seq}" if spec.text else f"batch_{batch}"
            report["max_abs_diff"][key] = compare_outputs(
                reference, twin, sessions, spec.arrays(batch, seq, seed=batch)
            )
    report["latency_p50"] = {}
    for batch in BATCHES:  # at the exported sequence length, which both graphs must handle
        arrays = spec.arrays(batch, EXPORT_SEQ, seed=batch)
        try:
            report["latency_p50"][f"batch_{batch}"] = alternating_p50(sessions, arrays, runs, seconds)
        except Exception as exc:  # e.g. a graph that only fails at this batch size
            report["latency_p50"][f"batch_{batch}"] = {"error": _error(exc)}
    return report


def summarize(reports: list[dict], elapsed: float) -> dict:
    """Which models export and run with portable_dl, worst output differences, geometric-mean ratios vs torch."""

    def gmean(values: list[float]) -> float | None:
        return round(math.exp(sum(math.log(v) for v in values) / len(values)), 3) if values else None

    def worst(key: str) -> float | None:
        values = [v for r in reports for row in r["max_abs_diff"].values() if isinstance(v := row.get(key), float)]
        return max(values, default=None)

    def ran(r: dict, side: str) -> bool:
        return "error" not in r[side] and not any(f"{side}_error" in row for row in r["max_abs_diff"].values())

    both = [r for r in reports if "error" not in r["torch"] and "error" not in r["portable_dl"]]
    return {
        "benchmark": "export_quality_summary",
        "models": [r["model"] for r in reports],
        "torch_exported_and_ran_all_shapes": [r["model"] for r in reports if ran(r, "torch")],
        "portable_dl_exported_and_ran_all_shapes": [r["model"] for r in reports if ran(r, "portable_dl")],
        "export_errors": {
            side: {r["model"]: r[side]["error"] for r in reports if "error" in r[side]} for side in ("torch", "portable_dl")
        },
        "run_errors": {
            f"{r['model']}/{case}/{side}": row[f"{side}_error"]
            for r in reports for case, row in r["max_abs_diff"].items() for side in ("torch", "portable_dl")
            if f"{side}_error" in row
        },
        "worst_max_abs_diff": {
            "torch_onnx_vs_ours_onnx": worst("torch_onnx_vs_ours_onnx"),
            "torch_onnx_vs_eager": worst("torch_onnx_vs_eager"),
            "portable_dl_onnx_vs_eager": worst("portable_dl_onnx_vs_eager"),
        },
        "latency_ratio_ours_vs_torch_gmean": {
            f"batch_{b}": gmean([ratio for r in reports if (ratio := r["latency_p50"].get(f"batch_{b}", {})
                                 .get("ratio_ours_vs_torch"))]) for b in BATCHES
        },
        "nodes_ratio_ours_vs_torch_gmean": gmean([r["portable_dl"]["nodes"] / r["torch"]["nodes"] for r in both]),
        "file_bytes_ratio_ours_vs_torch_gmean": gmean(
            [r["portable_dl"]["file_bytes"] / r["torch"]["file_bytes"] for r in both]
        ),
        "elapsed_s": round(elapsed, 1),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=list(MODELS), help=f"subset of: {', '.join(MODELS)}")
    parser.add_argument("--runs", type=int, default=200, help="timed runs per session and batch size (default 200)")
    parser.add_argument("--seconds", type=float, default=4.0, help="time cap per batch size for both sessions")
    args = parser.parse_args(argv)
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; valid: {', '.join(MODELS)}")
    if args.runs < 1 or args.seconds <= 0:
        parser.error("--runs must be >= 1 and --seconds > 0")
    import torch

    torch.set_num_threads(THREADS)
    start = time.perf_counter()
    reports = []
    with tempfile.TemporaryDirectory(prefix="export_quality_") as tmp:
        for name in args.models:
            report = evaluate(name, tmp, args.runs, args.seconds)
            emit(report)
            reports.append(report)
    emit(summarize(reports, time.perf_counter() - start))


if __name__ == "__main__":
    main()
