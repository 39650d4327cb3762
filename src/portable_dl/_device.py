"""``portable_dl.device``: where a tensor lives ("cpu" or "cuda[:N]"), spelled as in PyTorch."""

from __future__ import annotations


class device:  # noqa: N801 - torch spells it lower case
    """A device type plus an optional index, e.g. ``device("cuda:1")``."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {type!r}")
        kind, _, number = type.partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"unknown device type {kind!r} in {type!r}; valid types are 'cpu' and 'cuda'")
        if number:
            if index is not None:
                raise RuntimeError(f"device: index given twice in {type!r} and index={index}")
            if not number.isdigit():
                raise RuntimeError(f"device: invalid index {number!r} in {type!r}")
            index = int(number)
        if kind == "cpu" and index not in (None, 0):
            raise RuntimeError(f"device: cpu has no index {index}")
        self.type, self.index = kind, index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))
