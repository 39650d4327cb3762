"""Converters: attention (being written)."""
