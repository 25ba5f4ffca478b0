"""Harvests against a faulty synthetic portal: nothing is lost, nothing stored is damaged.

Three harvests share one warehouse (module fixture, real crawls in child processes):

1. every source clean;
2. and 3. ``grand_est`` answers 20 % 5xx (some recover after a retry, some never) and times out on
   10 % of its pages once; ``nouvelle_aquitaine`` is completely down; ``ile_de_france`` stays clean.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pytest

from pipeline.run import HarvestReport, harvest, read_jsonl
from pipeline.settings import TIMEZONE, paths
from pipeline.synthetic import Faults, SyntheticPortal
from spiders.demo import DEMO_SETTINGS

NOW = datetime(2026, 10, 1, 8, 0, tzinfo=TIMEZONE)
SIZES = {"ile_de_france": 15, "nouvelle_aquitaine": 12, "grand_est": 24}
RETRY_TIMES = 2
#: every detail page is asked for again (none is re-emitted from the page store unasked), so the faults of
#: the detail pages reach the crawl at each harvest
SETTINGS = {**DEMO_SETTINGS, "RETRY_TIMES": RETRY_TIMES, "DOWNLOAD_TIMEOUT": 2, "AAP_DETAIL_MAX_AGE_DAYS": 0}
FLAKY = Faults(error_rate=0.2, permanent_share=0.5, timeout_rate=0.1, hang_s=3.0, lists=False)


def _calls(db: Any) -> dict[str, dict[str, Any]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute("SELECT * FROM calls ORDER BY id")
        cols = [d[0] for d in cur.description]
        return {row[0]: dict(zip(cols, row, strict=True)) for row in cur.fetchall()}
    finally:
        con.close()


def _runs(db: Any, run_id: str) -> dict[str, dict[str, Any]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute("SELECT * FROM harvest_runs WHERE run_id = ?", [run_id])
        cols = [d[0] for d in cur.description]
        return {row[1]: dict(zip(cols, row, strict=True)) for row in cur.fetchall()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    p = paths(tmp_path_factory.mktemp("faults"))
    out: dict[str, Any] = {"paths": p, "reports": [], "calls": [], "raw": []}
    with SyntheticPortal(SIZES, seed=5) as portal:
        for day in range(3):
            if day == 1:
                portal.set_faults("grand_est", FLAKY)
                portal.set_faults("nouvelle_aquitaine", Faults(down=True))
                out["expected"] = portal.expected("grand_est", attempts=RETRY_TIMES + 1)
                out["ge_urls"] = {i: portal.shapes["grand_est"].detail_url(i) for i in range(SIZES["grand_est"])}
            elif day == 2:
                portal.set_faults("grand_est", FLAKY)  # attempt counters start again: same faults
            report: HarvestReport = harvest(list(SIZES), paths=p, now=NOW + timedelta(days=day),
                                            base_url_for=portal.base_url_for(), crawl_settings=SETTINGS,
                                            export_formats=(), parallel=3)
            out["reports"].append(report)
            out["calls"].append(_calls(p.warehouse))
            out["raw"].append({s: [item for _, item, _ in read_jsonl(p.raw_dir / f"{s}.jsonl")] for s in SIZES})
    return out


def _of(calls: dict[str, dict], source: str) -> dict[str, dict]:
    return {k: v for k, v in calls.items() if v["source"] == source}


def test_clean_harvest_stores_every_call(history: dict[str, Any]) -> None:
    first = history["calls"][0]
    for source, n in SIZES.items():
        assert len(_of(first, source)) == n, source
    assert history["reports"][0].ok


def test_retries_recover_what_can_be_and_failures_are_recorded_per_url(history: dict[str, Any]) -> None:
    expected = history["expected"]
    reachable_urls = {history["ge_urls"][i] for i in expected["reachable"]}
    assert 0 < len(reachable_urls) < SIZES["grand_est"], "the seed must give both recoverable and lost pages"
    for day in (1, 2):
        crawl = history["reports"][day].outcomes["grand_est"].crawl
        got = {urlsplit(item["url"]).path for item in history["raw"][day]["grand_est"]}
        assert got == reachable_urls
        failed = {urlsplit(u.split(" ", 1)[1]).path.removeprefix("/grand_est") for u in crawl.failed_urls}
        lost_by_5xx = {u for u in expected["lost_urls"]}
        assert failed <= lost_by_5xx
        # every page lost for good is accounted for: a failed URL, or a download error of the crawl
        unrecorded = lost_by_5xx - failed
        assert not unrecorded or any("download error" in e for e in crawl.errors)
        run = _runs(history["paths"].warehouse, history["reports"][day].run_id)["grand_est"]
        assert sorted(json.loads(run["failed_urls"])) == sorted(crawl.failed_urls)


def test_stored_calls_of_the_flaky_source_are_not_damaged(history: dict[str, Any]) -> None:
    before = _of(history["calls"][0], "grand_est")
    for day in (1, 2):
        after = _of(history["calls"][day], "grand_est")
        assert after.keys() == before.keys()
        for call_id, row in after.items():
            assert row["status"] != "withdrawn", call_id
            assert row["content_hash"] == before[call_id]["content_hash"]
            if history["reports"][day].outcomes["grand_est"].crawl.ok:
                continue
            assert row == history["calls"][day - 1][call_id], f"{call_id} changed though its crawl failed"
    lost = {i for i in range(SIZES["grand_est"])} - history["expected"]["reachable"]
    lost_paths = {history["ge_urls"][i] for i in lost}
    last = _of(history["calls"][2], "grand_est")
    for call_id, row in last.items():
        if urlsplit(row["url"]).path in lost_paths:
            assert row["last_seen_at"] == before[call_id]["last_seen_at"]


def test_a_source_down_keeps_its_calls_and_does_not_count_as_vanished(history: dict[str, Any]) -> None:
    stored = _of(history["calls"][0], "nouvelle_aquitaine")
    assert len(stored) == SIZES["nouvelle_aquitaine"]
    for day in (1, 2):
        report = history["reports"][day]
        outcome = report.outcomes["nouvelle_aquitaine"]
        assert not outcome.crawl.ok and outcome.crawl.reason
        run = _runs(history["paths"].warehouse, report.run_id)["nouvelle_aquitaine"]
        assert run["ok"] is False and run["withdrawn"] == 0
        assert _of(history["calls"][day], "nouvelle_aquitaine") == stored
    # two harvests with the source down: had they counted as "vanished", its calls would be withdrawn now
    assert all(row["status"] != "withdrawn" for row in _of(history["calls"][2], "nouvelle_aquitaine").values())


def test_the_other_sources_load_while_one_is_down(history: dict[str, Any]) -> None:
    for day in (1, 2):
        report = history["reports"][day]
        assert report.outcomes["ile_de_france"].crawl.ok
        rows = _of(history["calls"][day], "ile_de_france")
        assert len(rows) == SIZES["ile_de_france"]
        assert {r["last_seen_run"] for r in rows.values()} == {report.run_id}
