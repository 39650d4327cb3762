"""The models a server holds: one ONNX file, or a Triton-style repository of models with numbered versions.

Each model version owns a :class:`~portable_dl.export.runner.Runner`, a :class:`Batcher` and its counters, and
checks a request's tensors against the model's inputs before they are queued, so a bad request is refused alone
instead of failing a whole batch. A version that fails to load stays listed as not ready, with the reason, so the
server reports it (503) instead of dying; the other models keep serving.

In a repository, ``config.pbtxt`` gives ``max_batch_size`` (requests may not exceed it; > 0 needs a symbolic first
dim on every input and output) and ``dynamic_batching`` with ``max_queue_delay_microseconds`` (merge concurrent
requests). Every version folder holding a ``model.onnx`` is served; a request without a version gets the highest.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from portable_dl.export.server.batching import Batcher
from portable_dl.export.server.metrics import ModelStats
from portable_dl.export.server.protocol import InferRequest, ProtocolError, datatype_of

__all__ = ["ModelVersion", "Repository"]

PLATFORM = "onnxruntime_onnx"
_PLATFORMS = ("", PLATFORM)
_BACKENDS = ("", "onnxruntime")


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _dims(shape: tuple | None) -> list[int]:
    """Protocol shape: fixed dims as they are, symbolic (named or unknown) ones as -1."""
    if shape is None:
        return [-1]
    return [d if isinstance(d, int) and d >= 0 else -1 for d in shape]


class ModelVersion:
    """One servable version of a model: where it comes from, how it batches, and (once loaded) its runner."""

    def __init__(
        self,
        name: str,
        version: int,
        path: Path,
        *,
        max_batch_size: int = 0,
        dynamic_batching: bool = False,
        max_queue_delay_s: float = 0.0,
        declared: tuple[list, list] = ([], []),
    ) -> None:
        self.name = name
        self.version = version
        self.path = Path(path)
        self.max_batch_size = max_batch_size
        self.dynamic_batching = dynamic_batching
        self.max_queue_delay_s = max_queue_delay_s
        self.declared = declared  # config.pbtxt's input and output entries (TensorSpec), checked against the model
        self.runner: Any = None
        self.batcher: Batcher | None = None
        self.stats = ModelStats()
        self.error: str | None = "not loaded yet"

    @property
    def ready(self) -> bool:
        return self.error is None

    def load(self, device: str = "auto", threads: int | None = None, optimization: str = "all") -> None:
        """Build the runner and batcher; on failure keep the reason in ``error`` (and raise it)."""
        from portable_dl.export.runner import Runner

        try:
            runner = Runner(self.path, device=device, threads=threads, optimization=optimization)
            self._check_batching(runner)
            self._check_declared(runner)
        except Exception as err:
            self.error = _one_line(err)
            raise
        self.runner = runner
        merge_size = self.max_batch_size if self.dynamic_batching else 0
        self.batcher = Batcher(
            self._execute,
            self.stats,
            max_batch_size=merge_size,
            max_queue_delay_s=self.max_queue_delay_s,
            name=f"{self.name}-{self.version}",
        )
        self.error = None

    def _check_batching(self, runner: Any) -> None:
        if self.max_batch_size <= 0:
            return
        fixed = [
            info.describe()
            for info in [*runner.inputs, *runner.outputs]
            if not info.shape or (isinstance(info.shape[0], int) and info.shape[0] >= 0)
        ]
        if fixed:
            raise ValueError(
                f"model {self.name!r}: max_batch_size {self.max_batch_size} needs a symbolic first (batch) dim on "
                f"every input and output, but these have none: {'; '.join(fixed)}. Use max_batch_size 0 "
                "(no batching) or export with a dynamic batch axis"
            )

    def _check_declared(self, runner: Any) -> None:
        """Each tensor config.pbtxt lists must be in the model with the same data type and compatible dims."""
        for kind, specs, infos in (
            ("input", self.declared[0], runner.inputs),
            ("output", self.declared[1], runner.outputs),
        ):
            by_name = {info.name: info for info in infos}
            for spec in specs:
                where = f"model {self.name!r}: config.pbtxt {kind} {spec.name!r}"
                if spec.name not in by_name:
                    valid = ", ".join(map(repr, by_name))
                    raise ValueError(f"{where} is not in the ONNX model; its {kind}s: {valid}")
                info = by_name[spec.name]
                actual = "TYPE_" + datatype_of(info.dtype, info.type).replace("BYTES", "STRING")
                if spec.data_type != actual:
                    raise ValueError(f"{where} says {spec.data_type} but the ONNX model has {actual}")
                dims = ([-1] if self.max_batch_size > 0 else []) + list(spec.dims)
                model_dims = _dims(info.shape)
                if info.shape is not None and (
                    len(dims) != len(model_dims) or any(a >= 0 and b >= 0 and a != b for a, b in zip(dims, model_dims))
                ):
                    shown = list(spec.dims)
                    batch = " after the batch dim" if self.max_batch_size > 0 else ""
                    raise ValueError(f"{where} has dims {shown}{batch} but the ONNX model's shape is {model_dims}")

    def _execute(self, feeds: Any) -> list[np.ndarray]:
        outputs = self.runner.run(feeds)
        return list(outputs) if isinstance(outputs, list) else [outputs]

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()

    def require_ready(self) -> None:
        if not self.ready:
            raise ProtocolError(f"model {self.name!r} version {self.version} is not ready: {self.error}", 503)

    # ----- metadata -------------------------------------------------------------------------------------------
    def tensor_metadata(self, kind: str) -> list[dict[str, Any]]:
        infos = self.runner.inputs if kind == "inputs" else self.runner.outputs
        return [{"name": i.name, "datatype": datatype_of(i.dtype, i.type), "shape": _dims(i.shape)} for i in infos]

    def config(self) -> dict[str, Any]:
        """A Triton-style model configuration (JSON form of ``config.pbtxt``), dims without the batch dim when the
        model batches, as Triton writes them."""
        skip = 1 if self.max_batch_size > 0 else 0

        def entries(kind: str) -> list[dict[str, Any]]:
            return [
                {
                    "name": t["name"],
                    "data_type": f"TYPE_{t['datatype'].replace('BYTES', 'STRING')}",
                    "dims": t["shape"][skip:],
                }
                for t in self.tensor_metadata(kind)
            ]

        config: dict[str, Any] = {
            "name": self.name,
            "platform": PLATFORM,
            "backend": "onnxruntime",
            "max_batch_size": self.max_batch_size,
            "input": entries("inputs"),
            "output": entries("outputs"),
        }
        if self.dynamic_batching:
            config["dynamic_batching"] = {"max_queue_delay_microseconds": int(round(self.max_queue_delay_s * 1e6))}
        return config

    # ----- requests -------------------------------------------------------------------------------------------
    def prepare(self, request: InferRequest) -> tuple[dict[str, np.ndarray], int, list[tuple[str, bool]]]:
        """Check a request against the model: feeds in model order, batch size, and ``(output, binary)`` pairs to
        send back. Raises :class:`ProtocolError` (400) naming what is wrong and what is valid."""
        runner = self.runner
        valid = ", ".join(repr(i.name) for i in runner.inputs)
        unknown = [name for name in request.inputs if name not in {i.name for i in runner.inputs}]
        if unknown:
            raise ProtocolError(f"model {self.name!r} has no input(s) {', '.join(map(repr, unknown))}; inputs: {valid}")
        missing = [i.name for i in runner.inputs if i.name not in request.inputs]
        if missing:
            raise ProtocolError(f"model {self.name!r} needs input(s) {', '.join(map(repr, missing))}; inputs: {valid}")
        feeds = {}
        for info in runner.inputs:
            array = request.inputs[info.name]
            self._check_input(info, array)
            feeds[info.name] = array
        batch = self._batch_size(feeds)
        return feeds, batch, self._outputs(request)

    def _check_input(self, info: Any, array: np.ndarray) -> None:
        where = f"model {self.name!r} input {info.name!r}"
        want = datatype_of(info.dtype, info.type)
        if info.dtype is None or not info.is_tensor:
            raise ProtocolError(f"{where} takes {want}, which this server cannot feed")
        got = datatype_of(array.dtype)
        if got != want:
            raise ProtocolError(f"{where} expects datatype {want}, got {got}")
        if info.shape is None:
            return
        expected = _dims(info.shape)
        if array.ndim != len(expected) or any(w >= 0 and w != g for w, g in zip(expected, array.shape)):
            raise ProtocolError(f"{where} expects shape {expected} (-1: any size), got {list(array.shape)}")

    def _batch_size(self, feeds: dict[str, np.ndarray]) -> int:
        if self.max_batch_size <= 0:
            return 1
        sizes = {name: array.shape[0] for name, array in feeds.items()}
        batch = next(iter(sizes.values()))
        if any(size != batch for size in sizes.values()):
            raise ProtocolError(f"model {self.name!r}: every input must have the same batch size (dim 0), got {sizes}")
        if not 1 <= batch <= self.max_batch_size:
            raise ProtocolError(
                f"model {self.name!r}: batch size (dim 0) must be between 1 and max_batch_size "
                f"{self.max_batch_size}, got {batch}"
            )
        return batch

    def _outputs(self, request: InferRequest) -> list[tuple[str, bool]]:
        names = [o.name for o in self.runner.outputs]
        if request.outputs is None:
            return [(name, request.binary_default) for name in names]
        wanted = []
        for output in request.outputs:
            if output.name not in names:
                valid = ", ".join(map(repr, names))
                raise ProtocolError(f"model {self.name!r} has no output {output.name!r}; outputs: {valid}")
            wanted.append((output.name, request.binary_default if output.binary is None else output.binary))
        return wanted


class Repository:
    """Model versions by name and number; models that could not be listed at all are kept in ``unavailable``."""

    def __init__(self, versions: list[ModelVersion], unavailable: dict[str, str] | None = None) -> None:
        self.models: dict[str, dict[int, ModelVersion]] = {}
        for model in versions:
            self.models.setdefault(model.name, {})[model.version] = model
        self.unavailable = dict(unavailable or {})

    @classmethod
    def single(
        cls,
        path: str | os.PathLike,
        name: str | None = None,
        *,
        max_batch_size: int = 0,
        max_queue_delay_ms: float = 0.0,
    ) -> Repository:
        """One ONNX file served as version 1; ``max_batch_size > 0`` turns dynamic batching on."""
        path = Path(path)
        if max_batch_size < 0 or max_queue_delay_ms < 0:
            raise ValueError(
                f"max_batch_size and max_queue_delay_ms must be >= 0, got {max_batch_size} and {max_queue_delay_ms}"
            )
        model = ModelVersion(
            name or path.stem,
            1,
            path,
            max_batch_size=max_batch_size,
            dynamic_batching=max_batch_size > 1,
            max_queue_delay_s=max_queue_delay_ms / 1e3,
        )
        return cls([model])

    @classmethod
    def from_directory(cls, root: str | os.PathLike) -> Repository:
        """A Triton model repository: ``<root>/<name>/config.pbtxt`` and ``<root>/<name>/<version>/model.onnx``."""
        from portable_dl.export.triton import CONFIG_FILE, MODEL_FILE, read_triton_config, scan_model_repository

        root = Path(root)
        listing = scan_model_repository(root)
        if not listing:
            raise ValueError(
                f"model repository {str(root)!r} holds no models: expected <name>/<version>/{MODEL_FILE} folders"
            )
        versions, unavailable = [], {}
        for name, numbers in listing.items():
            try:
                settings = cls._settings(root / name, name, CONFIG_FILE, read_triton_config)
            except (OSError, ValueError) as err:
                unavailable[name] = _one_line(err)
                continue
            if not numbers:
                unavailable[name] = f"no version folder <number>/{MODEL_FILE} under {str(root / name)!r}"
            for number in numbers:
                versions.append(ModelVersion(name, number, root / name / str(number) / MODEL_FILE, **settings))
        return cls(versions, unavailable)

    @staticmethod
    def _settings(folder: Path, name: str, config_file: str, read: Callable[[Path], Any]) -> dict[str, Any]:
        if not (folder / config_file).is_file():
            return {}
        config = read(folder / config_file)
        where = str(folder / config_file)
        if config.name != name:
            raise ValueError(f"{where}: name {config.name!r} must match the folder name {name!r}")
        if config.platform not in _PLATFORMS or config.backend not in _BACKENDS:
            raise ValueError(
                f"{where}: platform {config.platform!r} / backend {config.backend!r} cannot be served here; this "
                f"server runs ONNX models ({PLATFORM!r} / 'onnxruntime')"
            )
        if config.max_batch_size < 0:
            raise ValueError(f"{where}: max_batch_size must be >= 0, got {config.max_batch_size}")
        return {
            "max_batch_size": config.max_batch_size,
            "dynamic_batching": config.dynamic_batching and config.max_batch_size > 1,
            "max_queue_delay_s": config.max_queue_delay_microseconds / 1e6,
            "declared": (config.inputs, config.outputs),
        }

    # ----- lifecycle ------------------------------------------------------------------------------------------
    def load(
        self,
        device: str = "auto",
        threads: int | None = None,
        optimization: str = "all",
        on_warning: Callable[[str], None] | None = None,
    ) -> list[str]:
        """Load every version; returns one line per version that failed (those stay not ready)."""
        failures = []
        for model in self:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    model.load(device, threads, optimization)
                except Exception:
                    failures.append(f"model {model.name!r} version {model.version}: {model.error}")
            for warning in caught:
                if on_warning is not None:
                    on_warning(f"model {model.name!r} version {model.version}: {_one_line(warning.message)}")
        return failures

    def close(self) -> None:
        for model in self:
            model.close()

    def __iter__(self) -> Iterator[ModelVersion]:
        for versions in self.models.values():
            yield from versions.values()

    @property
    def ready(self) -> bool:
        return not self.unavailable and all(model.ready for model in self)

    def not_ready_reasons(self) -> list[str]:
        reasons = [f"model {name!r} is unavailable: {why}" for name, why in self.unavailable.items()]
        reasons += [f"model {m.name!r} version {m.version} is not ready: {m.error}" for m in self if not m.ready]
        return reasons

    # ----- lookup ---------------------------------------------------------------------------------------------
    def versions(self, name: str) -> dict[int, ModelVersion]:
        if name in self.unavailable:
            raise ProtocolError(f"model {name!r} is unavailable: {self.unavailable[name]}", 503)
        if name not in self.models:
            known = ", ".join(map(repr, sorted([*self.models, *self.unavailable]))) or "none"
            raise ProtocolError(f"unknown model {name!r}; models: {known}", 404)
        return self.models[name]

    def get(self, name: str, version: str | None = None) -> ModelVersion:
        """A model version by name and version text (None or "": the highest ready one, else the highest)."""
        versions = self.versions(name)
        if not version:
            ready = [number for number, model in versions.items() if model.ready]
            return versions[max(ready or versions)]
        if not (version.isascii() and version.isdigit()) or int(version) < 1:
            raise ProtocolError(f"model version must be a positive integer, got {version!r}")
        if int(version) not in versions:
            valid = ", ".join(str(v) for v in sorted(versions))
            raise ProtocolError(f"model {name!r} has no version {version}; versions: {valid}", 404)
        return versions[int(version)]
