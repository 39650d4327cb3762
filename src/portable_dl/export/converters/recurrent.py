"""Recurrent layers (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``) as ONNX ``LSTM`` / ``GRU`` / ``RNN`` operators.

Each layer call is traced as one ``module:`` op; the converter writes one ONNX recurrent node per layer
(both directions in one node), so runtimes use their fused kernels instead of an unrolled or looped graph;
``LSTMCell``/``GRUCell``/``RNNCell`` become a length-1 recurrence node each.
Weights are re-laid out as constants in ONNX's gate order (LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h with
``linear_before_reset=1``, which is PyTorch's GRU). Layers are chained with shape-safe Transpose/Reshape so
sequence length and batch stay dynamic. Dropout between layers is a training-time op: the graph is the
eval-mode layer. ``LSTM(proj_size>0)`` has no ONNX operator: each layer and direction becomes a ``Scan`` whose
body is the projected LSTM step (the input projection for the whole sequence is one MatMul outside it).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..graph import GraphBuilder, onnx_dtype, to_numpy
from ..registry import converter
from ..tracer import TracedOp, TracingError, Value

# row blocks of PyTorch's stacked gate weights, in the order ONNX wants them
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_ONNX_TYPE = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


@converter("module:LSTM", "module:GRU", "module:RNN")
def _recurrent(g: GraphBuilder, op: TracedOp) -> list:
    m = op.fn
    mode = m.mode
    x, hx = _call_args(op)
    if m.training and m.dropout and m.num_layers > 1:
        warnings.warn(f"{op.kind} ({op.scope or 'the model'}) is in training mode: its dropout between layers "
                      "is not exported (the graph is the eval-mode layer)", stacklevel=2)  # fmt: skip
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
    layer_fn = _projected_layer if getattr(m, "proj_size", 0) > 0 else _onnx_layer
    h_n, c_n = [], []
    for layer in range(m.num_layers):
        inits = [_layer_slice(g, s, layer, dirs, m.num_layers) for s in (h0, c0)]
        seq, h, c = layer_fn(g, m, layer, dirs, seq, inits, dtype)
        h_n.append(h)
        c_n.append(c)

    output = seq
    if not batched:
        output = g.squeeze(output, [1])
    elif m.batch_first:
        output = g.op("Transpose", output, perm=[1, 0, 2])
    states = [_join(g, h_n, batched)] + ([_join(g, c_n, batched)] if is_lstm else [])
    return [output] + states


def _onnx_layer(g: GraphBuilder, m: Any, layer: int, dirs: int, seq: str, inits: list, dtype: Any) -> tuple:
    """One ONNX LSTM/GRU/RNN node: ``(output [seq, batch, dirs*hidden], h [dirs, batch, hidden], c or None)``."""
    is_lstm = m.mode == "LSTM"
    w, r, b = _layer_weights(g, m, layer, dirs, dtype)
    inputs = [seq, w, r, b, None, inits[0]] + ([inits[1]] if is_lstm else [])
    outs = g.op(_ONNX_TYPE[m.mode], *inputs, outputs=3 if is_lstm else 2, **_attrs(m, m.mode, dirs))
    y = outs[0]  # [seq, dirs, batch, hidden]
    if dirs == 1:
        y = g.squeeze(y, [1])
    else:  # [seq, batch, dirs * hidden]: forward and reverse halves side by side, as in PyTorch
        y = g.op("Reshape", g.op("Transpose", y, perm=[0, 2, 1, 3]), g.const(np.asarray([0, 0, -1], np.int64)))
    return y, outs[1], outs[2] if is_lstm else None


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
    """ONNX ``W``, ``R``, ``B`` of one layer of an ``nn.LSTM``/``GRU``/``RNN``."""
    return _weights(g, m, m.mode, dirs, dtype, lambda base, d: f"{base}_l{layer}{'_reverse' if d else ''}", layer)


def _weights(g: GraphBuilder, m: Any, mode: str, dirs: int, dtype: Any, attr: Any, layer: int = 0) -> tuple:
    """ONNX ``W [dirs, G*H, in]``, ``R [dirs, G*H, H]`` and ``B [dirs, 2*G*H]`` (None without bias) as
    constants, gates reordered; ``attr(base, direction)`` names the module's parameter."""
    hidden = m.hidden_size
    order = _GATE_ORDER[mode]

    def param(base: str, d: int) -> tuple:
        value = g.value_of(getattr(m, attr(base, d)))
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
    """Node attributes; ``m`` has ``hidden_size``."""
    attrs: dict = {"hidden_size": int(m.hidden_size), "direction": "bidirectional" if dirs == 2 else "forward"}
    if mode == "GRU":
        attrs["linear_before_reset"] = 1
    elif mode != "LSTM":
        attrs["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"] * dirs
    return attrs


def _join(g: GraphBuilder, states: list, batched: bool) -> str:
    """Per-layer ``[dirs, batch, hidden]`` final states stacked as PyTorch's ``[layers*dirs, batch, hidden]``."""
    out = _concat(g, states, 0)
    return out if batched else g.squeeze(out, [1])


# ----- single-step cells ------------------------------------------------------------------------------
@converter("module:LSTMCell", "module:GRUCell", "module:RNNCell")
def _cell(g: GraphBuilder, op: TracedOp) -> list:
    """One step as a length-1 ONNX recurrence (so ``hx=None`` needs no batch-sized zeros in the graph)."""
    m = op.fn
    mode = {"LSTMCell": "LSTM", "GRUCell": "GRU"}.get(type(m).__name__)
    if mode is None:
        mode = "RNN_RELU" if m.nonlinearity == "relu" else "RNN_TANH"
    x, hx = _call_args(op)
    is_lstm = mode == "LSTM"
    lead = [0] if len(x.shape) == 2 else [0, 1]  # [seq=1, batch, ...]; unbatched gets batch 1 too
    states = []
    if hx is not None:
        states = [g.unsqueeze(g.name(s), lead) for s in (tuple(hx) if is_lstm else (hx,))]
    w, r, b = _weights(g, m, mode, 1, op.outputs[0].dtype, lambda base, d: base)
    inputs = [g.unsqueeze(g.name(x), lead), w, r, b, None] + states
    outs = g.op(_ONNX_TYPE[mode], *inputs, outputs=3 if is_lstm else 2, **_attrs(m, mode, 1))
    squeeze = [0] if len(lead) == 1 else [0, 1]
    return [g.squeeze(o, squeeze) for o in outs[1 : 3 if is_lstm else 2]]


# ----- LSTM with projections: a Scan per direction ------------------------------------------------------------
def _projected_layer(g: GraphBuilder, m: Any, layer: int, dirs: int, seq: str, inits: list, dtype: Any) -> tuple:
    """``LSTM(proj_size=P)`` layer: ``(output [seq, batch, dirs*P], h [dirs, batch, P], c [dirs, batch, H])``."""
    ys, hs, cs = [], [], []
    for d in range(dirs):
        suffix = f"_l{layer}{'_reverse' if d else ''}"

        def param(base: str, suffix: str = suffix) -> np.ndarray:
            return np.asarray(to_numpy(g.value_of(getattr(m, base + suffix)).array)).astype(dtype)

        hint = g.value_of(getattr(m, "weight_ih" + suffix)).name
        xw = g.op("MatMul", seq, g.const(param("weight_ih").T, f"{hint}.T"))
        if m.bias:
            xw = g.op("Add", xw, g.const(param("bias_ih") + param("bias_hh"), f"{hint}.bias"))
        states = [_direction_state(g, inits[k], d, seq, size, dtype)
                  for k, size in enumerate((m.proj_size, m.hidden_size))]  # fmt: skip
        body = _projected_step(g, param("weight_hh").T, param("weight_hr").T, dtype, hint.replace("weight_ih", "step"))
        h, c, y = g.op("Scan", *states, xw, outputs=3, body=body, num_scan_inputs=1,
                       scan_input_directions=[d], scan_output_directions=[d])  # fmt: skip
        ys.append(y)
        hs.append(g.unsqueeze(h, [0]))
        cs.append(g.unsqueeze(c, [0]))
    return _concat(g, ys, 2), _concat(g, hs, 0), _concat(g, cs, 0)


def _concat(g: GraphBuilder, parts: list, axis: int) -> str:
    return parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=axis)


def _direction_state(g: GraphBuilder, state: str | None, d: int, seq: str, size: int, dtype: Any) -> str:
    """Direction ``d``'s ``[batch, size]`` initial state: row ``d`` of the given one, else zeros."""
    if state is not None:
        return g.squeeze(g.op("Gather", state, g.const(np.asarray([d], np.int64)), axis=0), [0])
    batch = g.op("Slice", g.op("Shape", seq), *(g.const(np.asarray([v], np.int64)) for v in (1, 2, 0)))
    shape = g.op("Concat", batch, g.const(np.asarray([size], np.int64)), axis=0)
    from onnx import numpy_helper

    return g.op("ConstantOfShape", shape, value=numpy_helper.from_array(np.zeros(1, dtype)))


def _projected_step(g: GraphBuilder, r_t: np.ndarray, hr_t: np.ndarray, dtype: Any, hint: str) -> Any:
    """The Scan body ``(h, c, xw_t) -> (h', c', h')``: gates ``xw_t + h R^T`` in PyTorch's order i, f, g, o;
    ``c' = f*c + i*g``, ``h' = (o * tanh(c')) W_hr^T``. Weights are outer-scope constants."""
    from onnx import helper

    hidden, proj = r_t.shape[1] // 4, r_t.shape[0]
    r, hr = g.const(r_t, f"{hint}.R.T"), g.const(hr_t, f"{hint}.W_hr.T")
    split = g.const(np.asarray([hidden] * 4, np.int64))
    p = g.unique(hint) + "/"
    nodes = []

    def node(op_type: str, *inputs: str, outputs: int = 1, **attrs: Any) -> Any:
        names = [f"{p}{op_type}_{len(nodes)}_{k}" for k in range(outputs)]
        nodes.append(helper.make_node(op_type, list(inputs), names, name=f"{p}{op_type}_{len(nodes)}", **attrs))
        return names[0] if outputs == 1 else names

    h_in, c_in, x_in = f"{p}h", f"{p}c", f"{p}xw"
    zi, zf, zg, zo = node("Split", node("Add", x_in, node("MatMul", h_in, r)), split, outputs=4, axis=1)
    c_out = node("Add", node("Mul", node("Sigmoid", zf), c_in), node("Mul", node("Sigmoid", zi), node("Tanh", zg)))
    h_new = node("MatMul", node("Mul", node("Sigmoid", zo), node("Tanh", c_out)), hr)
    h_out, y_out = node("Identity", h_new), node("Identity", h_new)
    elem = onnx_dtype(dtype)
    info = [helper.make_tensor_value_info(name, elem, [None, size])
            for name, size in ((h_in, proj), (c_in, hidden), (x_in, 4 * hidden))]  # fmt: skip
    outs = [helper.make_tensor_value_info(name, elem, [None, size])
            for name, size in ((h_out, proj), (c_out, hidden), (y_out, proj))]  # fmt: skip
    return helper.make_graph(nodes, p.rstrip("/"), info, outs)
