"""Dynamic batching: requests for one model version queue up and a worker thread runs them, merging compatible ones.

One worker thread per model version owns the model's executions, so ONNX Runtime sees one run at a time (as Triton
does with one instance) and the event loop never blocks on compute. With merging on, the worker takes the oldest
request, then gathers more until the batch holds ``max_batch_size`` items or ``max_queue_delay_s`` has passed since
the oldest arrived; requests whose non-batch dims or dtypes differ wait for a later batch. The merged inputs are
concatenated along the batch axis, run once and split back. If the merged run fails, or an output does not keep the
batch axis, each request is run on its own, so one bad request only ever fails itself.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from portable_dl.export.server.metrics import ModelStats

__all__ = ["Batcher", "BatcherClosedError"]

Execute = Callable[[Mapping[str, np.ndarray]], list[np.ndarray]]


class BatcherClosedError(RuntimeError):
    """The batcher was shut down; no more requests are taken."""


@dataclass
class _Job:
    feeds: Mapping[str, np.ndarray]
    batch: int
    key: tuple
    enqueued: float = field(default_factory=time.perf_counter)
    future: Future = field(default_factory=Future)


def _micros(seconds: float) -> int:
    return int(seconds * 1e6)


class Batcher:
    """Run ``execute(feeds) -> outputs`` on a worker thread; ``submit`` returns a ``concurrent.futures.Future``.

    ``max_batch_size > 1`` turns merging on (every input and output must carry the batch on axis 0);
    ``max_queue_delay_s`` is how long the oldest request may wait for company.
    """

    def __init__(
        self,
        execute: Execute,
        stats: ModelStats,
        *,
        max_batch_size: int = 0,
        max_queue_delay_s: float = 0.0,
        name: str = "model",
    ) -> None:
        self.execute = execute
        self.stats = stats
        self.max_batch_size = max_batch_size
        self.max_queue_delay_s = max(0.0, float(max_queue_delay_s))
        self.merge = max_batch_size > 1
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._pending: deque[_Job] = deque()
        self._closed = False
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=f"portable-dl-batcher-{name}", daemon=True)
        self._thread.start()

    def submit(self, feeds: Mapping[str, np.ndarray], batch: int = 1) -> Future:
        """Queue one request of ``batch`` items; its future gives the list of output arrays, or raises."""
        if self._closed:
            raise BatcherClosedError("the server is shutting down")
        key = tuple((name, array.dtype.str, array.shape[1:]) for name, array in feeds.items())
        job = _Job(feeds, batch, key)
        self.stats.add(pending=1)
        self._queue.put(job)
        return job.future

    def close(self, timeout: float = 5.0) -> None:
        """Stop taking requests, finish the queued ones, stop the worker."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        self._thread.join(timeout)

    # ----- worker ---------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            if self._pending:
                first = self._pending.popleft()
            elif self._stopping:
                return
            else:
                first = self._queue.get()
                if first is None:
                    return
            jobs = [first]
            try:
                if self.merge:
                    self._collect(jobs)
                self._run(jobs)
            except BaseException as err:  # the worker must outlive anything a request brings
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(RuntimeError(f"batcher failed: {err}"))

    def _collect(self, jobs: list[_Job]) -> None:
        """Add compatible jobs to ``jobs`` (set-aside ones first, then new arrivals) until full or out of time."""
        first = jobs[0]
        size = first.batch
        kept: deque[_Job] = deque()
        while self._pending:
            job = self._pending.popleft()
            if job.key == first.key and size + job.batch <= self.max_batch_size:
                jobs.append(job)
                size += job.batch
            else:
                kept.append(job)
        self._pending = kept
        deadline = first.enqueued + self.max_queue_delay_s
        while size < self.max_batch_size and not self._stopping:
            remaining = deadline - time.perf_counter()
            try:
                job = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                return
            if job is None:
                self._stopping = True
                return
            if job.key != first.key:
                self._pending.append(job)
            elif size + job.batch > self.max_batch_size:
                self._pending.append(job)
                return
            else:
                jobs.append(job)
                size += job.batch

    def _run(self, jobs: list[_Job]) -> None:
        start = time.perf_counter()
        self.stats.add(pending=-len(jobs), queue_us=sum(_micros(start - job.enqueued) for job in jobs))
        jobs = [job for job in jobs if job.future.set_running_or_notify_cancel()]  # drop cancelled ones
        if len(jobs) == 1:
            self._run_one(jobs[0])
        elif jobs:
            self._run_merged(jobs)

    def _run_one(self, job: _Job) -> None:
        start = time.perf_counter()
        try:
            outputs = self.execute(job.feeds)
        except Exception as err:
            job.future.set_exception(err)
            return
        self.stats.add(exec_count=1, inference_count=job.batch, compute_us=_micros(time.perf_counter() - start))
        job.future.set_result(outputs)

    def _run_merged(self, jobs: list[_Job]) -> None:
        sizes = [job.batch for job in jobs]
        total = sum(sizes)
        start = time.perf_counter()
        try:
            merged = {name: np.concatenate([job.feeds[name] for job in jobs]) for name in jobs[0].feeds}
            outputs = self.execute(merged)
            splittable = all(np.ndim(out) > 0 and np.shape(out)[0] == total for out in outputs)
        except Exception:
            splittable = False
        if not splittable:
            for job in jobs:
                self._run_one(job)
            return
        self.stats.add(exec_count=1, inference_count=total, compute_us=_micros(time.perf_counter() - start))
        offsets = np.cumsum(sizes)[:-1]
        parts = [np.split(out, offsets) for out in outputs]
        for index, job in enumerate(jobs):
            job.future.set_result([part[index] for part in parts])
