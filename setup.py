"""Build step of aap: the text classifiers of ``transforms/`` and the record checks and hashes of
``pipeline/schema.py`` are compiled to C extension modules with mypyc, from the same sources, which stay
importable as plain Python (see ``pipeline/compiled.py``). Compiled, they execute about a fifth fewer
instructions per record. A C compiler is needed; set ``AAP_PURE_PYTHON=1`` at install time to skip the
compilation (and at run time to ignore a compiled build)."""

import hashlib
import json
import os
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
#: the hash of each compiled module's source, read by ``pipeline/compiled.py`` to tell a stale build
MANIFEST = HERE / "pipeline" / "_compiled_sources.json"

#: the modules that do the per-record work; the rest of the project is plain Python
COMPILED = [
    "transforms/text.py", "transforms/themes.py", "transforms/deadlines.py", "transforms/eligibility.py",
    "transforms/amounts.py", "transforms/calls.py", "transforms/labels.py", "transforms/perimeter.py",
    "transforms/normalize.py", "pipeline/schema.py",
]


class BuildExt(build_ext):
    """``build_ext`` that records the hash of each compiled source once the modules are built. A build
    that fails in the C compiler leaves no record; one that fails in mypyc's type check never gets here and
    leaves the older build's record, whose hashes no longer match the sources. Either way the older
    modules are not used."""

    sources: dict[str, str] = {}

    def run(self) -> None:
        MANIFEST.unlink(missing_ok=True)
        super().run()
        if self.sources:
            MANIFEST.write_text(json.dumps(self.sources, indent=1, sort_keys=True) + "\n", encoding="utf-8")


ext_modules = []
if os.environ.get("AAP_PURE_PYTHON"):
    MANIFEST.unlink(missing_ok=True)
else:
    from mypyc.build import mypycify

    # read before compiling: the record is of what was compiled
    BuildExt.sources = {p.removesuffix(".py").replace("/", "."): hashlib.sha256((HERE / p).read_bytes())
                        .hexdigest() for p in COMPILED}
    ext_modules = mypycify(["--ignore-missing-imports", "--follow-imports=silent", *COMPILED], opt_level="3")

setup(ext_modules=ext_modules, cmdclass={"build_ext": BuildExt})
