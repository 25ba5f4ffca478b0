"""Which build of the per-record code runs: the modules compiled with mypyc (``setup.py``), or their sources.

The install compiles the text classifiers of ``transforms/`` and the record checks and hashes of
``pipeline/schema.py`` into one group of C extension modules; the sources stay importable as plain
Python. The compiled modules are used only when every one of them was built from its source as it is now
(``setup.py`` records the hash of each source in ``_compiled_sources.json``) and ``AAP_PURE_PYTHON`` is
not set; otherwise all of them are imported from their sources (compiled modules of a group call each
other directly, so one stale module would run old code through the others).

The choice is made once, when the ``pipeline`` or the ``transforms`` package is first imported (both
import this module before any of their own), so that no compiled module can load before it.
``IMPLEMENTATION`` says which build runs.
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

ROOT = Path(__file__).resolve().parent.parent
#: the packages that hold compiled modules
PACKAGES = ("transforms", "pipeline")
#: the build's record of the source it compiled each module from (written by ``setup.py``)
MANIFEST = ROOT / "pipeline" / "_compiled_sources.json"


def source_of(module: str) -> Path:
    """The ``.py`` file of a dotted module name (``"transforms.text"`` → ``transforms/text.py``)."""
    return ROOT.joinpath(*module.split(".")).with_suffix(".py")


def compiled_modules() -> dict[str, Path]:
    """``{dotted module name: compiled file}`` of the modules that have a compiled build."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            for path in (ROOT / package).glob(f"*{suffix}"):
                name = f"{package}.{path.name[: -len(suffix)]}"
                if source_of(name).is_file():
                    out[name] = path
    return out


def stale_modules(compiled: dict[str, Path]) -> list[str]:
    """The compiled modules that were not built from their source as it is now (all of them when the
    build's record of its sources is missing)."""
    try:
        built = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        built = {}
    return sorted(n for n in compiled if built.get(n) != hashlib.sha256(source_of(n).read_bytes()).hexdigest())


class _FromSource(importlib.abc.MetaPathFinder):
    """Imports the named modules from their ``.py`` files."""

    def __init__(self, names: set[str]):
        self.names = names

    def find_spec(self, fullname: str, path: object = None, target: object = None):
        if fullname not in self.names:
            return None
        return importlib.util.spec_from_file_location(fullname, source_of(fullname))


def _choose() -> str:
    compiled = compiled_modules()
    if not compiled:
        return "pure Python"
    stale = stale_modules(compiled)
    if os.environ.get("AAP_PURE_PYTHON"):
        reason = None
    elif stale:
        short = [n.rpartition(".")[2] for n in stale]
        reason = (f"the compiled {', '.join(short)} {'was' if len(stale) == 1 else 'were'} not built from the "
                  "current source; reinstall (make install) to compile again")
    else:
        return "compiled (mypyc)"
    sys.meta_path.insert(0, _FromSource(set(compiled)))
    if reason:
        warnings.warn(f"transforms run as pure Python: {reason}", stacklevel=2)
    return "pure Python"


#: "compiled (mypyc)" or "pure Python": which code the transforms and record checks of this process run
IMPLEMENTATION = _choose()
