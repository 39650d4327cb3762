"""(placeholder: filled in by the nn work)"""

from __future__ import annotations

__all__: list[str] = []
