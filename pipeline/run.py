"""A harvest, end to end: crawl every source (one OS process each) → raw JSONL → transforms →
one warehouse transaction → read-only snapshot → weekly exports.

A failing source never stops the others: its crawl is recorded as failed in ``harvest_runs``, its stored
calls are left untouched, and it does not count toward making calls ``withdrawn``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipeline.crawl import CrawlResult, run_crawl
from pipeline.schema import ValidationError
from pipeline.settings import TIMEZONE, Paths

#: default export formats written at the end of every harvest
DEFAULT_EXPORTS = ("html", "md", "csv", "json", "ics", "atom")
#: a demo value for the Aides-territoires token; the fixture portal only checks that one is sent
DEMO_AT_TOKEN = "demo-token-not-a-secret"


@dataclass
class SourceOutcome:
    """Everything one source did in one harvest."""

    source: str
    crawl: CrawlResult
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)
    rejected: list[dict[str, Any]] = field(default_factory=list, repr=False)
    load: Any = None  # warehouse.load.LoadStats
    transform_s: float = 0.0


@dataclass
class HarvestReport:
    run_id: str
    now: datetime
    outcomes: dict[str, SourceOutcome]
    paths: Paths
    exports: list[Path] = field(default_factory=list)
    export_errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(o.crawl.ok for o in self.outcomes.values())

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for name, o in self.outcomes.items():
            ld = o.load
            out.append({
                "source": name, "status": "ok" if o.crawl.ok else "FAILED",
                "items": o.crawl.items, "new": getattr(ld, "new", 0), "updated": getattr(ld, "updated", 0),
                "unchanged": getattr(ld, "unchanged", 0), "withdrawn": getattr(ld, "withdrawn", 0),
                "rejected": len(o.rejected), "errors": len(o.crawl.errors) + (0 if o.crawl.ok else 1 if
                                                                                not o.crawl.errors else 0),
                "seconds": round(o.crawl.duration_s + o.transform_s, 1),
                "reason": o.crawl.reason,
            })
        return out

    def table(self) -> str:
        cols = ("source", "status", "items", "new", "updated", "unchanged", "withdrawn", "rejected", "errors",
                "seconds")
        rows = self.rows()
        widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) if rows else len(c) for c in cols}
        line = "  ".join(c.ljust(widths[c]) if c in ("source", "status") else c.rjust(widths[c]) for c in cols)
        out = [line, "-" * len(line)]
        for r in rows:
            out.append("  ".join(str(r[c]).ljust(widths[c]) if c in ("source", "status")
                                 else str(r[c]).rjust(widths[c]) for c in cols))
        total = {c: sum(r[c] for r in rows) for c in cols[2:]}
        out.append("-" * len(line))
        out.append("  ".join(("TOTAL".ljust(widths["source"]), "".ljust(widths["status"]),
                              *(str(round(total[c], 1)).rjust(widths[c]) for c in cols[2:]))))
        for r in rows:
            if r["reason"]:
                out.append(f"  ! {r['source']}: {r['reason']}")
        return "\n".join(out)


# --- transforms stage ----------------------------------------------------------------------------

def source_meta(source: str) -> dict[str, Any]:
    from spiders.registry import get_spider

    cls = get_spider(source)
    return {"source_level": cls.source_level, "funder": cls.funder, "perimeter": dict(cls.perimeter),
            "platform": cls.platform}


def read_jsonl(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """Yield (line number, parsed object or None, error) for each non-empty line; never raises on bad JSON."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line), None
            except json.JSONDecodeError as exc:
                yield n, None, f"line {n}: invalid JSON ({exc.msg})"


def transform_items(source: str, items: Iterable[tuple[int, Any, str | None]], as_of: date
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Raw items → (records, rejected). Every failure is kept with its reason, never raised."""
    from transforms.normalize import to_record

    meta = source_meta(source)
    records: dict[str, dict[str, Any]] = {}
    rejected: list[dict[str, Any]] = []
    for n, item, error in items:
        if error is not None:
            rejected.append({"source": source, "native_id": None, "url": None, "reason": error,
                             "raw": None})
            continue
        base = {"source": source, "native_id": _get(item, "native_id"), "url": _get(item, "url"), "raw": item}
        try:
            rec = to_record(item, meta, as_of)
        except ValidationError as exc:
            rejected.append({**base, "reason": f"invalid: {exc}"})
            continue
        except Exception as exc:  # a transform bug must not lose the item nor stop the harvest
            rejected.append({**base, "reason": f"transform error: {type(exc).__name__}: {exc}"})
            continue
        if rec["id"] in records:
            rejected.append({**base, "reason": f"duplicate id {rec['id']} in this harvest (line {n})"})
            continue
        records[rec["id"]] = rec
    return list(records.values()), rejected


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else None


# --- the harvest ---------------------------------------------------------------------------------

def harvest(sources: Iterable[str] | None, *, paths: Paths, now: datetime,
            base_url_for: Callable[[str], str | None] = lambda s: None,
            crawl_settings: dict[str, Any] | None = None, parallel: int = 2,
            export_formats: Iterable[str] = DEFAULT_EXPORTS, crawl_env: dict[str, str] | None = None,
            progress: Callable[[str], None] | None = None) -> HarvestReport:
    """Run the whole pipeline for ``sources`` (all when None) and return the report."""
    from spiders.registry import all_spiders
    from warehouse.load import SourceBatch, load_harvest
    from warehouse.snapshot import publish

    say = progress or (lambda msg: None)
    names = list(sources or all_spiders())
    for name in names:
        if name not in all_spiders():
            raise KeyError(f"unknown source {name!r}; `aap sources` lists them")
    paths.ensure()
    run_id = now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    report = HarvestReport(run_id=run_id, now=now, outcomes={}, paths=paths)

    t0 = time.monotonic()
    as_of = now.astimezone(TIMEZONE).date()

    def crawl_and_transform(name: str) -> SourceOutcome:
        """Crawl in a child process, then transform at once: a source's transforms overlap the other
        sources' crawls instead of waiting for the slowest one."""
        res = run_crawl(name, paths.raw_dir / f"{name}.jsonl", base_url=base_url_for(name),
                        settings=crawl_settings, env=crawl_env)
        say(f"crawled {name}: {res.items} items{'' if res.ok else ' — FAILED: ' + res.reason}")
        ts = time.monotonic()
        records, rejected = transform_items(name, read_jsonl(Path(res.out or paths.raw_dir / f"{name}.jsonl")),
                                            as_of)
        return SourceOutcome(name, res, records, rejected, transform_s=time.monotonic() - ts)

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        report.outcomes = dict(zip(names, pool.map(crawl_and_transform, names), strict=True))
    report.seconds["crawl"] = time.monotonic() - t0
    # transforms ran inside the crawl phase; this is their own share of it
    report.seconds["transform"] = sum(o.transform_s for o in report.outcomes.values())

    t2 = time.monotonic()
    batches = [SourceBatch(source=name, ok=o.crawl.ok, records=o.records, rejected=o.rejected,
                           crawl=o.crawl.to_json()) for name, o in report.outcomes.items()]
    stats = load_harvest(paths.warehouse, batches, now=now, run_id=run_id)
    for name, st in stats.items():
        report.outcomes[name].load = st
    report.seconds["load"] = time.monotonic() - t2

    t3 = time.monotonic()
    publish(paths.warehouse, paths.snapshot)
    report.seconds["snapshot"] = time.monotonic() - t3

    t4 = time.monotonic()
    report.exports, report.export_errors = write_exports(paths, now, export_formats)
    report.seconds["export"] = time.monotonic() - t4
    report.seconds["total"] = time.monotonic() - t0
    return report


def write_exports(paths: Paths, now: datetime, formats: Iterable[str]) -> tuple[list[Path], list[str]]:
    """This week's digest in each format (read once from the snapshot); a failing format is reported, not
    raised. Formats whose file already holds the same digest are not rewritten."""
    from warehouse.exports.weekly import write_weekly_files

    files = write_weekly_files(paths.snapshot, now=now, formats=tuple(formats), directory=paths.exports_dir)
    return files.paths, files.errors


def demo_env() -> dict[str, str]:
    """Environment for demo crawls: a demo AT token, so a real one is never sent to the local portal."""
    return {"AAP_AT_TOKEN": DEMO_AT_TOKEN}
