"""``python -m pipeline.bench_child``: one harvest against the bench's portal, the process ``aap bench``
times (see :mod:`pipeline.bench`). A module of its own so that the timed process imports what
``aap harvest`` imports and not the bench itself (its profiler, HTTP client and tables: 0.14 s); it starts
the crawl server as early as ``aap harvest`` does, and writes a JSON summary of the harvest to ``--out``."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline.bench_child")
    ap.add_argument("--portal", required=True, help="the synthetic portal's address")
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--now", required=True, help="the harvest's time (ISO 8601, with its offset)")
    ap.add_argument("--out", required=True, help="where the JSON summary goes")
    ap.add_argument("--source", action="append", dest="sources", required=True)
    args = ap.parse_args(argv)

    from pipeline import crawlserver
    from pipeline.settings import paths

    p = paths(args.data_dir)
    crawlserver.start_unless_planned(p.raw_dir, args.sources)  # as `aap harvest` does: before its imports
    from pipeline.run import demo_env, harvest
    from spiders.demo import DEMO_SETTINGS

    report = harvest(args.sources, paths=p, now=datetime.fromisoformat(args.now),
                     base_url_for=lambda s: f"{args.portal}/{s}", crawl_settings=DEMO_SETTINGS,
                     crawl_env=demo_env())
    summary = {"run_id": report.run_id, "seconds": report.seconds, "rows": report.rows(),
               "export_errors": report.export_errors,
               "items": sum(o.crawl.items for o in report.outcomes.values()),
               "records": sum(o.transformed for o in report.outcomes.values()),
               "skipped": sum(o.skipped for o in report.outcomes.values()),
               "failed": [n for n, o in report.outcomes.items() if not o.crawl.ok],
               "reasons": {n: o.crawl.reason for n, o in report.outcomes.items() if o.crawl.reason}}
    Path(args.out).write_text(json.dumps(summary, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    from pipeline import gcpause

    gcpause.exit_with(main())
