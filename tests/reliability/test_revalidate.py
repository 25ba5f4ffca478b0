"""Reruns without Scrapy (:mod:`pipeline.revalidate`): the walk over the page store asks what the crawl would
ask, and hands the source to the crawl at the first thing it cannot answer for."""

from __future__ import annotations

import pickle
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipeline import crawlserver
from pipeline.cli import main
from pipeline.crawl import REVALIDATED, crawl_key, store_path
from pipeline.revalidate import revalidate
from pipeline.run import harvest, read_jsonl
from pipeline.settings import TIMEZONE, paths
from pipeline.synthetic import Faults, SyntheticPortal
from spiders.demo import DEMO_SETTINGS
from spiders.pages import files_hash, plan_path, read_plan

NOW = datetime(2026, 10, 1, 8, 0, tzinfo=TIMEZONE)
SIZES = {"grand_est": 20, "nouvelle_aquitaine": 10}


def _harvest(p: Any, portal: SyntheticPortal) -> Any:
    portal.reset_stats()
    return harvest(list(SIZES), paths=p, now=NOW, base_url_for=portal.base_url_for(), crawl_settings=DEMO_SETTINGS,
                   export_formats=(), parallel=2)


def _revalidate(p: Any, portal: SyntheticPortal, source: str, now: float | None = None) -> Any:
    out = p.raw_dir / f"{source}.jsonl"
    return revalidate(source, out, store_path(out, source), crawl_key(source, portal.base_url_for()(source),
                                                                      DEMO_SETTINGS), now)


def _items(path: Path) -> list[Any]:
    return sorted((item["native_id"], item["url"]) for _, item, _ in read_jsonl(path))


def test_detail_pages_past_their_age_are_revalidated_by_the_walk(tmp_path: Path) -> None:
    p = paths(tmp_path)
    with SyntheticPortal(SIZES, seed=5) as portal:
        _harvest(p, portal)
        full = portal.stats()
        for source in SIZES:
            raw = _items(p.raw_dir / f"{source}.jsonl")
            portal.reset_stats()
            walk = _revalidate(p, portal, source, now=time.time() + 8 * 86400)  # past the 7-day max age
            served = portal.stats()[source]
            assert walk.result is not None and walk.result.finish_reason == REVALIDATED, walk.why
            # every page the first crawl fetched is asked again, conditionally, and answers 304
            assert served["statuses"] == {"304": full[source]["requests"]}, source
            assert (walk.result.pages_unchanged, walk.result.details_not_asked, walk.result.items) == (
                full[source]["requests"], 0, SIZES[source])
            assert _items(p.raw_dir / f"{source}.jsonl") == raw
            # the next walk, at the clock's time, asks only the listing pages again
            portal.reset_stats()
            again = _revalidate(p, portal, source)
            assert again.result is not None and again.result.details_not_asked == SIZES[source]
            assert portal.stats()[source]["statuses"] == {"304": len(portal.shapes[source].list_urls())}


def test_a_walk_stores_the_detail_pages_it_confirmed_and_leaves_the_store_alone_otherwise(tmp_path: Path) -> None:
    """The confirmation times of the detail pages a walk asked are written, so the next walk does not ask
    them again; a walk that only asked listing pages (whose time nobody reads) writes neither the store
    nor its plan, and the walk after it still replays them."""
    p = paths(tmp_path)
    with SyntheticPortal(SIZES, seed=5) as portal:
        _harvest(p, portal)
        later = time.time() + 8 * 86400  # past the 7-day max age of every detail page
        for source in SIZES:
            store = store_path(p.raw_dir / f"{source}.jsonl", source)
            lists = len(portal.shapes[source].list_urls())
            assert _revalidate(p, portal, source, now=later).result.details_not_asked == 0
            portal.reset_stats()
            again = _revalidate(p, portal, source, now=later + 3600)
            assert again.result is not None and again.result.details_not_asked == SIZES[source], again.why
            assert portal.stats()[source]["statuses"] == {"304": lists}
            files = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in (store, plan_path(store))}
            for _ in range(2):
                walk = _revalidate(p, portal, source, now=later + 7200)
                assert walk.result is not None and walk.result.details_not_asked == SIZES[source], walk.why
                assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in files} == files


def test_a_page_robots_txt_now_forbids_is_left_to_the_crawl(tmp_path: Path) -> None:
    p = paths(tmp_path)
    source = "grand_est"
    with SyntheticPortal(SIZES, seed=5) as portal:
        _harvest(p, portal)
        before = _items(p.raw_dir / f"{source}.jsonl")
        listing = portal.shapes[source].list_urls()[0].split("?")[0]
        portal.set_faults(source, Faults(robots_disallow=(listing,)))
        portal.reset_stats()
        walk = _revalidate(p, portal, source)
        assert walk.result is None and "robots.txt forbids" in walk.why
        assert portal.stats()[source]["requests"] == 0, "the forbidden page is not asked"
        # nothing written: the raw JSONL and the store are the first crawl's
        assert _items(p.raw_dir / f"{source}.jsonl") == before
        assert read_plan(store_path(p.raw_dir / f"{source}.jsonl", source)) is not None


def test_a_failing_source_is_crawled_and_loses_its_plan_and_none_of_its_calls(tmp_path: Path) -> None:
    p = paths(tmp_path)
    with SyntheticPortal(SIZES, seed=5) as portal:
        _harvest(p, portal)
        portal.set_faults("grand_est", Faults(down=True))
        report = _harvest(p, portal)
        crawl = report.outcomes["grand_est"].crawl
        assert not crawl.ok and crawl.finish_reason != REVALIDATED
        assert report.outcomes["nouvelle_aquitaine"].crawl.finish_reason == REVALIDATED
        # the crawl did not complete: no plan until one does, and the stored calls stay
        assert read_plan(store_path(p.raw_dir / "grand_est.jsonl", "grand_est")) is None
        con = duckdb.connect(str(p.warehouse), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM calls WHERE source = 'grand_est' AND status <> 'withdrawn'"
                               ).fetchone()[0] == SIZES["grand_est"]
        finally:
            con.close()


def test_no_walk_for_changed_code_or_other_arguments(tmp_path: Path) -> None:
    p = paths(tmp_path)
    source = "nouvelle_aquitaine"
    with SyntheticPortal(SIZES, seed=5) as portal:
        _harvest(p, portal)
        out = p.raw_dir / f"{source}.jsonl"
        store = store_path(out, source)
        assert _revalidate(p, portal, source).result is not None
        other = revalidate(source, out, store, crawl_key(source, portal.base_url_for()(source), {}))
        assert other.result is None and "other arguments" in other.why
        # the plan names the code it was drawn with: a changed file means a crawl
        code = tmp_path / "spider.py"
        code.write_text("A = 1\n")
        plan = pickle.loads(plan_path(store).read_bytes())
        plan_path(store).write_bytes(pickle.dumps({**plan, "files": [str(code)], "code": files_hash([str(code)])}))
        code.write_text("A = 2\n")
        changed = _revalidate(p, portal, source)
        assert changed.result is None and "code has changed" in changed.why


def test_the_catalogue_is_kept_next_to_the_stores_and_the_server_is_not_started_for_a_rerun(
        tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    p = paths(tmp_path)
    with SyntheticPortal(SIZES, seed=5) as portal:
        _harvest(p, portal)
        cache = crawlserver.catalogue_cache(p.raw_dir)
        assert set(SIZES) <= set(crawlserver.cached_catalogue(cache) or {})
        started: list[bool] = []
        monkeypatch.setattr(crawlserver, "start", lambda: started.append(True))
        monkeypatch.setattr(crawlserver, "_current", lambda: (_ for _ in ()).throw(AssertionError("server")))
        report = _harvest(p, portal)
        assert not started and all(o.crawl.finish_reason == REVALIDATED for o in report.outcomes.values())
        # `aap sources` says so
        main(["sources", "--data-dir", str(tmp_path)])
        lines = [line for line in capsys.readouterr().out.splitlines() if line.split(" ")[0] in SIZES]
        assert len(lines) == len(SIZES) and all("every page unchanged" in line for line in lines)
        # a source without a plan (never crawled here) needs the server
        crawlserver.start_unless_planned(p.raw_dir, [*SIZES, "ile_de_france"])
        assert started
        # a catalogue written for other spider code is not used
        cache.write_text(cache.read_text().replace('"code": "', '"code": "x'))
        assert crawlserver.cached_catalogue(cache) is None


def test_a_damaged_plan_is_a_reason_to_crawl_not_a_failure(tmp_path: Path) -> None:
    p = paths(tmp_path)
    source = "nouvelle_aquitaine"
    with SyntheticPortal(SIZES, seed=5) as portal:
        _harvest(p, portal)
        store = store_path(p.raw_dir / f"{source}.jsonl", source)
        plan = pickle.loads(plan_path(store).read_bytes())
        plan_path(store).write_bytes(pickle.dumps({**plan, "start": [{"url": "https://example.org/", "fp": b"x"}]}))
        walk = _revalidate(p, portal, source)
        assert walk.result is None and walk.why.startswith("revalidation failed: ")
        report = _harvest(p, portal)  # the harvest crawls the source instead
        crawl = report.outcomes[source].crawl
        assert crawl.ok and crawl.finish_reason == "finished" and crawl.items == SIZES[source]
        assert "revalidation failed" in (p.raw_dir / f"{source}.log").read_text(encoding="utf-8")
