"""Recurrent layers (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``) as ONNX ``LSTM`` / ``GRU`` / ``RNN`` operators.

Each layer call is traced as one ``module:`` op; the converter writes one ONNX recurrent node per layer
(both directions in one node), so runtimes use their fused kernels instead of an unrolled or looped graph.
Weights are re-laid out as constants in ONNX's gate order (LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h with
``linear_before_reset=1``, which is PyTorch's GRU). Layers are chained with shape-safe Transpose/Reshape so
sequence length and batch stay dynamic. Dropout between layers is a training-time op: the graph is the
eval-mode layer. ``LSTM(proj_size>0)`` has no ONNX operator and is refused. The ``*Cell`` modules are not
handled here: they trace as ordinary ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import GraphBuilder, to_numpy
from ..registry import converter
from ..tracer import TracedOp, TracingError, Value

# row blocks of PyTorch's stacked gate weights, in the order ONNX wants them
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_ONNX_TYPE = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


@converter("module:LSTM", "module:GRU", "module:RNN")
def _recurrent(g: GraphBuilder, op: TracedOp) -> list:
    m = op.fn
    mode = m.mode
    if getattr(m, "proj_size", 0) > 0:
        raise TracingError(
            f"LSTM with proj_size has no ONNX LSTM equivalent ({op.scope or 'the model'}, {op.where}); "
            "export an LSTM without proj_size (proj_size=0)"
        )
    x, hx = _call_args(op)
    is_lstm = mode == "LSTM"
    batched = len(x.shape) == 3
    dirs = 2 if m.bidirectional else 1
    dtype = op.outputs[0].dtype
    h0, c0 = _initial_states(g, hx, is_lstm, batched)

    seq = g.name(x)
    if not batched:
        seq = g.unsqueeze(seq, [1])
    elif m.batch_first:
        seq = g.op("Transpose", seq, perm=[1, 0, 2])
    h_n, c_n = [], []
    for layer in range(m.num_layers):
        w, r, b = _layer_weights(g, m, layer, dirs, dtype)
        inits = [_layer_slice(g, s, layer, dirs, m.num_layers) for s in (h0, c0)]
        inputs = [seq, w, r, b, None, inits[0]] + ([inits[1]] if is_lstm else [])
        outs = g.op(_ONNX_TYPE[mode], *inputs, outputs=3 if is_lstm else 2, **_attrs(m, mode, dirs))
        y = outs[0]  # [seq, dirs, batch, hidden]
        h_n.append(outs[1])
        if is_lstm:
            c_n.append(outs[2])
        if dirs == 1:
            seq = g.squeeze(y, [1])
        else:  # [seq, batch, dirs * hidden]: forward and reverse halves side by side, as in PyTorch
            seq = g.op("Reshape", g.op("Transpose", y, perm=[0, 2, 1, 3]), g.const(np.asarray([0, 0, -1], np.int64)))

    output = seq
    if not batched:
        output = g.squeeze(output, [1])
    elif m.batch_first:
        output = g.op("Transpose", output, perm=[1, 0, 2])
    states = [_join(g, h_n, batched)] + ([_join(g, c_n, batched)] if is_lstm else [])
    return [output] + states


def _call_args(op: TracedOp) -> tuple:
    """``(input, hx)`` of the ``forward(input, hx=None)`` call, positional or keyword."""
    args = list(op.args)
    x = args[0] if args else op.kwargs.get("input")
    hx = args[1] if len(args) > 1 else op.kwargs.get("hx")
    if not isinstance(x, Value):
        raise TracingError(f"{op.kind}: the input must be a tensor (packed sequences are not exported), got {x!r}")
    return x, hx


def _initial_states(g: GraphBuilder, hx: Any, is_lstm: bool, batched: bool) -> tuple:
    """ONNX names of ``(h_0, c_0)`` with a batch axis; None for a state not given (ONNX starts from zeros)."""
    if hx is None:
        return None, None
    h, c = tuple(hx) if is_lstm else (hx, None)
    names = []
    for s in (h, c):
        if s is None:
            names.append(None)
            continue
        name = g.name(s)
        names.append(name if batched else g.unsqueeze(name, [1]))
    return tuple(names)


def _layer_slice(g: GraphBuilder, state: str | None, layer: int, dirs: int, layers: int) -> str | None:
    """Rows ``layer*dirs : (layer+1)*dirs`` of a ``[layers*dirs, batch, hidden]`` state."""
    if state is None or layers == 1:
        return state
    start, end = (np.asarray([v], np.int64) for v in (layer * dirs, (layer + 1) * dirs))
    return g.op("Slice", state, g.const(start), g.const(end), g.const(np.asarray([0], np.int64)))


def _layer_weights(g: GraphBuilder, m: Any, layer: int, dirs: int, dtype: Any) -> tuple:
    """ONNX ``W [dirs, G*H, in]``, ``R [dirs, G*H, H]`` and ``B [dirs, 2*G*H]`` (None without bias)."""
    hidden = m.hidden_size
    order = _GATE_ORDER[m.mode]

    def param(base: str, d: int) -> tuple:
        value = g.value_of(getattr(m, f"{base}_l{layer}{'_reverse' if d else ''}"))
        array = np.asarray(to_numpy(value.array))
        return np.concatenate([array[k * hidden : (k + 1) * hidden] for k in order], 0), value.name

    hint = param("weight_ih", 0)[1]
    prefix = hint.rsplit(".", 1)[0] + "." if "." in hint else ""
    w = np.stack([param("weight_ih", d)[0] for d in range(dirs)]).astype(dtype)
    r = np.stack([param("weight_hh", d)[0] for d in range(dirs)]).astype(dtype)
    names = [g.const(w, f"{prefix}W_l{layer}"), g.const(r, f"{prefix}R_l{layer}")]
    if not m.bias:
        return names[0], names[1], None
    b = np.stack([np.concatenate([param("bias_ih", d)[0], param("bias_hh", d)[0]]) for d in range(dirs)])
    return names[0], names[1], g.const(b.astype(dtype), f"{prefix}B_l{layer}")


def _attrs(m: Any, mode: str, dirs: int) -> dict:
    attrs: dict = {"hidden_size": int(m.hidden_size), "direction": "bidirectional" if dirs == 2 else "forward"}
    if mode == "GRU":
        attrs["linear_before_reset"] = 1
    elif mode != "LSTM":
        attrs["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"] * dirs
    return attrs


def _join(g: GraphBuilder, states: list, batched: bool) -> str:
    """Per-layer ``[dirs, batch, hidden]`` final states stacked as PyTorch's ``[layers*dirs, batch, hidden]``."""
    out = states[0] if len(states) == 1 else g.op("Concat", *states, axis=0)
    return out if batched else g.squeeze(out, [1])
