"""The GPU communicator: NCCL through ``cupy.cuda.nccl``, bootstrapped over MPI.

Rank 0 creates the NCCL unique id and broadcasts its 128 bytes with MPI (a raw buffer, no pickle); each rank
drives the GPU of its node-local rank. Collectives are enqueued on the current CuPy stream after synchronising
it, so every kernel that produced the buffer has finished before NCCL reads it. CuPy is reached through the
portable_dl CUDA backend (``backend.xp``), never imported here.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._mpi import MpiCommunicator
from .reduce_op import ReduceOp

_DTYPES = {
    "float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64", "int8": "NCCL_INT8",
    "uint8": "NCCL_UINT8", "int32": "NCCL_INT32", "uint32": "NCCL_UINT32", "int64": "NCCL_INT64",
    "uint64": "NCCL_UINT64",
}  # fmt: skip
_OPS = {
    ReduceOp.SUM: "NCCL_SUM", ReduceOp.AVG: "NCCL_SUM", ReduceOp.PRODUCT: "NCCL_PROD", ReduceOp.MIN: "NCCL_MIN",
    ReduceOp.MAX: "NCCL_MAX",
}  # fmt: skip


def _nccl_module(xp: Any) -> Any:
    nccl = getattr(xp.cuda, "nccl", None)
    if nccl is None:
        nccl = importlib.import_module(f"{xp.__name__}.cuda.nccl")
    if not getattr(nccl, "available", True):
        raise RuntimeError("backend='nccl': CuPy was built or installed without NCCL (pip install nvidia-nccl-cu12)")
    return nccl


class NcclCommunicator:
    """Collectives over NCCL on CuPy arrays of this rank's GPU; MPI stays alongside for host-side agreement."""

    name = "nccl"

    def __init__(self, mpi: MpiCommunicator) -> None:
        from ..backends import cuda_device_count, get_backend

        count = cuda_device_count()
        if count == 0:
            raise RuntimeError(
                "backend='nccl' needs a CUDA GPU visible to CuPy; use backend='mpi' on CPU-only machines"
            )
        self.mpi = mpi
        self.rank, self.world_size = mpi.rank, mpi.world_size
        self.local_rank, self.local_world_size = mpi.local_rank, mpi.local_world_size
        self.device_index = mpi.local_rank % count
        self.backend = get_backend(f"cuda:{self.device_index}")
        self.xp = self.backend.xp
        self.nccl = _nccl_module(self.xp)
        uid = bytearray(128)
        if self.rank == 0:
            uid[:] = bytes(v & 0xFF for v in self.nccl.get_unique_id())
        mpi.broadcast(uid, 0)
        unique_id = tuple(b - 256 if b > 127 else b for b in uid)  # NCCL's id is a signed char[128]
        with self.xp.cuda.Device(self.device_index):
            self.comm = self.nccl.NcclCommunicator(self.world_size, unique_id, self.rank)

    def _check(self, array: Any, what: str) -> Any:
        """The NCCL dtype of ``array``, after checking it lives on this rank's GPU."""
        if not isinstance(array, self.xp.ndarray):
            raise TypeError(f"backend='nccl': {what} must be a CUDA tensor, got a CPU one (move it with .cuda())")
        if array.device.id != self.device_index:
            raise ValueError(
                f"backend='nccl': {what} is on cuda:{array.device.id} but rank {self.rank} drives "
                f"cuda:{self.device_index} (local rank modulo the GPU count)"
            )
        name = _DTYPES.get(array.dtype.name)
        if name is None:
            raise TypeError(f"backend='nccl': dtype {array.dtype.name} is not supported; valid: {sorted(_DTYPES)}")
        return getattr(self.nccl, name)

    def _ready_stream(self) -> int:
        """This GPU's current stream, synchronised so that the producers of the buffers have finished."""
        stream = self.xp.cuda.get_current_stream()
        stream.synchronize()
        return stream.ptr

    def all_reduce(self, array: Any, op: ReduceOp) -> None:
        if op not in _OPS:
            raise ValueError(f"backend='nccl': {op} is not supported; valid: {[o.name for o in _OPS]}")
        dtype = self._check(array, "all_reduce's tensor")
        with self.xp.cuda.Device(self.device_index):
            ptr = array.data.ptr
            self.comm.allReduce(ptr, ptr, array.size, dtype, getattr(self.nccl, _OPS[op]), self._ready_stream())

    def broadcast(self, array: Any, src: int) -> None:
        dtype = self._check(array, "broadcast's tensor")
        with self.xp.cuda.Device(self.device_index):
            self.comm.bcast(array.data.ptr, array.size, dtype, src, self._ready_stream())

    def all_gather(self, send: Any, recv: Any) -> None:
        dtype = self._check(send, "all_gather's tensor")
        self._check(recv, "all_gather's output")
        with self.xp.cuda.Device(self.device_index):
            self.comm.allGather(send.data.ptr, recv.data.ptr, send.size, dtype, self._ready_stream())

    def barrier(self) -> None:
        with self.xp.cuda.Device(self.device_index):
            self._ready_stream()
        self.mpi.barrier()

    def agree_max(self, values: list[int]) -> list[int]:
        return self.mpi.agree_max(values)

    def abort(self, code: int) -> None:
        try:
            self.comm.abort()
        finally:
            self.mpi.abort(code)

    def close(self) -> None:
        with self.xp.cuda.Device(self.device_index):
            self._ready_stream()
        self.comm.destroy()
