"""The compiled build of the transforms (setup.py, mypyc) gives the same results as their sources, and a
build older than its sources is never used."""

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import transforms
from transforms.classify import benchmark_records, classify_line
from transforms.evaluate import DEFAULT_CORPUS, load_corpus

ROOT = Path(transforms.__file__).resolve().parent.parent
COMPILED = transforms._compiled()
needs_build = pytest.mark.skipif(not COMPILED, reason="no compiled build (installed with AAP_PURE_PYTHON=1)")

_CLASSIFY = """
import json, sys
from datetime import date
import transforms
from transforms.classify import benchmark_records, classify_line
from transforms.evaluate import DEFAULT_CORPUS, load_corpus
inputs = [c["input"] for c in load_corpus(DEFAULT_CORPUS)]
objs = inputs + benchmark_records(inputs, int(sys.argv[1]))
print(transforms.IMPLEMENTATION)
for as_of in (date(2026, 11, 25), date(2025, 3, 1)):
    for o in objs:
        print(json.dumps(classify_line(o, default_as_of=as_of), ensure_ascii=False, sort_keys=True))
"""


def _run(code: str, *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=True, timeout=600)
    return done.stdout.splitlines() + [f"stderr: {line}" for line in done.stderr.splitlines()]


@needs_build
def test_compiled_build_is_the_one_in_use():
    assert not transforms.stale_modules(COMPILED), "run make install: the compiled transforms are stale"
    assert transforms.IMPLEMENTATION == "compiled (mypyc)"
    assert {"text", "deadlines", "eligibility", "themes", "normalize"} <= set(COMPILED)


@needs_build
def test_compiled_and_pure_python_agree():
    compiled = _run(_CLASSIFY, "2000")
    pure = _run(_CLASSIFY, "2000", env={"AAP_PURE_PYTHON": "1"})
    assert compiled[0] == "compiled (mypyc)" and pure[0] == "pure Python"
    assert len(compiled) == len(pure) > 4000
    differing = [(a, b) for a, b in zip(compiled[1:], pure[1:], strict=True) if a != b]
    assert not differing, differing[:3]
    # the same process-local results too (this test process runs the compiled build)
    inputs = [c["input"] for c in load_corpus(DEFAULT_CORPUS)]
    here = [json.dumps(classify_line(o, default_as_of=date(2026, 11, 25)), ensure_ascii=False, sort_keys=True)
            for o in inputs + benchmark_records(inputs, 2000)]
    assert here == compiled[1:1 + len(here)]


@needs_build
def test_a_stale_build_is_not_used(tmp_path: Path):
    """A source edited after the build (or a build without its record of sources): every module comes
    from its source, with a warning."""
    copy = tmp_path / "transforms"
    shutil.copytree(ROOT / "transforms", copy, ignore=shutil.ignore_patterns("__pycache__"))
    for runtime in ROOT.glob("*__mypyc*"):
        shutil.copy2(runtime, tmp_path / runtime.name)
    probe = ("import transforms, transforms.themes as t, transforms.text as x; "
             "print(transforms.IMPLEMENTATION, t.__file__.endswith('.py'), x.__file__.endswith('.py'))")
    env = {"PYTHONPATH": str(tmp_path), "AAP_PURE_PYTHON": ""}
    assert _run(probe, env=env, cwd=tmp_path)[0] == "compiled (mypyc) False False"
    text_py = copy / "text.py"
    text_py.write_text(text_py.read_text(encoding="utf-8") + "\n# edited after the build\n", encoding="utf-8")
    out = _run(probe, env=env, cwd=tmp_path)
    assert out[0] == "pure Python True True"
    assert any("compiled text was not built from the current source" in line for line in out[1:])
    (copy / "_compiled_sources.json").unlink()  # a build that did not record its sources is not trusted
    text_py.write_text(text_py.read_text(encoding="utf-8").removesuffix("\n# edited after the build\n"),
                       encoding="utf-8")
    assert _run(probe, env=env, cwd=tmp_path)[0] == "pure Python True True"
