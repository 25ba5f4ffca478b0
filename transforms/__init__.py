"""Transforms: pure functions turning a raw spider item into a record (see ``normalize.to_record``).

Every function here is deterministic: the run date ("as of", "now") is always passed in.

The installation compiles the text classifiers with mypyc (``setup.py``); the same modules stay plain
Python. The compiled modules are used only when every one of them was built from its source as it is now
(``setup.py`` records the hash of each source in ``_compiled_sources.json``) and ``AAP_PURE_PYTHON`` is not
set; otherwise all of them are imported from their sources (compiled modules call each other directly, so
one stale module would run old code through the others). ``IMPLEMENTATION`` says which ran.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _compiled() -> dict[str, Path]:
    """``{module name: compiled file}`` of the modules of this package that have a compiled build."""
    out: dict[str, Path] = {}
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for path in _HERE.glob(f"*{suffix}"):
            name = path.name[: -len(suffix)]
            if (_HERE / f"{name}.py").is_file():
                out[name] = path
    return out


def stale_modules(compiled: dict[str, Path]) -> list[str]:
    """The compiled modules that were not built from their source as it is now (all of them when the
    build's record of its sources is missing)."""
    try:
        built = json.loads((_HERE / "_compiled_sources.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        built = {}
    return sorted(n for n in compiled
                  if built.get(n) != hashlib.sha256((_HERE / f"{n}.py").read_bytes()).hexdigest())


class _FromSource(importlib.abc.MetaPathFinder):
    """Imports the named modules of this package from their ``.py`` files."""

    def __init__(self, names: set[str]):
        self.names = names

    def find_spec(self, fullname: str, path: object = None, target: object = None):
        package, _, name = fullname.rpartition(".")
        if package != __name__ or name not in self.names:
            return None
        return importlib.util.spec_from_file_location(fullname, _HERE / f"{name}.py")


def _choose() -> str:
    compiled = _compiled()
    if not compiled:
        return "pure Python"
    stale = stale_modules(compiled)
    if os.environ.get("AAP_PURE_PYTHON"):
        reason = None
    elif stale:
        reason = (f"the compiled {', '.join(stale)} {'was' if len(stale) == 1 else 'were'} not built from the "
                  "current source; reinstall (make install) to compile again")
    else:
        return "compiled (mypyc)"
    sys.meta_path.insert(0, _FromSource(set(compiled)))
    if reason:
        warnings.warn(f"transforms run as pure Python: {reason}", stacklevel=2)
    return "pure Python"


#: "compiled (mypyc)" or "pure Python": which code the transforms of this process run
IMPLEMENTATION = _choose()
