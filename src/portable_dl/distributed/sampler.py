"""``DistributedSampler``: each rank reads its own share of a dataset, torch's index rules included.

The order (shuffled or not) is padded by repeating its start until it divides evenly (or cut with
``drop_last``), and rank r takes every ``num_replicas``-th index starting at r. Shuffling uses a generator
seeded with ``seed + epoch``, the same on every rank, so shares never overlap; call ``set_epoch`` each epoch
for a new order. The shuffled orders differ from torch's (another random engine); the rules are the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized
from typing import Any

from ..utils.data.sampler import Sampler


class DistributedSampler(Sampler):
    """Indices of ``dataset`` for one rank (torch.utils.data.distributed.DistributedSampler's semantics)."""

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from . import process_group as pg

            if not pg.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: pass num_replicas and rank, or call "
                    "portable_dl.distributed.init_process_group() first"
                )
            num_replicas = pg.get_world_size() if num_replicas is None else num_replicas
            rank = pg.get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or isinstance(num_replicas, bool) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got {num_replicas!r}")
        if not isinstance(rank, int) or isinstance(rank, bool) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"DistributedSampler: seed must be an int, got {type(seed).__name__}")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = bool(drop_last)
        self.shuffle = bool(shuffle)
        self.seed = seed
        n = len(dataset)  # type: ignore[arg-type]
        if self.drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def _order(self) -> list[int]:
        n = len(self.dataset)  # type: ignore[arg-type]
        if not self.shuffle:
            return list(range(n))
        from ..backends import CPU

        rng = CPU.xp.random.default_rng((self.seed + self.epoch) % 2**64)
        return [int(i) for i in rng.permutation(n).tolist()]

    def __iter__(self) -> Iterator[int]:
        indices = self._order()
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            elif indices:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use a new shuffled order this epoch (the same on every rank for the same epoch)."""
        self.epoch = epoch

    def __repr__(self) -> str:
        return (
            f"DistributedSampler(num_replicas={self.num_replicas}, rank={self.rank}, shuffle={self.shuffle}, "
            f"seed={self.seed}, drop_last={self.drop_last}, epoch={self.epoch})"
        )


__all__: list[Any] = ["DistributedSampler"]
