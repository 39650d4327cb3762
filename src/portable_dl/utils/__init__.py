"""``portable_dl.utils``: data loading."""
