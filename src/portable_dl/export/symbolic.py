"""Sizes read from tensors while tracing: ints that remember how to compute themselves in the graph.

``x.shape[0]`` during export is a ``SymInt``: it behaves as the traced value (an ``int`` subclass), and its
``expr`` says where it came from (dimension ``d`` of a traced value) and what arithmetic was applied, so a
``view(x.shape[0], -1)`` exports as a reshape that follows the real batch size. Python code that turns it
into something else (``float``, ``range``, comparisons) gets the traced number, which the exporter's second
trace detects when that number changes the graph.
"""

from __future__ import annotations

from typing import Any


class SymInt(int):
    """An int plus ``expr``: ``("dim", value, d)`` or ``(op, a, b)`` / ``("neg", a)`` over SymInts and ints."""

    expr: tuple

    def __new__(cls, value: int, expr: tuple) -> SymInt:
        obj = int.__new__(cls, value)
        obj.expr = expr
        return obj

    def __repr__(self) -> str:
        return f"SymInt({int(self)})"

    def _binary(self, other: Any, op: str, value: int, reflected: bool = False) -> Any:
        if not isinstance(other, int) or isinstance(other, bool):
            return NotImplemented
        return SymInt(value, (op, other, self) if reflected else (op, self, other))

    def __add__(self, other: Any) -> Any:
        return self._binary(other, "add", int(self) + int(other)) if isinstance(other, int) else NotImplemented

    def __radd__(self, other: Any) -> Any:
        return self._binary(other, "add", int(other) + int(self), True) if isinstance(other, int) else NotImplemented

    def __sub__(self, other: Any) -> Any:
        return self._binary(other, "sub", int(self) - int(other)) if isinstance(other, int) else NotImplemented

    def __rsub__(self, other: Any) -> Any:
        return self._binary(other, "sub", int(other) - int(self), True) if isinstance(other, int) else NotImplemented

    def __mul__(self, other: Any) -> Any:
        return self._binary(other, "mul", int(self) * int(other)) if isinstance(other, int) else NotImplemented

    def __rmul__(self, other: Any) -> Any:
        return self._binary(other, "mul", int(other) * int(self), True) if isinstance(other, int) else NotImplemented

    def __floordiv__(self, other: Any) -> Any:
        return self._binary(other, "div", int(self) // int(other)) if isinstance(other, int) else NotImplemented

    def __rfloordiv__(self, other: Any) -> Any:
        return self._binary(other, "div", int(other) // int(self), True) if isinstance(other, int) else NotImplemented

    def __mod__(self, other: Any) -> Any:
        return self._binary(other, "mod", int(self) % int(other)) if isinstance(other, int) else NotImplemented

    def __neg__(self) -> SymInt:
        return SymInt(-int(self), ("neg", self))

    def __pos__(self) -> SymInt:
        return self


def is_symbolic(value: Any) -> bool:
    """Whether ``value`` (possibly a list/tuple) contains a SymInt."""
    if isinstance(value, SymInt):
        return True
    if isinstance(value, (list, tuple)):
        return any(is_symbolic(v) for v in value)
    return False


def leaves(value: Any) -> list:
    """The ``("dim", value, d)`` leaves a SymInt expression depends on."""
    if isinstance(value, SymInt):
        if value.expr[0] == "dim":
            return [value.expr]
        return [leaf for part in value.expr[1:] for leaf in leaves(part)]
    return []
