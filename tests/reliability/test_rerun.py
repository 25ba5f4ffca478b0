"""Reruns: an unchanged portal answers 304 to every listing page, whose stored items and detail pages are
re-emitted from the page store (the raw JSONL is the same full set), and the load changes no call; calls that
change between two harvests change their listing card, so their detail pages are fetched again and their
new content is stored (the page store hides nothing). Past ``AAP_DETAIL_MAX_AGE_DAYS`` every detail page is
revalidated."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import duckdb

from pipeline.crawl import REVALIDATED
from pipeline.run import harvest, read_jsonl
from pipeline.settings import TIMEZONE, paths
from pipeline.synthetic import SyntheticPortal
from spiders.demo import DEMO_SETTINGS

NOW = datetime(2026, 10, 1, 8, 0, tzinfo=TIMEZONE)
SIZES = {"grand_est": 20, "nouvelle_aquitaine": 10}


def _titles(db: Any) -> dict[str, tuple[str, int]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0]: (r[1], r[2]) for r in con.execute("SELECT native_id, title, version FROM calls").fetchall()}
    finally:
        con.close()


def _raw(p: Any, source: str) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True, ensure_ascii=False)
                  for _, item, _ in read_jsonl(p.raw_dir / f"{source}.jsonl"))


def test_rerun_revalidates_and_changes_come_through(tmp_path: Any, monkeypatch: Any) -> None:
    p = paths(tmp_path)
    instances: list[str] = []
    real_connect = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: (instances.append(str(a[0] if a else k)),
                                                            real_connect(*a, **k))[1])
    with SyntheticPortal(SIZES, seed=29, change_rate=0.3) as portal:
        def run(day: int) -> Any:
            portal.reset_stats()
            return harvest(list(SIZES), paths=p, now=NOW + timedelta(days=day), base_url_for=portal.base_url_for(),
                           crawl_settings=DEMO_SETTINGS, export_formats=(), parallel=2)

        first = run(0)
        stored = _titles(p.warehouse)
        assert len(stored) == sum(SIZES.values())
        raw = {source: _raw(p, source) for source in SIZES}

        instances.clear()
        second = run(1)
        rerun = portal.stats()
        # one DuckDB instance for the load, the check of the snapshot's copy and the exports' reading
        assert instances == [":memory:"]
        for source in SIZES:
            lists = len(portal.shapes[source].list_urls())
            # only the listing pages are asked for; every detail page's item comes from the page store
            assert rerun[source]["statuses"] == {"304": lists}, source
            assert rerun[source]["bytes_sent"] == 0
            crawl = second.outcomes[source].crawl
            # every page unchanged: the harvest asked for them itself, without a Scrapy crawl
            assert crawl.finish_reason == REVALIDATED and crawl.requests == lists + 1, source  # + robots.txt
            assert (crawl.items, crawl.pages_unchanged, crawl.details_not_asked, crawl.items_replayed) == (
                SIZES[source], lists, SIZES[source], SIZES[source])
            assert _raw(p, source) == raw[source], "the rerun's raw JSONL holds the same full set of items"
            load = second.outcomes[source].load
            assert (load.new, load.updated, load.unchanged) == (0, 0, SIZES[source])
        assert _titles(p.warehouse) == stored

        changed = portal.advance()
        third = run(2)
        after = portal.stats()
        for source in SIZES:
            n_changed = sum(1 for s, _ in changed if s == source)
            assert n_changed, f"the seed must change some calls of {source}"
            assert third.outcomes[source].load.updated == n_changed, source
            # the changed listing page (the revalidation stops there, the crawl asks for it again), then
            # the detail page of each changed card: nothing else
            assert after[source]["statuses"] == {"200": 2 + n_changed}, source
            crawl = third.outcomes[source].crawl
            # the crawl's statistics count the revalidation's requests too (each read robots.txt once)
            assert crawl.finish_reason == "finished" and crawl.requests == after[source]["requests"] + 2, source
            assert third.outcomes[source].crawl.details_not_asked == SIZES[source] - n_changed
        titles = _titles(p.warehouse)
        fresh = {portal.call(s, i).title for s, i in changed}
        assert fresh <= {t for t, _ in titles.values()}
        assert sum(1 for native_id, (_, version) in titles.items() if version == 2) == len(changed)
    assert first.ok and second.ok and third.ok


def test_detail_pages_older_than_the_max_age_are_revalidated(tmp_path: Any) -> None:
    p = paths(tmp_path)
    with SyntheticPortal(SIZES, seed=29) as portal:
        def run(settings: dict[str, Any]) -> Any:
            portal.reset_stats()
            return harvest(list(SIZES), paths=p, now=NOW, base_url_for=portal.base_url_for(),
                           crawl_settings={**DEMO_SETTINGS, **settings}, export_formats=(), parallel=2)

        run({})
        full = portal.stats()
        raw = {source: _raw(p, source) for source in SIZES}
        again = run({"AAP_DETAIL_MAX_AGE_DAYS": 0})
        rerun = portal.stats()
        for source in SIZES:
            # every page asked again, every one unchanged: none parsed, every item re-emitted
            assert rerun[source]["statuses"] == {"304": full[source]["requests"]}, source
            crawl = again.outcomes[source].crawl
            assert (crawl.pages_unchanged, crawl.details_not_asked, crawl.items_replayed) == (
                full[source]["requests"], 0, SIZES[source])
            assert _raw(p, source) == raw[source]
    assert again.ok


def test_a_rerun_that_writes_no_call_never_imports_pyarrow_nor_the_transforms(tmp_path: Any) -> None:
    """Arrow tables carry the rows of ``calls`` a harvest writes; the restamps of a rerun go as list
    parameters, so a rerun's process does without pyarrow (17 ms of imports). Nor does it load the
    transforms' modules (their vocabularies and patterns): its items are recognised unchanged from their
    text, and its digest, asked for no region, needs no INSEE code."""
    import subprocess
    import sys

    from pipeline.bench import PROJECT_ROOT

    code = ("import sys; from pipeline import bench_child; bench_child.main(sys.argv[1:]); "
            "print('pyarrow' in sys.modules, any(m.startswith('transforms.') for m in sys.modules))")
    with SyntheticPortal(SIZES, seed=29) as portal:
        def run() -> tuple[list[bool], dict[str, Any]]:
            out = tmp_path / "summary.json"
            done = subprocess.run(
                [sys.executable, "-c", code, "--portal", portal.url, "--data-dir", str(tmp_path / "data"),
                 "--now", NOW.isoformat(), "--out", str(out), *(f"--source={s}" for s in SIZES)],
                cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-2000:]
            return [word == "True" for word in done.stdout.split()[-2:]], json.loads(out.read_text(encoding="utf-8"))

        full_imported, full = run()
        rerun_imported, rerun = run()
    assert full_imported == [True, True] and full["records"] == sum(SIZES.values())
    assert rerun_imported == [False, False]
    assert rerun["skipped"] == sum(SIZES.values()) and not rerun["failed"]
