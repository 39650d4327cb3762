"""(placeholder: filled in by the op library work)"""

from __future__ import annotations

__all__: list[str] = []
FUNCTIONAL: list[str] = []
TENSOR_METHODS: dict = {}
