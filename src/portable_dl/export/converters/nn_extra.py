"""Converters: nn_extra (being written)."""
