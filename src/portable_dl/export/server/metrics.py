"""Per-model counters and their Prometheus text exposition, named like Triton's (``nv_inference_*``), so existing
dashboards and alerts read them unchanged.

``inference_count`` counts batch items (a request of batch 8 counts 8), ``exec_count`` counts model executions:
with dynamic batching the second grows slower than the first. Durations are cumulative microseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["ModelStats", "render_metrics"]

# (attribute, metric name, type, help)
_METRICS = (
    ("success", "nv_inference_request_success", "counter", "Number of successful inference requests"),
    ("failure", "nv_inference_request_failure", "counter", "Number of failed inference requests"),
    ("inference_count", "nv_inference_count", "counter", "Number of inferences performed (batch items)"),
    ("exec_count", "nv_inference_exec_count", "counter", "Number of model executions performed"),
    ("request_us", "nv_inference_request_duration_us", "counter", "Cumulative inference request duration in us"),
    ("queue_us", "nv_inference_queue_duration_us", "counter", "Cumulative inference queuing duration in us"),
    ("compute_us", "nv_inference_compute_infer_duration_us", "counter", "Cumulative compute inference duration in us"),
    ("pending", "nv_inference_pending_request_count", "gauge", "Instantaneous number of requests waiting to run"),
)


@dataclass
class ModelStats:
    """Counters of one model version; updated from the event loop and the batcher's thread, hence the lock."""

    success: int = 0
    failure: int = 0
    inference_count: int = 0
    exec_count: int = 0
    request_us: int = 0
    queue_us: int = 0
    compute_us: int = 0
    pending: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **amounts: int) -> None:
        with self.lock:
            for key, amount in amounts.items():
                setattr(self, key, getattr(self, key) + int(amount))

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return {key: getattr(self, key) for key, *_ in _METRICS}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_metrics(models: Iterable[tuple[str, str, ModelStats]]) -> str:
    """Prometheus text format (version 0.0.4) for ``(model name, version, stats)`` triples."""
    rows = [(name, version, stats.snapshot()) for name, version, stats in models]
    lines = []
    for key, metric, kind, text in _METRICS:
        lines.append(f"# HELP {metric} {text}")
        lines.append(f"# TYPE {metric} {kind}")
        for name, version, values in rows:
            lines.append(f'{metric}{{model="{_label(name)}",version="{_label(version)}"}} {values[key]}')
    return "\n".join(lines) + "\n"
