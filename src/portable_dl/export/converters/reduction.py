"""Converters: reduction (being written)."""
