"""``ReduceOp``: how ``all_reduce`` combines the ranks' values (torch.distributed's names)."""

from __future__ import annotations

from enum import Enum


class ReduceOp(Enum):
    """SUM, AVG (floating point only), PRODUCT, MIN, MAX, and the bitwise BAND/BOR/BXOR (integers only)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self) -> str:
        return f"<ReduceOp.{self.name}>"
