"""Run under ``mpiexec -n 2``: ``python mpi_worker.py CASE [BACKEND [DEVICE]]`` runs one scenario, printing ``OK <rank>``.

Any failed check raises, which (after init_process_group) aborts the whole job with a non-zero exit.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext

import numpy as np

import portable_dl as torch
import portable_dl.distributed as dist
from portable_dl import nn

DDP = dist.DistributedDataParallel
DEVICE = sys.argv[3] if len(sys.argv) > 3 else "cpu"


def collectives(rank: int, world: int) -> None:
    assert dist.is_initialized() and dist.get_world_size() == world and 0 <= dist.get_local_rank() < world
    for dtype, np_dtype in ((torch.float32, np.float32), (torch.float64, np.float64), (torch.int64, np.int64)):
        base = np.arange(6, dtype=np_dtype).reshape(2, 3)
        per_rank = [base * (r + 1) + r for r in range(world)]
        expected = {
            dist.ReduceOp.SUM: np.sum(per_rank, axis=0),
            dist.ReduceOp.MAX: np.max(per_rank, axis=0),
            dist.ReduceOp.MIN: np.min(per_rank, axis=0),
            dist.ReduceOp.PRODUCT: np.prod(per_rank, axis=0),
        }
        if np_dtype != np.int64:
            expected[dist.ReduceOp.AVG] = np.mean(per_rank, axis=0)
        for op, want in expected.items():
            t = torch.tensor(per_rank[rank], dtype=dtype, device=DEVICE)
            dist.all_reduce(t, op=op)
            assert t.dtype == dtype, (op, t.dtype)
            np.testing.assert_allclose(t.cpu().numpy(), want, rtol=1e-6, err_msg=f"{op} {dtype}")
        t = torch.tensor(per_rank[rank], dtype=dtype, device=DEVICE)
        dist.broadcast(t, src=1 % world)
        np.testing.assert_array_equal(t.cpu().numpy(), per_rank[1 % world])
        outs = [torch.zeros(2, 3, dtype=dtype, device=DEVICE) for _ in range(world)]
        dist.all_gather(outs, torch.tensor(per_rank[rank], dtype=dtype, device=DEVICE))
        for r in range(world):
            np.testing.assert_array_equal(outs[r].cpu().numpy(), per_rank[r])
    # a non-contiguous view is reduced through a copy and written back into its base
    m = torch.tensor(np.arange(12, dtype=np.float32).reshape(3, 4) * (rank + 1), device=DEVICE)
    col = m.t()
    dist.all_reduce(col)
    want = np.arange(12, dtype=np.float32).reshape(3, 4) * sum(r + 1 for r in range(world))
    np.testing.assert_allclose(col.cpu().numpy(), want.T)
    try:
        dist.all_reduce(torch.tensor([1, 2], device=DEVICE), op=dist.ReduceOp.AVG)
    except TypeError as err:
        assert "floating point" in str(err)
    else:
        raise AssertionError("AVG on int64 should raise")
    dist.barrier()


def _model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).to(DEVICE)


def _data(steps: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    return rng.standard_normal((steps, batch, 5)).astype(np.float32), rng.standard_normal((steps, batch, 3)).astype(
        np.float32
    )


def _train(model: nn.Module, opt: torch.optim.Optimizer, xs: np.ndarray, ys: np.ndarray, accumulate: int = 1) -> None:
    """Steps over ``xs``/``ys``; each step's batch is split into ``accumulate`` backwards (only the last synced)."""
    for x, y in zip(xs, ys):
        opt.zero_grad()
        for k, idx in enumerate(np.array_split(np.arange(len(x)), accumulate)):
            local = isinstance(model, DDP) and k < accumulate - 1
            with model.no_sync() if local else nullcontext():
                prediction = model(torch.tensor(x[idx], device=DEVICE))
                loss = nn.functional.mse_loss(prediction, torch.tensor(y[idx], device=DEVICE)) / accumulate
                loss.backward()
        opt.step()


def _flat(model: nn.Module) -> np.ndarray:
    return np.concatenate([p.detach().cpu().numpy().ravel() for p in model.parameters()])


def _same_on_all_ranks(values: np.ndarray, world: int) -> None:
    mine = torch.tensor(values, device=DEVICE)
    outs = [torch.zeros_like(mine) for _ in range(world)]
    dist.all_gather(outs, mine)
    for r in range(world):
        np.testing.assert_array_equal(outs[r].cpu().numpy(), values, err_msg=f"rank {r} differs")


def ddp(rank: int, world: int) -> None:
    batch, steps = 4, 5
    xs, ys = _data(steps, batch * world)
    for name, make_opt in (
        ("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
        ("adam", lambda ps: torch.optim.Adam(ps, lr=0.01)),
    ):
        for accumulate in (1, 2):
            model = DDP(_model(seed=rank))  # different init per rank: the broadcast from rank 0 must fix it
            mine = slice(rank * batch, (rank + 1) * batch)
            _train(model, make_opt(model.parameters()), xs[:, mine], ys[:, mine], accumulate)
            reference = _model(seed=0)  # one process, batch B * world, same data order
            _train(reference, make_opt(reference.parameters()), xs, ys)
            np.testing.assert_allclose(
                _flat(model.module), _flat(reference), rtol=1e-5, atol=1e-6, err_msg=f"{name} accumulate={accumulate}"
            )
            _same_on_all_ranks(_flat(model.module), world)
    assert list(model.state_dict())[0] == "module.0.weight", list(model.state_dict())


def unused(rank: int, world: int) -> None:
    class Two(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.used = nn.Linear(3, 1)
            self.spare = nn.Linear(3, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.used(x)

    x = torch.ones(2, 3) * (rank + 1)
    model = DDP(Two(), find_unused_parameters=True)
    model(x).sum().backward()
    assert float(model.module.spare.weight.grad.abs().sum()) == 0.0
    want = np.full((1, 3), 2.0 * np.mean([r + 1 for r in range(world)]), dtype=np.float32)
    np.testing.assert_allclose(model.module.used.weight.grad.numpy(), want)
    strict = DDP(Two())
    strict(x).sum().backward()
    try:
        strict(x)
    except RuntimeError as err:
        assert "spare.weight" in str(err), err
    else:
        raise AssertionError("a parameter without gradient should be reported at the next forward")


def replicas(rank: int, world: int) -> None:
    """Buffers follow rank 0; frozen parameters are left alone; different models on different ranks are refused."""
    torch.manual_seed(rank)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    net[1].running_mean.fill_(float(rank + 1))
    net[0].bias.requires_grad_(False)
    model = DDP(net)
    np.testing.assert_array_equal(net[1].running_mean.numpy(), np.ones(4, dtype=np.float32))
    model(torch.randn(5, 3) * (rank + 1)).sum().backward()
    assert net[0].bias.grad is None
    _same_on_all_ranks(net[0].weight.grad.numpy(), world)
    try:
        DDP(nn.Linear(3, 2 + rank))
    except RuntimeError as err:
        assert "every rank must build the same model" in str(err), err
    else:
        raise AssertionError("different models on different ranks should be refused")


def fail(rank: int, world: int) -> None:
    dist.barrier()
    if rank == 1:
        raise ValueError("deliberate failure on rank 1")
    t = torch.ones(3)
    dist.all_reduce(t)  # rank 0 would wait here forever without the abort path


CASES = {"collectives": collectives, "ddp": ddp, "unused": unused, "replicas": replicas, "fail": fail}

if __name__ == "__main__":
    dist.init_process_group(sys.argv[2] if len(sys.argv) > 2 else "mpi")
    CASES[sys.argv[1]](dist.get_rank(), dist.get_world_size())
    print(f"OK {dist.get_rank()}", flush=True)
    dist.destroy_process_group()
