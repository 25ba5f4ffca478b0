"""Transforms: pure functions turning a raw spider item into a record (see ``normalize.to_record``).

Every function here is deterministic: the run date ("as of", "now") is always passed in.

The installation compiles the text classifiers with mypyc (``setup.py``); the same modules stay plain
Python. ``pipeline.compiled`` chooses, before any of them is imported, whether the compiled build or the
sources run; ``IMPLEMENTATION`` says which.
"""

from __future__ import annotations

from pipeline.compiled import IMPLEMENTATION

__all__ = ["IMPLEMENTATION"]
