"""Converters: recurrent (being written)."""
