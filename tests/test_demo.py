"""End to end: `aap demo` into a temporary folder — real Scrapy crawls over HTTP on 127.0.0.1, one OS process
per crawl — then the warehouse, the snapshot and the exports; a second run changes nothing; a source
answering HTTP 500 does not stop the others and keeps its stored calls."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.cli import main
from spiders.registry import all_spiders

NOW = "2026-11-25T08:00:00+01:00"
pytestmark = pytest.mark.slow


def _demo(data: Path, *extra: str) -> None:
    assert main(["demo", "--data-dir", str(data), "--now", NOW, "--quiet", *extra]) == 0


def _query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("demo")
    _demo(data)
    return data


def test_demo_loads_calls_from_every_source(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = demo_dir / "warehouse.duckdb"
    per_source = dict(_query(db, "SELECT source, count(*) FROM calls GROUP BY source"))
    assert set(per_source) == set(all_spiders()), f"sources without calls: {set(all_spiders()) - set(per_source)}"
    empty = _query(db, """
        SELECT id FROM calls WHERE coalesce(title, '') = '' OR coalesce(url, '') = '' OR coalesce(source, '') = ''
           OR coalesce(status, '') = '' OR coalesce(deadline_kind, '') = '' OR coalesce(ccas_eligibility, '') = ''""")
    assert empty == []
    runs = _query(db, "SELECT source, ok FROM harvest_runs")
    assert {s for s, ok in runs if ok} == set(all_spiders())


def test_demo_writes_raw_snapshot_and_exports(demo_dir: Path) -> None:
    for source in all_spiders():
        assert (demo_dir / "raw" / f"{source}.jsonl").stat().st_size > 0
    snap = demo_dir / "warehouse_readonly.duckdb"
    assert _query(snap, "SELECT count(*) FROM calls") == _query(demo_dir / "warehouse.duckdb",
                                                                   "SELECT count(*) FROM calls")
    exports = sorted(p.suffix for p in (demo_dir / "exports").iterdir())
    assert {".html", ".md", ".csv", ".json", ".ics", ".atom"} <= set(exports)


def test_second_demo_changes_no_row(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = demo_dir / "warehouse.duckdb"
    before = _query(db, "SELECT id, content_hash, calendar_hash, status FROM calls ORDER BY id")
    versions_before = _query(db, "SELECT count(*) FROM call_versions")
    capsys.readouterr()
    _demo(demo_dir)
    table = capsys.readouterr().out
    assert _query(db, "SELECT id, content_hash, calendar_hash, status FROM calls ORDER BY id") == before
    assert _query(db, "SELECT count(*) FROM call_versions") == versions_before
    total = [line for line in table.splitlines() if line.startswith("TOTAL")][0].split()
    # TOTAL items new updated unchanged withdrawn ...
    assert total[2:4] == ["0", "0"], table


def test_a_source_down_does_not_stop_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline import portal as portal_mod

    sources = ["aides_territoires", "nouvelle_aquitaine", "eu_funding_tenders"]
    args = [a for s in sources for a in ("--source", s)]
    _demo(tmp_path, *args)
    db = tmp_path / "warehouse.duckdb"
    kept = _query(db, "SELECT id, content_hash FROM calls WHERE source = 'nouvelle_aquitaine' ORDER BY id")
    assert kept

    real_init = portal_mod.FixturePortal.__init__

    def failing_init(self, *a, **kw):  # the whole Nouvelle-Aquitaine portal answers 500
        kw["faults"] = {"nouvelle_aquitaine": 500}
        real_init(self, *a, **kw)

    monkeypatch.setattr(portal_mod.FixturePortal, "__init__", failing_init)
    capsys.readouterr()
    _demo(tmp_path, *args)
    out = capsys.readouterr().out
    assert "nouvelle_aquitaine" in out and "FAILED" in out
    runs = _query(db, """SELECT source, ok FROM harvest_runs
                         QUALIFY row_number() OVER (PARTITION BY source ORDER BY finished_at DESC) = 1""")
    assert dict(runs) == {"aides_territoires": True, "eu_funding_tenders": True, "nouvelle_aquitaine": False}
    assert _query(db, "SELECT id, content_hash FROM calls WHERE source = 'nouvelle_aquitaine' ORDER BY id") == kept
    assert _query(db, "SELECT count(*) FROM calls WHERE source = 'nouvelle_aquitaine' AND status = 'withdrawn'") \
        == [(0,)]


def test_the_same_call_on_two_portals_is_one_cluster(demo_dir: Path) -> None:
    """Aides-territoires republishes the Région's « Bien vieillir » call: both records are kept, clustered,
    and the Région's own portal is preferred; analysts' open views count the call once."""
    db = demo_dir / "warehouse.duckdb"
    clusters = _query(db, """
        SELECT list(source ORDER BY source), list(source ORDER BY source) FILTER (WHERE is_preferred)
        FROM calls GROUP BY cluster_id HAVING count(DISTINCT source) > 1""")
    assert (["aides_territoires", "nouvelle_aquitaine"], ["nouvelle_aquitaine"]) in [
        (list(a), list(b)) for a, b in clusters]
    assert _query(db, "SELECT count(*) FROM calls WHERE is_preferred") == \
        _query(db, "SELECT count(DISTINCT cluster_id) FROM calls")
