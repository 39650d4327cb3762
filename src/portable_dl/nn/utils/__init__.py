"""``nn.utils``: gradient clipping and parameter/vector conversion."""

from __future__ import annotations
