"""Unary math functions with a direct ONNX operator or a short formula (arithmetic on tensors, Relu, Sign,
Floor/Ceil/Round with their dtype rules are in elementwise.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..graph import GraphBuilder
from ..registry import converter
from ..tracer import TracedOp
from ._util import operand, out_dtype

_SAME_NAME = {
    "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Sin": "Sin", "Cos": "Cos", "Tanh": "Tanh", "Sigmoid": "Sigmoid",
    "Reciprocal": "Reciprocal", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan", "Sinh": "Sinh", "Cosh": "Cosh",
    "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh", "Abs": "Abs",
    "Erf": "Erf",
}  # fmt: skip


def _unary(onnx_op: str) -> Any:
    def convert(g: GraphBuilder, op: TracedOp) -> str:
        return g.op(onnx_op, operand(g, op.args[0], out_dtype(op)))

    return convert


for _kind, _onnx in _SAME_NAME.items():
    converter(_kind)(_unary(_onnx))


@converter("Rsqrt")
def _rsqrt(g: GraphBuilder, op: TracedOp) -> str:
    return g.op("Reciprocal", g.op("Sqrt", operand(g, op.args[0], out_dtype(op))))


def _log_base(base: float) -> Any:
    def convert(g: GraphBuilder, op: TracedOp) -> str:
        dt = out_dtype(op)
        return g.op("Div", g.op("Log", operand(g, op.args[0], dt)), g.scalar(math.log(base), dt))

    return convert


converter("Log2")(_log_base(2.0))
converter("Log10")(_log_base(10.0))


@converter("Log1P")
def _log1p(g: GraphBuilder, op: TracedOp) -> str:
    dt = out_dtype(op)
    return g.op("Log", g.op("Add", operand(g, op.args[0], dt), g.scalar(1, dt)))


@converter("Expm1")
def _expm1(g: GraphBuilder, op: TracedOp) -> str:
    dt = out_dtype(op)
    return g.op("Sub", g.op("Exp", operand(g, op.args[0], dt)), g.scalar(1, dt))


@converter("Exp2")
def _exp2(g: GraphBuilder, op: TracedOp) -> str:
    dt = out_dtype(op)
    return g.op("Pow", g.scalar(2, dt), operand(g, op.args[0], dt))


@converter("Trunc")
def _trunc(g: GraphBuilder, op: TracedOp) -> str:
    dt = out_dtype(op)
    x = operand(g, op.args[0], dt)
    if np.dtype(dt).kind != "f":
        return g.op("Identity", x)
    return g.op("Mul", g.op("Sign", x), g.op("Floor", g.op("Abs", x)))


@converter("Frac")
def _frac(g: GraphBuilder, op: TracedOp) -> str:
    dt = out_dtype(op)
    x = operand(g, op.args[0], dt)
    return g.op("Sub", x, g.op("Mul", g.op("Sign", x), g.op("Floor", g.op("Abs", x))))
