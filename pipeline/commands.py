"""Core ``aap`` sub-commands: ``demo``, ``harvest``, ``sources``."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.settings import TIMEZONE, paths


def _now(value: str | None) -> datetime:
    """The run's single reading of the clock (or ``--now`` for reproducible runs)."""
    if value:
        dt = datetime.fromisoformat(value)
        return dt if dt.tzinfo else dt.replace(tzinfo=TIMEZONE)
    return datetime.now(TIMEZONE)


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    """The options every harvesting command takes (also read early by `aap`, see `pipeline.cli`)."""
    p.add_argument("--data-dir", default=None, help="data folder (default ./data or $AAP_DATA_DIR)")
    p.add_argument("--warehouse", default=None, help="DuckDB file (default <data>/warehouse.duckdb)")
    p.add_argument("--now", default=None, help="ISO date-time the run takes as 'now' (default: the clock)")
    p.add_argument("--source", "-s", action="append", dest="sources", metavar="SOURCE",
                   help="only this source (repeatable; default: all)")
    p.add_argument("--parallel", type=int, default=2, help="crawls at once (default 2)")
    p.add_argument("--quiet", "-q", action="store_true")


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="harvest every source from the local fixture portal (no network)")
    add_common_arguments(p)
    p.add_argument("--overlay", action="append", default=[], type=Path,
                   help="fixture folder searched before the shipped fixtures (changed pages)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("harvest", help="harvest sources (the local fixture portal unless --live)")
    add_common_arguments(p)
    p.add_argument("--live", action="store_true", help="crawl the real portals (needs internet)")
    p.set_defaults(func=cmd_harvest)

    p = sub.add_parser("sources", help="list the sources with level, platform and last harvest status")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--warehouse", default=None)
    p.add_argument("--markdown", action="store_true", help="the README's source table (no status)")
    p.set_defaults(func=cmd_sources)


def _print_report(report: Any, quiet: bool) -> None:
    print(report.table())
    s = report.seconds
    print(f"\nrun {report.run_id}: crawl {s.get('crawl', 0):.1f}s (each source transformed and loaded as its crawl "
          f"ends: transforms {s.get('transform', 0):.1f}s, load {s.get('load', 0):.1f}s), "
          f"snapshot {s.get('snapshot', 0):.1f}s, export {s.get('export', 0):.1f}s, total {s.get('total', 0):.1f}s")
    print(f"raw JSONL     {report.paths.raw_dir}/")
    print(f"warehouse     {report.paths.warehouse}  (the loader's file)")
    print(f"for analysts  {report.paths.snapshot}  (read-only snapshot, replaced atomically)")
    for e in report.exports:
        print(f"export        {e}")
    for err in report.export_errors:
        print(f"export FAILED {err}", file=sys.stderr)


def _run(args: argparse.Namespace, *, live: bool, overlay: list[Path]) -> int:
    from pipeline.portal import FixturePortal
    from pipeline.run import demo_env, harvest
    from spiders.demo import DEMO_SETTINGS

    p = paths(args.data_dir, args.warehouse)
    now = _now(args.now)
    say = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    if live:
        report = harvest(args.sources, paths=p, now=now, parallel=args.parallel, progress=say)
    else:
        with FixturePortal(overlay_dirs=overlay) as portal:
            say(f"fixture portal on {portal.url}")
            report = harvest(args.sources, paths=p, now=now, parallel=args.parallel, progress=say,
                             base_url_for=portal.base_url, crawl_settings=DEMO_SETTINGS, crawl_env=demo_env())
    _print_report(report, args.quiet)
    # a failed source is reported (and recorded in harvest_runs) but the harvest itself succeeded
    return 0 if not report.export_errors else 1


def cmd_demo(args: argparse.Namespace) -> int:
    return _run(args, live=False, overlay=args.overlay)


def cmd_harvest(args: argparse.Namespace) -> int:
    return _run(args, live=args.live, overlay=[])


def listing_url(cls: Any) -> str:
    """The live URL a crawl of ``cls`` starts from (its declared ``portal_url`` first)."""
    if cls.portal_url:
        return cls.portal_url
    try:
        first = next(iter(cls().first_requests()), None)
    except Exception:  # a spider that needs configuration (a token) to build its requests
        first = None
    return first.url if first is not None else cls.live_base_url


def sources_markdown() -> str:
    """The README's table of sources, generated from the spider declarations."""
    from spiders.base import PLATFORM_FORMATS
    from spiders.registry import all_spiders

    lines = ["| source | level | funder | portal | format | auth | fixtures mirror the public copy of |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, cls in all_spiders().items():
        lines.append(f"| `{name}` | {cls.source_level} | {cls.funder} | {listing_url(cls)} | "
                     f"{PLATFORM_FORMATS.get(cls.platform, cls.platform)} | {cls.auth} | {cls.fixture_date} |")
    return "\n".join(lines)


def cmd_sources(args: argparse.Namespace) -> int:
    from pipeline.crawl import REVALIDATED
    from spiders.registry import all_spiders

    if args.markdown:
        print(sources_markdown())
        return 0

    last = _last_runs(paths(args.data_dir, args.warehouse).snapshot)
    cols = ("source", "level", "platform", "funder", "portal", "copy of", "last harvest")
    rows = []
    for name, cls in all_spiders().items():
        run = last.get(name)
        status = "never harvested" if run is None else (
            f"{'ok' if run['ok'] else 'FAILED'} {run['finished_at']} ({run['items']} items"
            f"{', every page unchanged' if run['finish_reason'] == REVALIDATED else ''})")
        rows.append((name, cls.source_level, cls.platform, cls.funder, listing_url(cls), cls.fixture_date, status))
    widths = [max(len(c), *(len(str(r[i])) for r in rows)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)))
    print(f"\n{len(rows)} sources")
    return 0


def _last_runs(snapshot: Path) -> dict[str, dict[str, Any]]:
    """Latest harvest_runs row per source from the analysts' snapshot (empty when none yet)."""
    if not snapshot.is_file():
        return {}
    import duckdb

    try:
        con = duckdb.connect(str(snapshot), read_only=True)
    except duckdb.Error:
        return {}
    try:
        rows = con.execute("""
            SELECT source, ok, items, CAST(finished_at AS VARCHAR), finish_reason FROM harvest_runs
            QUALIFY row_number() OVER (PARTITION BY source ORDER BY harvested_at DESC, rowid DESC) = 1""").fetchall()
    except duckdb.Error:
        return {}
    finally:
        con.close()
    return {r[0]: {"ok": r[1], "items": r[2], "finished_at": r[3], "finish_reason": r[4]} for r in rows}
