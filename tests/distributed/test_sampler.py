"""DistributedSampler against torch.utils.data.distributed.DistributedSampler (torch is the oracle)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch.utils.data.distributed import DistributedSampler as TorchSampler  # noqa: E402

from portable_dl.distributed import DistributedSampler  # noqa: E402

SIZES = [1, 2, 3, 7, 10, 11]


def _shares(sampler_class: type, n: int, replicas: int, **kwargs: object) -> list[list[int]]:
    return [list(sampler_class(range(n), num_replicas=replicas, rank=r, **kwargs)) for r in range(replicas)]


def _interleaved(shares: list[list[int]]) -> list[int]:
    """The global order the ranks' shares were cut from (rank r holds positions r, r + R, ...)."""
    return [share[i] for i in range(len(shares[0])) for share in shares]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_without_shuffle_matches_torch_exactly(n: int, replicas: int, drop_last: bool) -> None:
    ours = _shares(DistributedSampler, n, replicas, shuffle=False, drop_last=drop_last)
    theirs = _shares(TorchSampler, n, replicas, shuffle=False, drop_last=drop_last)
    assert ours == theirs
    for r in range(replicas):
        mine = DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last)
        assert len(mine) == len(TorchSampler(range(n), num_replicas=replicas, rank=r, drop_last=drop_last))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("replicas", [2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_with_shuffle_follows_torchs_rules(n: int, replicas: int, drop_last: bool) -> None:
    """Random engines differ, so compare the rules: share sizes equal torch's, the shares cut one order that is
    a permutation (or its truncation) padded by repeating its start, exactly like torch's own order."""
    for sampler_class in (DistributedSampler, TorchSampler):
        shares = _shares(sampler_class, n, replicas, shuffle=True, seed=3, drop_last=drop_last)
        assert [len(s) for s in shares] == [len(s) for s in _shares(TorchSampler, n, replicas, drop_last=drop_last)]
        order = _interleaved(shares)
        if drop_last:
            assert len(set(order)) == len(order) and set(order) <= set(range(n))
        else:
            head = order[:n]
            assert sorted(head) == list(range(n))
            assert order[n:] == (head * len(order))[: len(order) - n]


def test_set_epoch_reshuffles_the_same_way_on_every_rank() -> None:
    n, replicas = 50, 2
    samplers = [DistributedSampler(range(n), num_replicas=replicas, rank=r, seed=7) for r in range(replicas)]
    epochs = []
    for epoch in range(3):
        for s in samplers:
            s.set_epoch(epoch)
        shares = [list(s) for s in samplers]
        assert sorted(shares[0] + shares[1]) == list(range(n))  # disjoint and complete
        epochs.append(shares[0])
    assert epochs[0] != epochs[1] != epochs[2]
    again = DistributedSampler(range(n), num_replicas=replicas, rank=0, seed=7)
    again.set_epoch(1)
    assert list(again) == epochs[1]
    other_seed = DistributedSampler(range(n), num_replicas=replicas, rank=0, seed=8)
    other_seed.set_epoch(1)
    assert list(other_seed) != epochs[1]


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be a positive int"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))
