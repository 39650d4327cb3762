"""Converter modules; importing this package registers them all."""

from . import arithmetic, attention, elementwise, indexing, layers, losses, misc, nn_extra, recurrent, reduction, shape  # noqa: F401
