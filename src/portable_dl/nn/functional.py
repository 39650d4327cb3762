"""``portable_dl.nn.functional``: the functional forms of layers, activations and losses."""

from __future__ import annotations

from ..ops import functional_namespace

globals().update(functional_namespace())
__all__ = sorted(functional_namespace())
