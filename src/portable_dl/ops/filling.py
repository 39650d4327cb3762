"""In-place fills (``fill_``, ``zero_``, ``copy_``, ``fill_diagonal_``, ``index_fill_``), in-place random
fills (``normal_``, ``uniform_``, ...), sampling functions (``bernoulli``, ``multinomial``, ``normal``,
``poisson``) and in-place shape methods (``squeeze_``, ``unsqueeze_``, ``t_``, ``transpose_``).
Random draws come from the device's generator (seeded by ``manual_seed``)."""

from __future__ import annotations

import math
from typing import Any

from .. import _dtype
from .._dtype import FROM_NUMPY
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..tensor import Tensor, _bump_version, trace_observer
from ._common import assign_inplace, cast, check_tensor, result_type, wrap_dim
from .broadcast import broadcast_shapes
from .creation import FilledLike


def _check_leaf(self: Tensor, op: str) -> None:
    if state.enabled and self.requires_grad and self.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation.")


def _scalar(value: Any, op: str) -> Any:
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                f"{op} only supports 0-dimension value tensor but got tensor with {value._data.ndim} dimensions."
            )
        return value.item()
    return value


def _dt(t: Tensor) -> _dtype.dtype:
    return FROM_NUMPY[t._data.dtype]


# ----- deterministic fills -------------------------------------------------------------------------


class _FillWhere(Function):
    """``x`` with the positions of the boolean array ``mask`` set to ``value`` (gradient 0 there)."""

    _raw = True

    @staticmethod
    def forward(ctx: Any, x: Any, mask: Any, value: Any) -> Any:
        ctx.mask = mask
        return ctx.xp.where(mask, ctx.xp.asarray(value).astype(x.dtype), x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:
        if not ctx.needs_input_grad[0]:
            return None, None, None
        keep = Tensor._wrap((~ctx.mask).astype(grad._data.dtype), grad._backend)
        return grad * keep, None, None


def _fill_positions(self: Tensor, index: Any, value: Any, op: str) -> Tensor:
    """Write ``value`` at ``self._data[index]`` in place (through the graph when ``self`` has history)."""
    _check_leaf(self, op)
    xp = self._backend.xp
    traced = trace_observer() is not None  # the ONNX exporter records the fill as an op
    if traced and index is Ellipsis and not isinstance(value, Tensor):  # a whole fill follows the runtime shape
        return assign_inplace(self, FilledLike.apply(self, value, self._data.dtype), op)
    if (state.enabled and self.requires_grad) or traced or not isinstance(self._data, xp.ndarray):
        mask = xp.zeros(self._data.shape, dtype=bool)
        mask[index] = True
        return assign_inplace(self, _FillWhere.apply(self, mask, value), op)
    if not self._backend.writeable(self._data):
        raise RuntimeError(f"{op}: this tensor is a broadcast (expanded) view and cannot be written in place")
    self._data[index] = value
    _bump_version(self)
    return self


def fill_(self: Tensor, value: Any) -> Tensor:
    """Fill with a number or a 0-d tensor (differentiable w.r.t. a tensor value)."""
    if isinstance(value, Tensor) and value.requires_grad and state.enabled:
        _scalar(value, "fill_")
        _check_leaf(self, "fill_")
        src = cast(value.to(self._backend.device), _dt(self)).expand(self._data.shape)
        return assign_inplace(self, src.clone(), "fill_")
    value = _scalar(value, "fill_")
    return _fill_positions(self, Ellipsis, value, "fill_")


def zero_(self: Tensor) -> Tensor:
    return _fill_positions(self, Ellipsis, 0, "zero_")


def fill(input: Tensor, value: Any) -> Tensor:  # noqa: A002 - torch argument name
    """Out of place: a tensor like ``input`` filled with ``value``."""
    check_tensor(input, "fill")
    if isinstance(value, Tensor) and value.requires_grad:
        _scalar(value, "fill")
        return cast(value, _dt(input)).expand(input._data.shape).clone()
    value = _scalar(value, "fill")
    xp = input._backend.xp
    return Tensor._wrap(xp.full(input._data.shape, value, dtype=input._data.dtype), input._backend)


def _broadcast_error(own: tuple, src: tuple) -> None:
    lead = len(own) - len(src)
    for i in range(len(src) - 1, -1, -1):
        a = own[i + lead] if i + lead >= 0 else None
        if src[i] != 1 and a != src[i]:
            if a is None:
                break
            raise RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({src[i]}) at non-singleton "
                f"dimension {i + lead}"
            )
    raise RuntimeError(
        f"copy_: output with shape {list(own)} doesn't match the broadcast shape {list(src)}"
    )  # pragma: no cover - more dims than self


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast to self's shape, cast to its dtype, moved to its device) into self."""
    check_tensor(src, "copy_", "src")
    own = self._data.shape
    shape = src._data.shape
    if shape != own:
        if len(shape) > len(own) or any(s not in (1, o) for s, o in zip(shape[::-1], own[::-1])):
            _broadcast_error(own, shape)
    grad = state.enabled and (src.requires_grad or self.requires_grad)
    if grad:
        _check_leaf(self, "copy_")
        out = src
        if src._backend is not self._backend:
            out = out.to(self._backend.device)
        out = cast(out, _dt(self))
        if out._data.shape != own:
            out = out.expand(own)
        if out is src:
            out = out.clone()
        return assign_inplace(self, out, "copy_")
    data = src._data
    if src._backend is not self._backend:
        data = self._backend.asarray(src._backend.to_numpy(data))
    xp = self._backend.xp
    if not isinstance(self._data, xp.ndarray):
        self._data = xp.asarray(data).astype(self._data.dtype)
    elif not self._backend.writeable(self._data):
        raise RuntimeError("copy_: this tensor is a broadcast (expanded) view and cannot be written in place")
    else:
        xp.copyto(self._data, data, casting="unsafe")
    _bump_version(self)
    return self


def fill_diagonal_(self: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Fill the main diagonal (all dims equal for ndim > 2; ``wrap`` restarts it every ncols+1 rows)."""
    shape = self._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and any(s != shape[0] for s in shape):
        raise RuntimeError("all dimensions of input must be of equal length")
    xp = self._backend.xp
    fill_value = _scalar(fill_value, "fill_diagonal_")
    if len(shape) > 2 or shape[0] <= shape[1] + 1 or not wrap:
        n = min(shape)
        ar = xp.arange(n)
        index = (ar,) * len(shape)
    else:
        rows, cols = shape
        flat = xp.arange(0, rows * cols, cols + 1)
        index = (flat // cols, flat % cols)
    return _fill_positions(self, index, fill_value, "fill_diagonal_")


def _index_mask_index(self: Tensor, dim: int, index: Any, op: str) -> tuple:
    check_tensor(index, op, "index", 2)
    if index._data.dtype.kind != "i" or index._data.dtype.itemsize != 8:
        raise IndexError(f"{op}(): Expected dtype int64 for index.")
    if index._data.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    ndim = self._data.ndim
    dim = wrap_dim(dim, max(ndim, 1), op)
    size = self._data.shape[dim] if ndim else 1
    idx = index._data.reshape(-1)
    if idx.size:
        bad = (idx < -size) | (idx >= size)
        if bool(bad.any()):
            value = int(idx[bad.argmax()])
            raise IndexError(f"index {value} is out of bounds for dimension {dim} with size {size}")
    if not ndim:
        return (Ellipsis,) if idx.size else (self._backend.xp.zeros(0, dtype="int64"),)
    return (slice(None),) * dim + (idx,)


def index_fill_(self: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    pos = _index_mask_index(self, dim, index, "index_fill_")
    return _fill_positions(self, pos, _scalar(value, "index_fill_"), "index_fill_")


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:  # noqa: A002
    check_tensor(input, "index_fill")
    pos = _index_mask_index(input, dim, index, "index_fill")
    xp = input._backend.xp
    mask = xp.zeros(input._data.shape, dtype=bool)
    mask[pos] = True
    return _FillWhere.apply(input, mask, _scalar(value, "index_fill"))


# ----- random in-place fills -----------------------------------------------------------------------


def _float_only(self: Tensor, op: str, kernel: str) -> None:
    if self._data.dtype.kind != "f" and _dt(self).name != "bfloat16":
        raise NotImplementedError(f"\"{kernel}_kernel_cpu\" not implemented for '{_dt(self).name}' ({op})")


def _gen_dtype(self: Tensor) -> str:
    name = _dt(self).name
    return name if name in ("float32", "float64") else "float32"


def _write(self: Tensor, data: Any, op: str) -> Tensor:
    """Overwrite ``self`` with freshly drawn ``data`` (no autograd history, like torch's in-place inits)."""
    _check_leaf(self, op)
    data = data.astype(self._data.dtype, copy=False)
    xp = self._backend.xp
    if state.enabled and self.requires_grad:
        return assign_inplace(self, Tensor._wrap(data, self._backend), op)
    if not isinstance(self._data, xp.ndarray):
        self._data = xp.asarray(data)
    elif not self._backend.writeable(self._data):
        raise RuntimeError(f"{op}: this tensor is a broadcast (expanded) view and cannot be written in place")
    else:
        xp.copyto(self._data, data, casting="unsafe")
    _bump_version(self)
    return self


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    _float_only(self, "normal_", "normal")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    data = self._backend.generator().standard_normal(self._data.shape, dtype=_gen_dtype(self))
    if std != 1:
        data *= data.dtype.type(std)
    if mean != 0:
        data += data.dtype.type(mean)
    return _write(self, data, "normal_")


def uniform_(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    """``uniform_(from=0, to=1)`` (``from`` is a Python keyword, so both come through ``**kwargs``)."""
    names = ("from", "to")
    vals = dict(zip(names, args))
    vals.update(kwargs)
    if set(vals) - set(names) or len(args) > 2:
        raise TypeError(f"uniform_() got unexpected arguments {sorted(set(vals) - set(names)) or args}")
    low, high = vals.get("from", 0.0), vals.get("to", 1.0)
    _float_only(self, "uniform_", "uniform")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}")
    data = self._backend.generator().random(self._data.shape, dtype=_gen_dtype(self))
    if (low, high) != (0, 1):
        data *= data.dtype.type(high - low)
        data += data.dtype.type(low)
    return _write(self, data, "uniform_")


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    _float_only(self, "exponential_", "exponential")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    data = self._backend.generator().standard_exponential(self._data.shape, dtype=_gen_dtype(self))
    if lambd != 1:
        data /= data.dtype.type(lambd)
    return _write(self, data, "exponential_")


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
    _float_only(self, "log_normal_", "log_normal")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    data = self._backend.generator().standard_normal(self._data.shape, dtype="float64") * std + mean
    return _write(self, self._backend.xp.exp(data), "log_normal_")


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
    _float_only(self, "cauchy_", "cauchy")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    u = self._backend.generator().random(self._data.shape, dtype="float64")
    return _write(self, median + sigma * self._backend.xp.tan(math.pi * (u - 0.5)), "cauchy_")


def geometric_(self: Tensor, p: float, *, generator: Any = None) -> Tensor:
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    data = self._backend.generator().geometric(p, size=self._data.shape)
    return _write(self, data, "geometric_")


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    xp = self._backend.xp
    if isinstance(p, Tensor):
        probs = p._data if p._backend is self._backend else self._backend.asarray(p._backend.to_numpy(p._data))
        if probs.size and bool(((probs < 0) | (probs > 1)).any()):
            raise RuntimeError("bernoulli_: expected all elements of p to be in [0, 1]")
        probs = xp.broadcast_to(probs, self._data.shape)
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        probs = p
    data = self._backend.generator().random(self._data.shape) < probs
    return _write(self, data, "bernoulli_")


_FLOAT_RANDOM_BITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}


def random_(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    """``random_()``, ``random_(to)`` or ``random_(from, to)``: integers uniform on [from, to)."""
    if len(args) > 2 or set(kwargs) - {"from", "to"}:
        raise TypeError(f"random_() got unexpected arguments {args} {sorted(kwargs)}")
    if len(args) == 1 and "to" not in kwargs:
        low, high = kwargs.get("from", 0), args[0]
        if "from" in kwargs:
            low, high = args[0], None
    else:
        vals = dict(zip(("from", "to"), args))
        vals.update(kwargs)
        low, high = vals.get("from", 0), vals.get("to")
    dt = _dt(self)
    if high is None:
        if dt.is_floating_point:
            high = (1 << _FLOAT_RANDOM_BITS[dt.name]) + 1
        elif dt.name == "bool":
            high = 2
        else:
            high = int(self._backend.xp.iinfo(self._data.dtype).max)  # [from, max) ~ torch's [from, max]
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    data = self._backend.generator().integers(int(low), int(high), size=self._data.shape, dtype="int64")
    return _write(self, data, "random_")


# ----- sampling functions ----------------------------------------------------------------------------


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None, out: Any = None) -> Tensor:  # noqa: A002
    """0/1 draws in ``input``'s dtype with probabilities ``input`` (or the number ``p``)."""
    check_tensor(input, "bernoulli")
    if p is not None:
        return bernoulli_(Tensor._wrap(input._data.copy(), input._backend), p)
    probs = input._data
    if probs.dtype.kind != "f" and _dt(input).name != "bfloat16":
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_self_\" not implemented for '{_dt(input).name}'")
    if probs.size and bool(((probs < 0) | (probs > 1)).any()):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    data = input._backend.generator().random(probs.shape) < probs
    return Tensor._wrap(data.astype(probs.dtype), input._backend)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Any = None, out: Any = None) -> Tensor:  # fmt: skip
    """``num_samples`` category indices per row of the weights ``input`` (1-D or 2-D), int64."""
    check_tensor(input, "multinomial")
    probs = input._data
    if probs.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if probs.dtype.kind != "f" and _dt(input).name != "bfloat16":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {_dt(input).name}")
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    k = probs.shape[-1]
    if not replacement and num_samples > k:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    xp = input._backend.xp
    p = probs.astype("float64").reshape(-1, k)
    if p.size and bool((~xp.isfinite(p) | (p < 0)).any()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    total = p.sum(-1)
    if bool((total <= 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rows = p.shape[0]
    rng = input._backend.generator()
    if replacement:
        cdf = xp.cumsum(p / total[:, None], axis=-1)
        cdf[:, -1] = 1.0
        offset = xp.arange(rows, dtype="float64")[:, None]
        u = rng.random((rows, num_samples)) + offset
        flat = xp.searchsorted((cdf + offset).reshape(-1), u.reshape(-1), side="right").reshape(rows, num_samples)
        result = xp.minimum(flat - (xp.arange(rows) * k)[:, None], k - 1)
    else:  # exponential-race (Gumbel-top-k): the k largest p / Exp(1) are a draw without replacement
        keys = p / rng.standard_exponential((rows, k))
        result = xp.argsort(-keys, axis=-1)[:, :num_samples]
    result = result.astype("int64")
    if probs.ndim == 1:
        result = result.reshape(num_samples)
    return Tensor._wrap(result, input._backend)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None, out: Any = None,
           dtype: Any = None, device: Any = None, requires_grad: bool = False, layout: Any = None,
           pin_memory: bool = False) -> Tensor:  # fmt: skip
    """``normal(Tensor mean, Tensor std)``, ``normal(Tensor mean, float std=1)``, ``normal(float mean,
    Tensor std)`` (broadcast shapes) or ``normal(float mean, float std, size)``."""
    tm, ts = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not tm and not ts:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: size is required")
        from .creation import randn

        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        out_t = randn(size, dtype=dtype, device=device)
        out_t._data = out_t._data * out_t._data.dtype.type(std) + out_t._data.dtype.type(mean)
        if requires_grad:
            out_t.requires_grad_(True)
        return out_t
    ref = mean if tm else std
    backend = ref._backend
    dt = result_type(*(v for v in (mean, std) if isinstance(v, Tensor)))
    if not dt.is_floating_point:
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{dt.name}'")
    m = mean._data if tm else mean
    s = std._data if ts else std
    if ts:
        if s.size and bool((s < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif s < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {s}")
    shape = broadcast_shapes(*(v._data.shape for v in (mean, std) if isinstance(v, Tensor)))
    gen_dt = dt.name if dt.name in ("float32", "float64") else "float32"
    z = backend.generator().standard_normal(shape, dtype=gen_dt)
    data = (z * s + m).astype(dt.np, copy=False)
    return Tensor._wrap(data, backend)


def poisson(input: Tensor, generator: Any = None) -> Tensor:  # noqa: A002
    """Poisson draws with rates ``input``, in ``input``'s dtype."""
    check_tensor(input, "poisson")
    rates = input._data
    if rates.size and bool((rates < 0).any()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    data = input._backend.generator().poisson(rates.astype("float64"))
    return Tensor._wrap(data.astype(rates.dtype), input._backend)


# ----- in-place shape methods ------------------------------------------------------------------------


def _reshape_inplace(self: Tensor, out: Tensor, op: str) -> Tensor:
    """Make ``self`` the view ``out`` of itself (taking over its graph node when it has history)."""
    _check_leaf(self, op)
    if state.enabled and self.requires_grad:
        self._data = out._data
        self.grad_fn = out.grad_fn
        self._output_nr = out._output_nr
    else:
        self._data = out._data
    _bump_version(self)
    return self


def squeeze_(self: Tensor, dim: Any = None) -> Tensor:
    _check_leaf(self, "squeeze_")
    return _reshape_inplace(self, self.squeeze() if dim is None else self.squeeze(dim), "squeeze_")


def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    _check_leaf(self, "unsqueeze_")
    return _reshape_inplace(self, self.unsqueeze(dim), "unsqueeze_")


def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    _check_leaf(self, "transpose_")
    return _reshape_inplace(self, self.transpose(dim0, dim1), "transpose_")


def t_(self: Tensor) -> Tensor:
    _check_leaf(self, "t_")
    return _reshape_inplace(self, self.t(), "t_")


__all__ = ["fill", "fill_", "zero_", "index_fill", "bernoulli", "multinomial", "normal", "poisson"]
FUNCTIONAL: list[str] = []
TENSOR_METHODS = {
    "fill_": fill_, "zero_": zero_, "copy_": copy_, "fill_diagonal_": fill_diagonal_,
    "index_fill_": index_fill_, "index_fill": index_fill, "normal_": normal_, "uniform_": uniform_,
    "exponential_": exponential_, "log_normal_": log_normal_, "cauchy_": cauchy_, "geometric_": geometric_,
    "bernoulli_": bernoulli_, "random_": random_, "bernoulli": bernoulli, "multinomial": multinomial,
    "squeeze_": squeeze_, "unsqueeze_": unsqueeze_, "transpose_": transpose_, "t_": t_,
    "swapaxes_": transpose_, "swapdims_": transpose_,
}  # fmt: skip
