"""``DistributedDataParallel``: one model replica per rank, gradients averaged across ranks after backward.

How the reduction is triggered: every parameter carries a gradient hook. The engine runs a leaf's hooks and
then accumulates that leaf's ``.grad``, leaf after leaf, once the whole graph has been walked. When the hook of
the last expected parameter fires, every gradient of this backward is known: they are packed into one flat
buffer per (device, dtype), all-reduced (one collective per bucket, not one per parameter), divided by the
world size and written back as ``.grad``. Communication therefore starts when backward's compute is over
(no overlap).

Parameters that get no gradient: with ``find_unused_parameters=False`` (the default, like torch) every
parameter that requires grad must receive one; otherwise the next forward raises naming the missing ones. With
``find_unused_parameters=True`` each forward walks the output's graph and counts the unreached parameters as
ready with a zero local gradient (they receive the average of the other ranks' gradients).

``no_sync()``: forwards inside it run without reduction, so gradients accumulate locally; the first forward
and backward outside it all-reduce the accumulated ``.grad``, which equals training on the larger batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..autograd.grad_mode import state as grad_state
from ..nn.module import Module
from ..tensor import Tensor, _bump_version
from . import process_group as pg


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the default process group (torch's name and behaviour).

    At construction parameters and buffers are broadcast from rank 0, so all replicas start equal; with
    ``broadcast_buffers`` buffers (e.g. BatchNorm statistics) are broadcast from rank 0 again before each
    forward. ``state_dict`` keys are prefixed with ``module.``; save ``ddp.module.state_dict()`` on rank 0 for a
    checkpoint that loads without the wrapper. Not supported: ``create_graph=True`` backward,
    ``torch.autograd.grad`` through the wrapper, sub-groups. ``bucket_cap_mb`` is accepted for compatibility:
    without overlap, one bucket per dtype is the fastest, so it is not used.
    """

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a portable_dl nn.Module, got {type(module)}")
        if process_group is not None:
            raise NotImplementedError("DistributedDataParallel: only the default process group is supported")
        self._comm = pg._comm("DistributedDataParallel")
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self._names = {id(p): n for n, p in module.named_parameters()}
        self._params = [p for p in module.parameters() if p.requires_grad]
        self._index = {id(p): i for i, p in enumerate(self._params)}
        self._check_replicas_match()
        _sync_tensors(list(module.parameters()) + list(module.buffers()), self._comm)
        self._pending = False
        self._ready: dict[int, tuple[Tensor | None, Tensor | None]] = {}
        self._handles = [p.register_hook(self._make_hook(i)) for i, p in enumerate(self._params)]

    # ----- torch API ----------------------------------------------------------------------------------
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if self._pending and any(new is not None for _, new in self._ready.values()):
            self._pending = False  # a backward delivered some gradients but not all: the ranks may now diverge
            self._raise_unfinished()
        if self.broadcast_buffers and grad_state.enabled:
            buffers = list(self.module.buffers())
            if buffers and self._comm.world_size > 1:
                _sync_tensors(buffers, self._comm)
        output = self.module(*inputs, **kwargs)
        self._ready = {}
        self._pending = bool(grad_state.enabled and self.require_backward_grad_sync and self._params)
        if self._pending and self.find_unused_parameters:
            reached = _reachable_leaves(output)
            for p in self._params:
                if id(p) not in reached:
                    self._ready[self._index[id(p)]] = (p.grad, None)
            if len(self._ready) == len(self._params):  # nothing to wait for: reduce the zeros now
                self._reduce(None, None)
        return output

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Forwards inside this block accumulate gradients locally; the next synced backward averages them."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ----- reduction ----------------------------------------------------------------------------------
    def _make_hook(self, index: int) -> Any:
        def hook(grad: Tensor) -> Tensor | None:
            if not self._pending:
                return None
            if index in self._ready:
                name = self._names.get(id(self._params[index]))
                why = (
                    "the forward's output does not reach it (is it used outside the DDP forward?)"
                    if self._ready[index][1] is None
                    else "it received a gradient twice in one backward"
                )
                self._pending = False
                raise RuntimeError(f"DistributedDataParallel: parameter {name}: {why}; cannot average its gradient")
            self._ready[index] = (self._params[index].grad, grad)
            if len(self._ready) < len(self._params):
                return None
            return self._reduce(index, grad)

        return hook

    def _reduce(self, last: int | None, last_grad: Tensor | None) -> Tensor | None:
        """All-reduce every gradient of this backward (previous ``.grad`` + new), one collective per bucket.

        Earlier parameters' ``.grad`` were accumulated already; ``last`` is being accumulated by the engine
        right after this hook, so its ``.grad`` is cleared and the reduced value is returned instead.
        """
        self._pending = False
        ready, self._ready = self._ready, {}
        buckets: dict[tuple, list[int]] = {}
        for i, p in enumerate(self._params):
            buckets.setdefault((p._backend, p._data.dtype), []).append(i)
        result = None
        for (backend, dtype), members in buckets.items():
            xp = backend.xp
            parts = []
            for i in members:
                p = self._params[i]
                before, new = ready[i]
                if i != last and new is not None and p.grad is before:
                    raise RuntimeError(
                        "DistributedDataParallel: the autograd engine did not accumulate a gradient before the last "
                        "hook; this engine version is not supported by the reduction"
                    )
                local = _local_grad(p, before, new)
                parts.append(xp.zeros(p._data.size, dtype=dtype) if local is None else local.reshape(-1))
            flat = xp.concatenate(parts) if len(parts) > 1 else xp.array(parts[0], copy=True)
            if self._comm.world_size > 1:
                flat_tensor = Tensor._wrap(flat, backend)
                pg._in_place(flat_tensor, self._comm, lambda a: self._comm.all_reduce(a, pg.ReduceOp.SUM))
                flat = flat_tensor._data
                flat /= self._comm.world_size
            offset = 0
            for i in members:
                p = self._params[i]
                view = flat[offset : offset + p._data.size].reshape(p._data.shape)
                offset += p._data.size
                if i == last:
                    p.grad = None
                    result = Tensor._wrap(view, backend)
                else:
                    p.grad = Tensor._wrap(view, backend)
        del last_grad
        return result

    def _raise_unfinished(self) -> None:
        missing = [self._names.get(id(p), "?") for i, p in enumerate(self._params) if i not in self._ready]
        self._ready = {}
        raise RuntimeError(
            "DistributedDataParallel: Expected to have finished reduction in the prior iteration before starting a "
            f"new one. Parameters that received no gradient: {missing}. Make sure every parameter takes part in the "
            "loss, or pass find_unused_parameters=True (the same graph structure on every rank is still required)."
        )

    def _check_replicas_match(self) -> None:
        """Every rank must wrap the same architecture, or the flat buffers would not line up (or hang)."""
        all_tensors = list(self.module.parameters()) + list(self.module.buffers())
        counts = [len(all_tensors), sum(int(t._data.size) for t in all_tensors), len(self._params)]
        highest = self._comm.agree_max(counts + [-c for c in counts])
        if highest[:3] != counts or [-v for v in highest[3:]] != counts:
            raise RuntimeError(
                f"DistributedDataParallel: rank {self._comm.rank} has (tensors, elements, trainable parameters) = "
                f"{tuple(counts)}, but another rank differs (max {tuple(highest[:3])}, min "
                f"{tuple(-v for v in highest[3:])}); every rank must build the same model"
            )


def _local_grad(p: Tensor, before: Tensor | None, new: Tensor | None) -> Any:
    """This rank's gradient of ``p`` after this backward, as an array (None if it has none)."""
    if new is None:
        return None if p.grad is None else p.grad._data
    if before is None:
        return new._data
    return before._data + new._data


def _sync_tensors(tensors: list[Tensor], comm: Any) -> None:
    """Broadcast ``tensors`` from rank 0 in place, one collective per (device, dtype)."""
    if comm.world_size == 1 or not tensors:
        return
    groups: dict[tuple, list[Tensor]] = {}
    for t in tensors:
        groups.setdefault((t._backend, t._data.dtype), []).append(t)
    for (backend, _), members in groups.items():
        xp = backend.xp
        flat = xp.concatenate([xp.ravel(t._data) for t in members])
        holder = Tensor._wrap(flat, backend)
        pg._in_place(holder, comm, lambda a: comm.broadcast(a, 0))
        flat = holder._data
        offset = 0
        for t in members:
            part = flat[offset : offset + t._data.size].reshape(t._data.shape)
            offset += t._data.size
            if isinstance(t._data, xp.ndarray) and backend.writeable(t._data):
                xp.copyto(t._data, part)
            else:
                t._data = part.copy()
            _bump_version(t)


def _reachable_leaves(output: Any) -> set[int]:
    """ids of the leaf tensors that a backward from ``output`` (any tensors inside it) would reach."""
    stack = [t.grad_fn for t in _tensors_in(output) if t.grad_fn is not None]
    leaves = {id(t) for t in _tensors_in(output) if t.grad_fn is None and t.requires_grad}
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in getattr(node, "_edges", ()):
            if edge is None:
                continue
            if edge[1] < 0:
                leaves.add(id(edge[0]))
            else:
                stack.append(edge[0])
    return leaves


def _tensors_in(value: Any) -> Iterator[Tensor]:
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors_in(v)
