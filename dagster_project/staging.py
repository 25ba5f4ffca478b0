"""Where the Dagster assets stage their files under the data folder, and how they read and write them.

Nothing is passed in memory between assets: each step reads the files the previous one wrote, so a step
can be re-run alone (from the UI or a backfill) and a failed run leaves its inputs on disk to inspect.

``<data>/raw/<source>.jsonl``             raw items of the last crawl (written by the crawl process)
``<data>/raw/<source>.stats.json``        its :class:`pipeline.crawl.CrawlResult`
``<data>/staged/<source>.records.jsonl``  records after the transforms
``<data>/staged/<source>.rejected.jsonl`` items the transforms rejected, with the reason
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from pipeline.settings import Paths
from spiders.registry import all_spiders

#: one partition per source slug, in the registry's order (level, then name)
SOURCES = dg.StaticPartitionsDefinition(list(all_spiders()))
#: the concurrency pool of every step that opens the DuckDB warehouse (limit 1 in dagster.yaml)
DUCKDB_POOL = "duckdb_writer"


@dataclass(frozen=True)
class SourceFiles:
    """The staged files of one source."""

    raw: Path
    crawl: Path
    records: Path
    rejected: Path

    @classmethod
    def of(cls, paths: Paths, source: str) -> SourceFiles:
        staged = paths.data_dir / "staged"
        return cls(raw=paths.raw_dir / f"{source}.jsonl", crawl=paths.raw_dir / f"{source}.stats.json",
                   records=staged / f"{source}.records.jsonl", rejected=staged / f"{source}.rejected.jsonl")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def write_json(path: Path, obj: Any) -> Path:
    """Write ``obj`` as JSON through a temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1, default=_json_default), encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write ``rows`` as JSON Lines (atomic rename); returns the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def read_jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a JSONL file this module wrote (missing file: none)."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def top_reasons(rejected: Iterable[dict[str, Any]], n: int = 5) -> list[tuple[str, int]]:
    """The most frequent rejection reasons, with the variable part (ids, line numbers) cut off."""
    counts = Counter(_reason_kind(str(r.get("reason") or "")) for r in rejected)
    return counts.most_common(n)


def _reason_kind(reason: str) -> str:
    for sep in (" (line", ": line", " in this harvest"):
        reason = reason.split(sep, 1)[0]
    if reason.startswith("duplicate id "):
        return "duplicate id"
    return reason[:160]


def markdown_table(rows: list[dict[str, Any]], columns: Iterable[str], limit: int = 10) -> str:
    """A markdown table of the first ``limit`` rows (cells shortened, pipes escaped)."""
    cols = list(columns)

    def cell(value: Any) -> str:
        text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else "" if value is None else str(value)
        text = " ".join(text.split()).replace("|", "\\|")
        return text if len(text) <= 80 else text[:79] + "…"

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows[:limit]]
    return "\n".join(lines)
