"""Recurrent layers: ``RNN`` (tanh / relu), ``LSTM``, ``GRU`` and their single-step ``*Cell`` forms.

Parameter names, shapes, gate order and initialisation follow PyTorch; the recurrences are composed from
differentiable tensor ops (one input projection for the whole sequence, then ``h @ W_hh^T`` per step), so
autograd handles the backward pass.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from ..autograd.grad_mode import no_grad
from ..ops.recurrent import LSTMLayer
from ..tensor import Tensor, _bump_version
from . import functional as F
from .module import Module
from .parameter import Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


def _pdl() -> Any:
    import portable_dl

    return portable_dl


def _uniform_param(shape: tuple, bound: float, device: Any, dtype: Any) -> Parameter:
    pdl = _pdl()
    with no_grad():
        data = pdl.rand(*shape, device=device, dtype=dtype) * (2.0 * bound) - bound
    return Parameter(data)


def _assign(p: Parameter, value: Tensor) -> None:
    """Overwrite a parameter's storage in place (no autograd) and bump its version counter."""
    p._data[...] = value._data
    _bump_version(p)


_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _cell_step(mode: str, gi: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor, b_hh: Tensor | None) -> tuple:
    """One recurrence step given the precomputed input projection ``gi``; returns ``(h, c)``."""
    gh = F.linear(h, w_hh, b_hh)
    if mode == "LSTM":
        i, f, g, o = (gi + gh).chunk(4, -1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c
    if mode == "GRU":
        i_r, i_z, i_n = gi.chunk(3, -1)
        h_r, h_z, h_n = gh.chunk(3, -1)
        r = (i_r + h_r).sigmoid()
        z = (i_z + h_z).sigmoid()
        n = (i_n + r * h_n).tanh()
        return n + z * (h - n), None
    pre = gi + gh
    return (pre.tanh() if mode == "RNN_TANH" else F.relu(pre)), None


class RNNBase(Module):
    """Base class of ``RNN``, ``LSTM`` and ``GRU``: holds the per-layer, per-direction weights."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        bound = 1.0 / math.sqrt(hidden_size)
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
            for direction in range(num_directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input_size)), ("weight_hh", (gate_size, real_hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for base, shape in shapes:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, _uniform_param(shape, bound, device, dtype))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        pdl = _pdl()
        with no_grad():
            for p in self.parameters():
                _assign(p, pdl.rand(*p.shape, device=p.device, dtype=p.dtype) * (2.0 * bound) - bound)

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch compatibility (there is no cuDNN weight buffer to compact)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ----- forward -------------------------------------------------------------------------------
    def _check_hidden(self, h: Tensor, expected: tuple, msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(h.shape) != expected:
            raise RuntimeError(msg.format(list(expected), list(h.shape)))

    def forward(self, input: Tensor, hx: Any = None) -> tuple:  # noqa: A002 - torch argument name
        x = input
        is_lstm = self.mode == "LSTM"
        dim = x.dim()
        if dim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {dim}D tensor instead")
        batched = dim == 3
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        if not batched:
            x = x.unsqueeze(1)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {x.shape[-1]}")  # fmt: skip
        num_directions = 2 if self.bidirectional else 1
        seq_len, batch = x.shape[0], x.shape[1]
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        state_shape = (self.num_layers * num_directions, batch, real_hidden)
        cell_shape = (self.num_layers * num_directions, batch, self.hidden_size)
        if hx is None:
            pdl = _pdl()
            h0 = pdl.zeros(*state_shape, dtype=x.dtype, device=x.device)
            c0 = pdl.zeros(*cell_shape, dtype=x.dtype, device=x.device) if is_lstm else None
        else:
            if is_lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
                h0, c0 = hx
            else:
                h0, c0 = hx, None
            want = 3 if batched else 2
            for t in (h0,) if c0 is None else (h0, c0):
                if t.dim() != want:
                    raise RuntimeError(
                        f"For {'batched' if batched else 'unbatched'} {want}-D input, hx should also be {want}-D "
                        f"but got {t.dim()}-D tensor"
                    )
            if not batched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if c0 is not None else None
            self._check_hidden(h0, state_shape)
            if c0 is not None:
                self._check_hidden(c0, cell_shape, "Expected hidden[1] size {}, got {}")
        h_states = h0.unbind(0)
        c_states = c0.unbind(0) if is_lstm else None
        h_n: list[Tensor] = []
        c_n: list[Tensor] = []
        layer_input = x
        for layer in range(self.num_layers):
            dir_outputs = []
            for direction in range(num_directions):
                idx = layer * num_directions + direction
                names = self._all_weights[idx]
                w_ih, w_hh = getattr(self, names[0]), getattr(self, names[1])
                b_ih = getattr(self, names[2]) if self.bias else None
                b_hh = getattr(self, names[3]) if self.bias else None
                w_hr = getattr(self, names[-1]) if self.proj_size > 0 else None
                if is_lstm and w_hr is None:  # the whole layer as one fused op
                    gates_in = F.linear(layer_input, w_ih, b_ih)
                    out_seq, h, c = LSTMLayer.apply(gates_in, h_states[idx], c_states[idx], w_hh, b_hh, direction == 1)
                    h_n.append(h)
                    c_n.append(c)
                    dir_outputs.append(out_seq)
                    continue
                gis = F.linear(layer_input, w_ih, b_ih).unbind(0)
                h = h_states[idx]
                c = c_states[idx] if is_lstm else None
                steps = range(seq_len - 1, -1, -1) if direction == 1 else range(seq_len)
                outs: list[Any] = [None] * seq_len
                for t in steps:
                    h, c = _cell_step(self.mode, gis[t], h, c, w_hh, b_hh)
                    if w_hr is not None:
                        h = F.linear(h, w_hr)
                    outs[t] = h
                h_n.append(h)
                if is_lstm:
                    c_n.append(c)
                if seq_len:
                    dir_outputs.append(_pdl().stack(outs, 0))
                else:
                    dir_outputs.append(_pdl().zeros(0, batch, real_hidden, dtype=x.dtype, device=x.device))
            layer_input = dir_outputs[0] if num_directions == 1 else _pdl().cat(dir_outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        pdl = _pdl()
        output = layer_input
        hn = pdl.stack(h_n, 0)
        cn = pdl.stack(c_n, 0) if is_lstm else None
        if not batched:
            output = output.squeeze(1)
            hn = hn.squeeze(1)
            cn = cn.squeeze(1) if cn is not None else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (hn, cn)) if is_lstm else (output, hn)


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ``relu``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self_nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self_nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self_nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self_nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self_nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = self_nonlinearity


class LSTM(RNNBase):
    """Long short-term memory; gates in PyTorch's order (input, forget, cell, output)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit; gates in PyTorch's order (reset, update, new)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ----- cells ---------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Base class of the single-step cells: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
        self.weight_ih = _uniform_param((num_chunks * hidden_size, input_size), bound, device, dtype)
        self.weight_hh = _uniform_param((num_chunks * hidden_size, hidden_size), bound, device, dtype)
        if bias:
            self.bias_ih = _uniform_param((num_chunks * hidden_size,), bound, device, dtype)
            self.bias_hh = _uniform_param((num_chunks * hidden_size,), bound, device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        pdl = _pdl()
        with no_grad():
            for p in self.parameters():
                _assign(p, pdl.rand(*p.shape, device=p.device, dtype=p.dtype) * (2.0 * bound) - bound)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def _run(self, mode: str, input: Tensor, hx: Any) -> Any:  # noqa: A002
        x = input
        if x.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {x.dim()}D instead")
        batched = x.dim() == 2
        if not batched:
            x = x.unsqueeze(0)
        if hx is None:
            z = _pdl().zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
            h, c = z, (z if mode == "LSTM" else None)
        elif mode == "LSTM":
            h, c = hx
            if not batched:
                h, c = h.unsqueeze(0), c.unsqueeze(0)
        else:
            h, c = (hx if batched else hx.unsqueeze(0)), None
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        h, c = _cell_step(mode, gi, h, c, self.weight_hh, self.bias_hh)
        if not batched:
            h = h.squeeze(0)
            c = c.squeeze(0) if c is not None else None
        return (h, c) if mode == "LSTM" else h


class RNNCell(RNNCellBase):
    """One step of an Elman RNN."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._run(mode, input, hx)


class LSTMCell(RNNCellBase):
    """One step of an LSTM; returns ``(h_1, c_1)``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:  # noqa: A002
        return self._run("LSTM", input, hx)


class GRUCell(RNNCellBase):
    """One step of a GRU."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        return self._run("GRU", input, hx)
