"""The compiled build of the transforms and record checks (setup.py, mypyc) gives the same results as their
sources, and a build older than its sources is never used."""

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import transforms
from pipeline import compiled
from transforms.classify import benchmark_records, classify_line
from transforms.evaluate import DEFAULT_CORPUS, load_corpus

ROOT = compiled.ROOT
COMPILED = compiled.compiled_modules()
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


#: full records (hashes and the storage check included) of raw items made from the corpus, and the
#: storage check's verdict on records broken in each way it checks
_RECORDS = """
import json
from datetime import date
import transforms
from pipeline import schema
from transforms.classify import benchmark_records
from transforms.evaluate import DEFAULT_CORPUS, load_corpus
from transforms.normalize import to_record
inputs = [c["input"] for c in load_corpus(DEFAULT_CORPUS)]
meta = {"source_level": "regional", "funder": "Région Bretagne", "perimeter": None}
print(transforms.IMPLEMENTATION)
for i, o in enumerate(inputs + benchmark_records(inputs, 300)):
    item = {"source": "bretagne", "url": f"https://www.bretagne.bzh/aides/fiches/{i}/", "native_id": None,
            "fetched_at": "2026-11-23T06:00:00+00:00", "title": o.get("title") or "Appel",
            "summary": o.get("summary"), "description": o.get("description"),
            "eligibility_text": o.get("eligibility"), "deadline_text": o.get("deadline_text"),
            "theme_labels": o.get("source_tags")}
    rec = to_record(item, meta, date(2026, 11, 25))
    print(json.dumps(rec, ensure_ascii=False, sort_keys=True))
    for broken in ({"amount_min": 9.0, "amount_max": 1}, {"status": "ouvert"}, {"themes": ["x"]},
                   {"deadlines": ["2026-02-30"]}, {"content_hash": "z" * 32}, {"url": "ftp://x"},
                   {"is_call_for_projects": 1}, {"raw": "x"}, {"title": ""}):
        print(schema.record_problem({**rec, **broken}))
"""


def _run(code: str, *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=True, timeout=600)
    return done.stdout.splitlines() + [f"stderr: {line}" for line in done.stderr.splitlines()]


@needs_build
def test_compiled_build_is_the_one_in_use():
    assert not compiled.stale_modules(COMPILED), "run make install: the compiled transforms are stale"
    assert transforms.IMPLEMENTATION == "compiled (mypyc)"
    assert {f"transforms.{m}" for m in ("text", "deadlines", "eligibility", "themes", "normalize")} \
        | {"pipeline.schema"} <= set(COMPILED)
    from pipeline import schema
    from transforms import text

    assert not schema.__file__.endswith(".py") and not text.__file__.endswith(".py")


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
def test_compiled_and_pure_python_records_agree():
    compiled_out = _run(_RECORDS)
    pure = _run(_RECORDS, env={"AAP_PURE_PYTHON": "1"})
    assert compiled_out[0] == "compiled (mypyc)" and pure[0] == "pure Python"
    assert len(compiled_out) == len(pure) > 5000
    differing = [(a, b) for a, b in zip(compiled_out[1:], pure[1:], strict=True) if a != b]
    assert not differing, differing[:3]
    assert sum(line == "None" for line in pure) < len(pure) // 10  # the broken records are refused


@needs_build
@pytest.mark.parametrize("edited", ["transforms/text.py", "pipeline/schema.py"])
def test_a_stale_build_is_not_used(tmp_path: Path, edited: str):
    """A source edited after the build (or a build without its record of sources): every module of the
    group, in both packages, comes from its source, with a warning."""
    for package in ("transforms", "pipeline"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    for runtime in ROOT.glob("*__mypyc*"):
        shutil.copy2(runtime, tmp_path / runtime.name)
    probe = ("import transforms, transforms.themes as t, pipeline.schema as s; "
             "print(transforms.IMPLEMENTATION, t.__file__.endswith('.py'), s.__file__.endswith('.py'))")
    env = {"PYTHONPATH": str(tmp_path), "AAP_PURE_PYTHON": ""}
    assert _run(probe, env=env, cwd=tmp_path)[0] == "compiled (mypyc) False False"
    source = tmp_path / edited
    original = source.read_text(encoding="utf-8")
    source.write_text(original + "\n# edited after the build\n", encoding="utf-8")
    out = _run(probe, env=env, cwd=tmp_path)
    assert out[0] == "pure Python True True"
    name = Path(edited).stem
    assert any(f"compiled {name} was not built from the current source" in line for line in out[1:])
    # importing the pipeline package alone makes the same choice, before its schema can load
    assert _run("import pipeline.schema as s; print(s.__file__.endswith('.py'))", env=env, cwd=tmp_path)[0] \
        == "True"
    (tmp_path / "pipeline" / "_compiled_sources.json").unlink()  # a build without its record is not trusted
    source.write_text(original, encoding="utf-8")
    assert _run(probe, env=env, cwd=tmp_path)[0] == "pure Python True True"
