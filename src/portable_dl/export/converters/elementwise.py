"""Converters: elementwise (being written)."""
