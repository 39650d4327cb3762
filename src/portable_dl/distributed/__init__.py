"""Data-parallel training across processes and machines: MPI (mpi4py) on CPU, NCCL (CuPy) on GPUs.

Names follow ``torch.distributed``. Start a job with ``mpirun -n 4 python train.py`` (or
``portable-dl launch -n 4 train.py``); each process calls ``init_process_group()`` and wraps its model in
``DistributedDataParallel``. Importing this package does not import mpi4py: MPI starts in ``init_process_group``.
An uncaught exception on any rank after ``init_process_group`` aborts the whole job (``MPI_Abort``); for
failures before it, run the script as ``python -m mpi4py train.py``.
"""

from __future__ import annotations

from .ddp import DistributedDataParallel
from .process_group import (
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_backend,
    get_local_rank,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
)
from .reduce_op import ReduceOp
from .sampler import DistributedSampler

__all__ = [
    "DistributedDataParallel", "DistributedSampler", "ReduceOp", "all_gather", "all_reduce", "barrier", "broadcast",
    "destroy_process_group", "get_backend", "get_local_rank", "get_rank", "get_world_size", "init_process_group",
    "is_available", "is_initialized",
]  # fmt: skip
