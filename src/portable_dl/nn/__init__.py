"""Neural-network building blocks. For now: ``portable_dl.nn.functional`` (Modules come next)."""

from __future__ import annotations

from . import functional

__all__ = ["functional"]
