"""Build step of aap: the text classifiers of ``transforms/`` and the record checks and hashes of
``pipeline/schema.py`` are compiled to C extension modules with mypyc, from the same sources, which stay
importable as plain Python (see ``pipeline/compiled.py``). Compiled, they execute about a fifth fewer
instructions per record. A C compiler is needed; set ``AAP_PURE_PYTHON=1`` at install time to skip the compilation (and at run time to ignore a compiled build)."""

import hashlib
import json
import os
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
#: the hash of each compiled module's source, read by ``pipeline/compiled.py`` to tell a stale build
MANIFEST = HERE / "pipeline" / "_compiled_sources.json"

#: the modules that do the per-record work; the rest of the project is plain Python
COMPILED = [
    "transforms/text.py", "transforms/themes.py", "transforms/deadlines.py", "transforms/eligibility.py",
    "transforms/amounts.py", "transforms/calls.py", "transforms/labels.py", "transforms/perimeter.py",
    "transforms/normalize.py", "pipeline/schema.py",
]

# no record until the build succeeds: a failed build must not vouch for the modules of an older one
MANIFEST.unlink(missing_ok=True)
ext_modules = []
sources = {}
if not os.environ.get("AAP_PURE_PYTHON"):
    from mypyc.build import mypycify

    sources = {p.removesuffix(".py").replace("/", "."): hashlib.sha256((HERE / p).read_bytes()).hexdigest()
               for p in COMPILED}  # read before compiling: the record is of what was compiled
    ext_modules = mypycify(["--ignore-missing-imports", "--follow-imports=silent", *COMPILED], opt_level="3")

setup(ext_modules=ext_modules)
if sources:
    MANIFEST.write_text(json.dumps(sources, indent=1, sort_keys=True) + "\n", encoding="utf-8")
