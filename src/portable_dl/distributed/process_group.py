"""The default process group (all MPI ranks) and torch.distributed's collectives on portable_dl tensors.

Collectives work in place on the tensor's array, outside autograd (like torch's). Arrays that are not
contiguous are reduced through a contiguous copy and written back.
"""

from __future__ import annotations

import sys
from typing import Any

from ..backends import CPU
from ..tensor import Tensor, _bump_version
from ._mpi import MpiCommunicator
from .reduce_op import ReduceOp

BACKENDS = ("mpi", "nccl")
_state: dict[str, Any] = {"comm": None, "excepthook": None}


def _comm(op: str) -> Any:
    comm = _state["comm"]
    if comm is None:
        raise RuntimeError(
            f"{op}: Default process group has not been initialized, please make sure to call init_process_group."
        )
    return comm


def _abort_on_uncaught(kind: type, value: BaseException, tb: Any) -> None:
    """An uncaught exception on one rank ends every rank (MPI_Abort) instead of leaving them blocked."""
    previous = _state["excepthook"] or sys.__excepthook__
    previous(kind, value, tb)
    comm = _state["comm"]
    if comm is None:
        return
    sys.stderr.write(
        f"portable_dl.distributed: uncaught {kind.__name__} on rank {comm.rank} of {comm.world_size}; "
        "aborting all ranks (MPI_Abort)\n"
    )
    sys.stderr.flush()
    sys.stdout.flush()
    comm.abort(1)


def init_process_group(
    backend: str | None = "mpi",
    init_method: str | None = None,
    timeout: Any = None,
    world_size: int = -1,
    rank: int = -1,
    store: Any = None,
    group_name: str = "",
    pg_options: Any = None,
    device_id: Any = None,
) -> None:
    """Join the job started by ``mpiexec``/``mpirun`` (a lone process is a job of one).

    ``backend``: ``"mpi"`` (host buffers; CUDA tensors go through host memory) or ``"nccl"`` (CUDA tensors, NCCL
    bootstrapped over MPI). Ranks and the world size come from MPI: ``world_size``/``rank``, when given, must
    agree with it. An uncaught exception on any rank afterwards aborts the whole job.
    """
    if _state["comm"] is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    if name not in BACKENDS:
        raise ValueError(f"init_process_group: unknown backend {backend!r}; valid: {list(BACKENDS)}")
    if init_method not in (None, "env://") or store is not None:
        raise ValueError("init_process_group: ranks come from MPI; init_method and store are not supported")
    mpi = MpiCommunicator()
    if world_size not in (-1, mpi.world_size):
        raise ValueError(f"init_process_group: world_size={world_size} but mpiexec started {mpi.world_size} ranks")
    if rank not in (-1, mpi.rank):
        raise ValueError(f"init_process_group: rank={rank} but MPI says this process is rank {mpi.rank}")
    if name == "nccl":
        from ._nccl import NcclCommunicator

        comm: Any = NcclCommunicator(mpi)
    else:
        comm = mpi
    _state["comm"] = comm
    if sys.excepthook is not _abort_on_uncaught:
        _state["excepthook"] = sys.excepthook
        sys.excepthook = _abort_on_uncaught


def is_available() -> bool:
    """Whether mpi4py can be imported (no MPI initialisation happens here)."""
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def is_initialized() -> bool:
    return _state["comm"] is not None


def get_backend(group: Any = None) -> str:
    _check_group(group, "get_backend")
    return _comm("get_backend").name


def get_rank(group: Any = None) -> int:
    _check_group(group, "get_rank")
    return _comm("get_rank").rank


def get_world_size(group: Any = None) -> int:
    _check_group(group, "get_world_size")
    return _comm("get_world_size").world_size


def get_local_rank() -> int:
    """This process's rank among the ranks on its machine (which GPU it drives)."""
    return _comm("get_local_rank").local_rank


def destroy_process_group(group: Any = None) -> None:
    """Leave the group (NCCL resources are freed; MPI itself is finalised by mpi4py at exit)."""
    _check_group(group, "destroy_process_group")
    comm = _comm("destroy_process_group")
    _state["comm"] = None
    if sys.excepthook is _abort_on_uncaught:
        sys.excepthook = _state["excepthook"] or sys.__excepthook__
    _state["excepthook"] = None
    comm.close()


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> None:
    _check_group(group, "barrier", async_op)
    _comm("barrier").barrier()


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> None:
    """Combine ``tensor`` over all ranks with ``op``; every rank's tensor holds the result (in place)."""
    _check_group(group, "all_reduce", async_op)
    comm = _comm("all_reduce")
    op = _reduce_op(op)
    _check_tensor(tensor, "all_reduce", "tensor")
    dtype = tensor._data.dtype
    if op is ReduceOp.AVG and dtype.kind not in "fc":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating point tensor, got {dtype.name}")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.kind not in "iub":
        raise TypeError(f"all_reduce: {op} needs an integer or bool tensor, got {dtype.name}")

    def reduce(array: Any) -> None:
        comm.all_reduce(array, op)
        if op is ReduceOp.AVG:
            array /= comm.world_size

    _in_place(tensor, comm, reduce)


def broadcast(tensor: Tensor, src: int, group: Any = None, async_op: bool = False) -> None:
    """Copy rank ``src``'s ``tensor`` into every rank's ``tensor`` (same shape and dtype everywhere)."""
    _check_group(group, "broadcast", async_op)
    comm = _comm("broadcast")
    _check_tensor(tensor, "broadcast", "tensor")
    _check_src(src, comm.world_size, "broadcast")
    _in_place(tensor, comm, lambda array: comm.broadcast(array, src))


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: Any = None, async_op: bool = False) -> None:
    """Fill ``tensor_list[r]`` with rank r's ``tensor`` (all the same shape and dtype), in place."""
    _check_group(group, "all_gather", async_op)
    comm = _comm("all_gather")
    _check_tensor(tensor, "all_gather", "tensor")
    if not isinstance(tensor_list, list) or len(tensor_list) != comm.world_size:
        got = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else type(tensor_list).__name__
        raise ValueError(f"all_gather: tensor_list must be a list of world_size={comm.world_size} tensors, got {got}")
    for i, out in enumerate(tensor_list):
        _check_tensor(out, "all_gather", f"tensor_list[{i}]")
        if tuple(out.shape) != tuple(tensor.shape) or out._data.dtype != tensor._data.dtype:
            raise ValueError(
                f"all_gather: tensor_list[{i}] is {tuple(out.shape)} {out.dtype}, but tensor is "
                f"{tuple(tensor.shape)} {tensor.dtype}; they must match"
            )
    backend = tensor._backend
    staged = comm.name != "nccl" and backend.device.type != "cpu"  # MPI reads host memory
    xp = CPU.xp if staged else backend.xp
    send = xp.ascontiguousarray(backend.to_numpy(tensor._data) if staged else tensor._data)
    recv = xp.empty((comm.world_size,) + tuple(send.shape), dtype=send.dtype)
    comm.all_gather(send, recv)
    for out, part in zip(tensor_list, recv):
        _write(out, backend.asarray(part) if staged else part)


def _in_place(tensor: Tensor, comm: Any, collective: Any) -> None:
    """Apply ``collective(array)`` to a contiguous array holding ``tensor``'s values, then store the result."""
    backend = tensor._backend
    data = tensor._data
    xp = backend.xp
    if comm.name != "nccl" and backend.device.type != "cpu":
        work = backend.to_numpy(data).copy(order="C")
        collective(work)
        _write(tensor, backend.asarray(work))
        return
    work = xp.ascontiguousarray(data)
    direct = work is data and isinstance(data, xp.ndarray) and backend.writeable(data)
    collective(work)
    if direct:
        _bump_version(tensor)
    else:
        _write(tensor, work)


def _write(tensor: Tensor, values: Any) -> None:
    data = tensor._data
    xp = tensor._backend.xp
    if isinstance(data, xp.ndarray) and tensor._backend.writeable(data):
        xp.copyto(data, values)
    else:
        tensor._data = xp.ascontiguousarray(values).reshape(tuple(tensor.shape)).astype(data.dtype, copy=True)
    _bump_version(tensor)


def _reduce_op(op: Any) -> ReduceOp:
    if isinstance(op, ReduceOp):
        return op
    if isinstance(op, str) and op.upper() in ReduceOp.__members__:
        return ReduceOp[op.upper()]
    raise ValueError(f"all_reduce: unknown op {op!r}; valid: {[f'ReduceOp.{n}' for n in ReduceOp.__members__]}")


def _check_tensor(tensor: Any, op: str, name: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: {name} must be a portable_dl Tensor, got {type(tensor).__name__}")


def _check_src(src: Any, world_size: int, op: str) -> None:
    if not isinstance(src, int) or isinstance(src, bool) or not 0 <= src < world_size:
        raise ValueError(f"{op}: src={src!r} is not a rank; valid: 0 .. {world_size - 1}")


def _check_group(group: Any, op: str, async_op: bool = False) -> None:
    if group is not None:
        raise NotImplementedError(f"{op}: only the default group (group=None, all ranks) is supported")
    if async_op:
        raise NotImplementedError(f"{op}: async_op=True is not supported; collectives here are blocking")
