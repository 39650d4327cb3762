"""``Runner``: run an ONNX file with ONNX Runtime, the way a deployed model is called.

A thin layer over one ``onnxruntime.InferenceSession`` that picks providers (CUDA, then CPU) and says when it fell
back, warms the session up, checks inputs against the model's metadata before ONNX Runtime sees them (so a wrong
dtype or shape names the input and what was expected), and hands back outputs of the kind it was given: NumPy in,
NumPy out; CuPy in, CuPy out (through IOBinding, no host copy); portable_dl Tensor in, Tensor out.

It needs only NumPy and ``onnxruntime`` (CuPy on GPU): a portable_dl Tensor is recognised by duck typing
(``__array__`` / ``__dlpack__``), and the training core is imported only to wrap outputs for a caller who passed one.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["OPTIMIZATION_LEVELS", "Runner", "TensorInfo"]

OPTIMIZATION_LEVELS = ("disable", "basic", "extended", "all")
_ORT_LEVEL_NAMES = {
    "disable": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}
CPU_PROVIDER = "CPUExecutionProvider"
CUDA_PROVIDER = "CUDAExecutionProvider"

# ONNX Runtime type strings ("tensor(float)") to NumPy dtypes; bfloat16 and float8 have no NumPy twin.
_ORT_TYPES = {
    "float": np.float32,
    "double": np.float64,
    "float16": np.float16,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint8": np.uint8,
    "uint16": np.uint16,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "bool": np.bool_,
    "string": np.object_,
}
# ONNX TensorProto element types (what OrtValue.element_type() returns) to NumPy dtypes.
_ONNX_ELEMENT_TYPES = {
    1: np.float32,
    2: np.uint8,
    3: np.int8,
    4: np.uint16,
    5: np.int16,
    6: np.int32,
    7: np.int64,
    9: np.bool_,
    10: np.float16,
    11: np.float64,
    12: np.uint32,
    13: np.uint64,
}
_DLPACK_CUDA = (2, 3, 13)  # kDLCUDA, kDLCUDAHost, kDLCUDAManaged


@dataclass(frozen=True)
class TensorInfo:
    """One model input or output: its name, shape (an int per fixed dim, a str or None per symbolic one; None
    when the rank is unknown), NumPy dtype (None for types NumPy lacks, e.g. bfloat16) and ONNX Runtime type."""

    name: str
    shape: tuple[int | str | None, ...] | None
    dtype: np.dtype | None
    type: str

    @classmethod
    def from_node_arg(cls, arg: Any) -> TensorInfo:
        shape = None if arg.shape is None else tuple(d if isinstance(d, (int, str)) else None for d in arg.shape)
        kind = str(arg.type)
        element = kind[len("tensor(") : -1] if kind.startswith("tensor(") else None
        dtype = np.dtype(_ORT_TYPES[element]) if element in _ORT_TYPES else None
        return cls(arg.name, shape, dtype, kind)

    @property
    def is_tensor(self) -> bool:
        return self.type.startswith("tensor(")

    @functools.cached_property
    def fixed_dims(self) -> tuple[tuple[int, int], ...]:
        """(axis, size) of each fixed dimension."""
        return tuple((axis, d) for axis, d in enumerate(self.shape or ()) if isinstance(d, int) and d >= 0)

    @functools.cached_property
    def shape_text(self) -> str:
        return "?" if self.shape is None else "(" + ", ".join("?" if d is None else repr(d) for d in self.shape) + ")"

    def describe(self) -> str:
        shape = "?" if self.shape is None else "(" + ", ".join("?" if d is None else str(d) for d in self.shape) + ")"
        return f"{self.name}: {self.type[7:-1] if self.is_tensor else self.type} {shape}"


def _parse_device(device: str) -> tuple[str, int]:
    """'auto' | 'cpu' | 'cuda' | 'cuda:N' -> (kind, index)."""
    text = str(device).strip().lower()
    if text in ("auto", "cpu", "cuda"):
        return text, 0
    if text.startswith("cuda:") and text[5:].isdigit():
        return "cuda", int(text[5:])
    raise ValueError(f"Runner: unknown device {device!r}; valid: 'auto', 'cpu', 'cuda' or 'cuda:N' (N >= 0)")


def _import_ort() -> Any:
    try:
        import onnxruntime
    except ImportError as err:
        raise ImportError(
            "Runner needs ONNX Runtime: pip install 'portable-dl[cpu]' (or 'portable-dl[gpu]' with CUDA)"
        ) from err
    return onnxruntime


def _import_cupy() -> Any:
    import cupy

    return cupy


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def _is_portable_tensor(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "portable_dl" and hasattr(value, "is_cuda")


def _is_cupy(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "cupy" and hasattr(value, "__cuda_array_interface__")


def _on_cuda(value: Any) -> bool:
    """Whether a DLPack-speaking object lives on a CUDA device."""
    try:
        return int(value.__dlpack_device__()[0]) in _DLPACK_CUDA
    except (AttributeError, TypeError, ValueError, IndexError):
        return hasattr(value, "__cuda_array_interface__")


class Runner:
    """Run an ONNX model with ONNX Runtime.

    ``Runner(path, device="auto", threads=None, optimization="all")``: ``path`` is a file path, or the model's bytes
    (or an ``onnx.ModelProto``). ``device`` is ``"auto"`` (CUDA when ONNX Runtime has it, else CPU), ``"cpu"``,
    ``"cuda"`` or ``"cuda:N"``; when CUDA was asked for but is not usable it warns once and runs on the CPU.
    ``threads`` sets ONNX Runtime's intra-op threads (None: its default). ``optimization`` is the graph
    optimization level: one of ``"disable"``, ``"basic"``, ``"extended"``, ``"all"``.

    Call it as ``runner(x, y)`` (model input order), ``runner(x=..., y=...)`` or ``runner.run({"x": ...})``. It
    returns the single output as one array when the model has one output, else a list in model output order. The
    kind follows the inputs: a portable_dl Tensor among them gives Tensors (on that tensor's device), else a CuPy
    array gives CuPy arrays, else NumPy arrays. Inputs are checked for names, dtype, rank and fixed dims first.
    """

    def __init__(
        self,
        path: str | os.PathLike | bytes | Any,
        device: str = "auto",
        threads: int | None = None,
        optimization: str = "all",
        warmup: bool = True,
    ) -> None:
        ort = _import_ort()
        kind, index = _parse_device(device)
        model, self.path = self._model_source(path)
        options = self._session_options(ort, threads, optimization)
        available = ort.get_available_providers()
        wants_cuda = kind == "cuda" or (kind == "auto" and CUDA_PROVIDER in available)
        providers: list[Any] = [CPU_PROVIDER]
        if wants_cuda and CUDA_PROVIDER in available:
            providers.insert(0, (CUDA_PROVIDER, {"device_id": index}))
        self.session = self._load(ort, model, options, providers)
        self.providers: list[str] = list(self.session.get_providers())
        self.device = f"cuda:{index}" if CUDA_PROVIDER in self.providers else "cpu"
        if wants_cuda and self.device == "cpu":
            reason = "ONNX Runtime has no CUDA provider here" if CUDA_PROVIDER not in available else "it failed"
            warnings.warn(
                f"Runner: device {device!r} asked for CUDA but {reason} (available: {available}); running on the "
                "CPU. Install 'onnxruntime-gpu' with a matching CUDA/cuDNN to use the GPU.",
                RuntimeWarning,
                stacklevel=2,
            )
        self.inputs: list[TensorInfo] = [TensorInfo.from_node_arg(a) for a in self.session.get_inputs()]
        self.outputs: list[TensorInfo] = [TensorInfo.from_node_arg(a) for a in self.session.get_outputs()]
        self._input_index = {info.name: info for info in self.inputs}
        self._output_names = [info.name for info in self.outputs]
        if warmup:
            self._warm_up()

    # ----- construction helpers ------------------------------------------------------------------------------
    @staticmethod
    def _model_source(path: Any) -> tuple[Any, str]:
        """What to hand to ONNX Runtime, and how to name the model in errors."""
        if hasattr(path, "SerializeToString"):
            path = path.SerializeToString()
        if isinstance(path, (bytes, bytearray, memoryview)):
            return bytes(path), "<model bytes>"
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"Runner: expected a path, model bytes or onnx.ModelProto, got {type(path).__name__}")
        name = os.fspath(path)
        if not os.path.exists(name):
            raise FileNotFoundError(f"Runner: ONNX model file not found: {name}")
        if os.path.isdir(name):
            raise IsADirectoryError(f"Runner: expected an ONNX model file, got a directory: {name}")
        return name, repr(name)

    def _load(self, ort: Any, model: Any, options: Any, providers: list[Any]) -> Any:
        """The session; when CUDA fails to initialise (some ONNX Runtime builds raise instead of falling back),
        the CPU is tried before blaming the file."""
        try:
            return ort.InferenceSession(model, sess_options=options, providers=providers)
        except Exception as err:
            if len(providers) > 1:
                with contextlib.suppress(Exception):
                    return ort.InferenceSession(model, sess_options=options, providers=[CPU_PROVIDER])
            raise ValueError(f"Runner: cannot load ONNX model {self.path}: {_one_line(err)}") from err

    @staticmethod
    def _session_options(ort: Any, threads: int | None, optimization: str) -> Any:
        if optimization not in _ORT_LEVEL_NAMES:
            raise ValueError(f"Runner: unknown optimization {optimization!r}; valid: {', '.join(OPTIMIZATION_LEVELS)}")
        options = ort.SessionOptions()
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, _ORT_LEVEL_NAMES[optimization])
        if threads is not None:
            if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
                raise ValueError(
                    f"Runner: threads must be a positive int or None (ONNX Runtime's default), got {threads!r}"
                )
            options.intra_op_num_threads = threads
        options.log_severity_level = 3  # errors only: fallbacks are reported by this class, once
        return options

    def _warm_up(self) -> None:
        """One run on zeros (symbolic dims = 1), so the first real call does not pay for allocation and tuning."""
        if not all(info.is_tensor and info.dtype is not None for info in self.inputs):
            return
        try:
            self.session.run(None, self.sample_inputs(1))
        except Exception as err:
            warnings.warn(
                f"Runner: warm-up run of {self.path} on zeros failed ({_one_line(err)}); pass warmup=False to skip it",
                RuntimeWarning,
                stacklevel=3,
            )

    # ----- metadata ------------------------------------------------------------------------------------------
    @property
    def has_dynamic_batch(self) -> bool:
        """Whether some input's first dimension is symbolic (so the batch size can vary)."""
        return any(info.shape and not isinstance(info.shape[0], int) for info in self.inputs)

    def sample_inputs(
        self,
        batch_size: int = 1,
        *,
        dims: Mapping[str, int] | None = None,
        random: bool = False,
        seed: int = 0,
        int_high: int = 4,
    ) -> dict[str, np.ndarray]:
        """NumPy inputs built from the metadata: a symbolic first dim is ``batch_size``, other symbolic dims come
        from ``dims`` (by name) or are 1. Zeros, or with ``random`` normal floats and ints in ``[0, int_high)``."""
        rng = np.random.default_rng(seed)
        dims = dict(dims or {})
        feeds = {}
        for info in self.inputs:
            if not info.is_tensor or info.dtype is None:
                raise ValueError(f"Runner: cannot build a sample for input {info.describe()} (not a NumPy tensor type)")
            shape = tuple(
                d
                if isinstance(d, int) and d >= 0
                else batch_size
                if axis == 0
                else dims.get(d, 1)
                if isinstance(d, str)
                else 1
                for axis, d in enumerate(info.shape or ())
            )
            dtype = info.dtype
            if not random:
                feeds[info.name] = np.full(shape, "", dtype=dtype) if dtype.kind == "O" else np.zeros(shape, dtype)
            elif dtype.kind == "f":
                feeds[info.name] = rng.standard_normal(shape).astype(dtype)
            elif dtype.kind in "iu":
                feeds[info.name] = rng.integers(0, int_high, size=shape).astype(dtype)
            elif dtype.kind == "b":
                feeds[info.name] = rng.random(shape) < 0.5
            else:
                feeds[info.name] = np.full(shape, "a", dtype=dtype)
        return feeds

    def __repr__(self) -> str:
        inputs = ", ".join(i.describe() for i in self.inputs)
        outputs = ", ".join(o.describe() for o in self.outputs)
        return f"Runner({self.path}, device={self.device!r}, inputs=[{inputs}], outputs=[{outputs}])"

    # ----- running -------------------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) > len(self.inputs):
            raise TypeError(
                f"Runner: the model takes {len(self.inputs)} input(s) ({', '.join(self._input_index)}), "
                f"got {len(args)} positional"
            )
        feeds = dict(zip((info.name for info in self.inputs), args))
        for name, value in kwargs.items():
            if name in feeds:
                raise TypeError(f"Runner: input {name!r} given both by position and by name")
            feeds[name] = value
        return self.run(feeds)

    def run(self, feeds: Mapping[str, Any]) -> Any:
        """Run on ``{input name: array}``; returns one output, or a list of them in model order (see the class)."""
        if not isinstance(feeds, Mapping):
            raise TypeError(f"Runner.run: expected a mapping of input name to array, got {type(feeds).__name__}")
        self._check_names(feeds)
        on_cuda = self.device != "cpu"
        arrays, kinds, tensor_device = {}, set(), None
        for name, value in feeds.items():
            info = self._input_index[name]
            array, kind = self._convert(value, info, on_cuda)
            if kind == "tensor" and tensor_device is None:
                tensor_device = value.device
            kinds.add(kind)
            self._check_array(array, info, kind)
            arrays[name] = array
        device_arrays = on_cuda and any(_is_cupy(a) for a in arrays.values())
        if device_arrays:
            results = self._run_bound(arrays)
        else:
            try:
                results = self.session.run(self._output_names, arrays)
            except Exception as err:
                raise self._run_error(err) from err
        if "tensor" in kinds:
            results = [self._to_tensor(r, tensor_device) for r in results]
        elif "cupy" in kinds:
            cupy = _import_cupy()
            results = [cupy.asarray(r) for r in results]
        return results[0] if len(results) == 1 else results

    def _run_error(self, err: Exception) -> RuntimeError:
        return RuntimeError(f"Runner: ONNX Runtime failed running {self.path}: {_one_line(err)}")

    def _check_names(self, feeds: Mapping[str, Any]) -> None:
        if len(feeds) == len(self._input_index) and all(n in self._input_index for n in feeds):
            return
        valid = ", ".join(repr(n) for n in self._input_index)
        unexpected = [n for n in feeds if n not in self._input_index]
        if unexpected:
            raise ValueError(
                f"Runner: unexpected input(s) {', '.join(map(repr, unexpected))}; the model's inputs: {valid}"
            )
        missing = [n for n in self._input_index if n not in feeds]
        if missing:
            raise ValueError(f"Runner: missing input(s) {', '.join(map(repr, missing))}; the model's inputs: {valid}")

    @staticmethod
    def _convert(value: Any, info: TensorInfo, on_cuda: bool) -> tuple[Any, str]:
        """The array to feed (NumPy, or CuPy when the session is on CUDA) and the kind of the caller's value."""
        if isinstance(value, np.ndarray):
            return value, "numpy"
        if _is_portable_tensor(value):
            if value.is_cuda and on_cuda:
                detached = value.detach() if hasattr(value, "detach") else value
                return _import_cupy().from_dlpack(detached), "tensor"
            return np.asarray(value), "tensor"
        if _is_cupy(value):
            return (value if on_cuda else value.get()), "cupy"
        if hasattr(value, "__dlpack__") and _on_cuda(value):
            if not on_cuda:
                raise ValueError(
                    f"Runner: input {info.name!r} is on a CUDA device but the runner runs on the CPU; "
                    "copy it to host memory first"
                )
            return _import_cupy().from_dlpack(value), "cupy"
        if isinstance(value, (list, tuple, int, float, bool)):
            return Runner._from_python(value, info), "numpy"
        try:
            return np.asarray(value), "numpy"
        except Exception as err:
            raise TypeError(
                f"Runner: input {info.name!r}: cannot convert {type(value).__name__} to an array "
                "(pass a NumPy/CuPy array or a portable_dl Tensor)"
            ) from err

    @staticmethod
    def _from_python(value: Any, info: TensorInfo) -> np.ndarray:
        """Python numbers and lists take the input's dtype when that loses nothing (ints into floats, floats into
        lower-precision floats); anything else is left for the dtype check to report."""
        array = np.asarray(value)
        target = info.dtype
        if target is None or array.dtype == target or target.kind == "O":
            return array
        if array.dtype.kind == "b" and target.kind != "b":
            return array
        if array.dtype.kind in "iu" and target.kind in "iuf" or array.dtype.kind == "f" and target.kind == "f":
            converted = array.astype(target)
            if array.dtype.kind in "iu" and not np.array_equal(converted.astype(array.dtype), array):
                raise ValueError(f"Runner: input {info.name!r}: values {value!r} do not fit in {target}")
            return converted
        return array

    def _check_array(self, array: Any, info: TensorInfo, kind: str) -> None:
        if not info.is_tensor:
            return
        expected, got = info.dtype, np.dtype(array.dtype)
        if expected is not None and got != expected and not (expected.kind == "O" and got.kind in "USO"):
            cast = {
                "tensor": f".to(portable_dl.{expected.name})",
                "cupy": f".astype(cupy.{expected.name})",
            }.get(kind, f".astype(np.{expected.name})")
            float64_default = kind == "numpy" and got == np.float64 and expected == np.float32
            hint = " (NumPy makes float64 by default)" if float64_default else ""
            raise TypeError(
                f"Runner: input {info.name!r} expects dtype {expected.name} but got {got.name}{hint}; "
                f"cast it with x{cast}"
            )
        if info.shape is None:
            return
        shape = tuple(array.shape)
        if len(shape) != len(info.shape):
            raise ValueError(
                f"Runner: input {info.name!r} expects {len(info.shape)} dimension(s) with shape {info.shape_text}, "
                f"got {len(shape)} with shape {shape}"
            )
        for axis, want in info.fixed_dims:
            if shape[axis] != want:
                raise ValueError(
                    f"Runner: input {info.name!r} expects size {want} at dimension {axis} (shape {info.shape_text}), "
                    f"got shape {shape}"
                )

    def _run_bound(self, arrays: Mapping[str, Any]) -> list[Any]:
        """Run with IOBinding: CuPy inputs are read and outputs written in GPU memory, without host copies."""
        cupy = _import_cupy()
        index = int(self.device.split(":")[1])
        binding = self.session.io_binding()
        keep = []  # contiguous copies must outlive the run
        with cupy.cuda.Device(index):
            for name, array in arrays.items():
                if _is_cupy(array):
                    if array.device.id != index:
                        raise ValueError(
                            f"Runner: input {name!r} is on cuda:{array.device.id} but the runner uses {self.device}"
                        )
                    array = cupy.ascontiguousarray(array)
                    keep.append(array)
                    binding.bind_input(name, "cuda", index, array.dtype.type, tuple(array.shape), array.data.ptr)
                else:
                    array = np.ascontiguousarray(array)
                    keep.append(array)
                    binding.bind_cpu_input(name, array)
            for name in self._output_names:
                binding.bind_output(name, "cuda", index)
            cupy.cuda.get_current_stream().synchronize()  # inputs written on CuPy's stream must be complete
            try:
                binding.synchronize_inputs()
                self.session.run_with_iobinding(binding)
                binding.synchronize_outputs()
            except Exception as err:
                raise self._run_error(err) from err
        return [self._ortvalue_to_cupy(value, info, cupy) for value, info in zip(binding.get_outputs(), self.outputs)]

    @staticmethod
    def _ortvalue_to_cupy(value: Any, info: TensorInfo, cupy: Any) -> Any:
        """A CuPy view of an OrtValue in GPU memory; the view keeps the OrtValue (and so the memory) alive."""
        dtype = np.dtype(_ONNX_ELEMENT_TYPES.get(value.element_type(), info.dtype))
        shape = tuple(value.shape())
        if not value.device_name().lower().startswith("cuda"):
            return cupy.asarray(value.numpy())
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if size == 0:
            return cupy.empty(shape, dtype)
        memory = cupy.cuda.UnownedMemory(value.data_ptr(), size, value)
        return cupy.ndarray(shape, dtype, cupy.cuda.MemoryPointer(memory, 0))

    @staticmethod
    def _to_tensor(array: Any, device: Any) -> Any:
        import portable_dl

        tensor = portable_dl.from_numpy(array) if isinstance(array, np.ndarray) else portable_dl.from_dlpack(array)
        return tensor if str(tensor.device) == str(device) else tensor.to(device)
