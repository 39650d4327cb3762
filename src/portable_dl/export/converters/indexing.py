"""Converters: indexing (being written)."""
