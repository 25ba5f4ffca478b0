"""Exports of the warehouse: one module per format, each with ``write(digest, path) -> Path``."""
