"""``aap eval``: run the labelled corpus through ``classify_line`` and score it field by field.

Corpus files are JSON lines in ``tests/corpus/*.jsonl``; each line is
``{"case": "...", "input": {<aap classify input>}, "expect": {...}}``. Expected keys (all optional, a case
is scored only on the fields it labels):

* ``deadline_kind`` and ``deadlines`` — scored together as field ``deadline`` (kind and every date right);
* ``status``, ``opens_on``;
* ``ccas_eligibility`` — field ``eligibility`` (also tallied in the confusion matrix);
* ``primary_theme`` — the first of ``themes`` (``null`` when no theme is expected);
* ``is_call_for_projects``;
* ``amount_min`` and ``amount_max`` — scored together as field ``amounts``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import schema
from transforms.classify import classify_line

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"
FIELDS = ("deadline", "status", "opens_on", "eligibility", "primary_theme", "is_call_for_projects", "amounts")


@dataclass
class Failure:
    case: str
    field: str
    expected: object
    got: object


@dataclass
class Report:
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    correct: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    cases: int = 0

    def accuracy(self, name: str) -> float | None:
        return self.correct[name] / self.totals[name] if self.totals[name] else None


def load_corpus(path: Path = DEFAULT_CORPUS) -> list[dict]:
    """Every case of a corpus directory (or one file); raises ValueError naming a malformed line."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    cases = []
    for f in files:
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                case = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{f.name}:{n}: invalid JSON: {exc}") from exc
            if not isinstance(case, dict) or "input" not in case or "expect" not in case:
                raise ValueError(f"{f.name}:{n}: a case needs 'input' and 'expect'")
            case.setdefault("case", f"{f.stem}:{n}")
            cases.append(case)
    return cases


def _pairs(expect: dict, got: dict) -> list[tuple[str, object, object]]:
    out = []
    if "deadline_kind" in expect or "deadlines" in expect:
        exp = (expect.get("deadline_kind", got.get("deadline_kind")), sorted(expect.get("deadlines", [])))
        out.append(("deadline", exp, (got.get("deadline_kind"), sorted(got.get("deadlines") or []))))
    for key, name in (("status", "status"), ("opens_on", "opens_on"), ("ccas_eligibility", "eligibility"),
                      ("is_call_for_projects", "is_call_for_projects")):
        if key in expect:
            out.append((name, expect[key], got.get(key)))
    if "primary_theme" in expect:
        themes = got.get("themes") or []
        out.append(("primary_theme", expect["primary_theme"], themes[0] if themes else None))
    if "amount_min" in expect or "amount_max" in expect:
        exp = (expect.get("amount_min"), expect.get("amount_max"))
        out.append(("amounts", exp, (got.get("amount_min"), got.get("amount_max"))))
    return out


def evaluate(cases: list[dict]) -> Report:
    report = Report()
    for case in cases:
        report.cases += 1
        got = classify_line(case["input"])
        if "error" in got:
            got = {}
        for name, exp, value in _pairs(case["expect"], got):
            report.totals[name] += 1
            if exp == value:
                report.correct[name] += 1
            else:
                report.failures.append(Failure(case["case"], name, exp, value))
            if name == "eligibility":
                key = (str(exp), str(value))
                report.confusion[key] = report.confusion.get(key, 0) + 1
    return report


def format_report(report: Report, *, show_failures: bool = False) -> str:
    lines = [f"corpus: {report.cases} cases", "", f"{'field':<22}{'cases':>7}{'correct':>9}{'accuracy':>10}"]
    for name in FIELDS:
        acc = report.accuracy(name)
        if acc is None:
            continue
        lines.append(f"{name:<22}{report.totals[name]:>7}{report.correct[name]:>9}{acc:>10.1%}")
    classes = list(schema.CCAS_CLASSES)
    lines += ["", "eligibility confusion (rows: expected, columns: predicted)",
              f"{'':<14}" + "".join(f"{c[:12]:>13}" for c in classes)]
    for exp in classes:
        row = "".join(f"{report.confusion.get((exp, got), 0):>13}" for got in classes)
        lines.append(f"{exp:<14}{row}")
    if show_failures and report.failures:
        lines += ["", "failures:"]
        lines += [f"  {f.case} [{f.field}] expected {f.expected!r}, got {f.got!r}" for f in report.failures]
    return "\n".join(lines)
