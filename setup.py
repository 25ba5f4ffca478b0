"""Build step of aap: the text classifiers of ``transforms/`` are compiled to C extension modules with
mypyc, from the same sources, which stay importable as plain Python (see ``transforms/__init__.py``).
Compiled, they execute about a fifth fewer instructions per record. A C compiler is needed; set
``AAP_PURE_PYTHON=1`` at install time to skip the compilation (and at run time to ignore a compiled build)."""

import hashlib
import json
import os
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
#: the hash of each compiled module's source, read by ``transforms/__init__.py`` to tell a stale build
MANIFEST = HERE / "transforms" / "_compiled_sources.json"

#: the modules that do the per-record text work; the rest of the project is plain Python
COMPILED = [
    "transforms/text.py", "transforms/themes.py", "transforms/deadlines.py", "transforms/eligibility.py",
    "transforms/amounts.py", "transforms/calls.py", "transforms/labels.py", "transforms/perimeter.py",
    "transforms/normalize.py",
]

ext_modules = []
if os.environ.get("AAP_PURE_PYTHON"):
    MANIFEST.unlink(missing_ok=True)
else:
    from mypyc.build import mypycify

    MANIFEST.write_text(json.dumps({Path(p).stem: hashlib.sha256((HERE / p).read_bytes()).hexdigest()
                                    for p in COMPILED}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    ext_modules = mypycify(["--ignore-missing-imports", "--follow-imports=silent", *COMPILED], opt_level="3")

setup(ext_modules=ext_modules)
