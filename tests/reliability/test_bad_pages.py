"""Malformed HTML, ISO-8859-1 pages, giant pages, broken dataset rows and unparseable dates: the harvest
never crashes, rejected records are quarantined with their reason, accented text comes out right."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import pytest

from pipeline.run import harvest, read_jsonl
from pipeline.settings import TIMEZONE, paths
from pipeline.synthetic import Faults, SyntheticPortal
from spiders.demo import DEMO_SETTINGS

NOW = datetime(2026, 10, 1, 8, 0, tzinfo=TIMEZONE)
MAXSIZE = 1024 * 1024
FAULTS = {
    # recoverable damage: unclosed and stray tags, ISO-8859-1 pages that say so, dates nobody can read
    "grand_est": Faults(malformed_rate=0.4, latin1_rate=0.6, latin1_kinds=("declared",),
                        bad_date_rate=0.4),
    # broken dataset rows (no title) and unreadable deadlines
    "ile_de_france": Faults(invalid_rate=0.25, bad_date_rate=0.3),
    # pages far above the download cap; ISO-8859-1 pages that do not say so, or say UTF-8
    "nouvelle_aquitaine": Faults(giant_rate=0.25, giant_bytes=3 * MAXSIZE, latin1_rate=0.4,
                                 latin1_kinds=("missing", "wrong")),
}
SIZES = {"grand_est": 24, "ile_de_france": 20, "nouvelle_aquitaine": 12}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    p = paths(tmp_path_factory.mktemp("bad-pages"))
    with SyntheticPortal(SIZES, seed=17, faults=FAULTS) as portal:
        report = harvest(list(SIZES), paths=p, now=NOW, base_url_for=portal.base_url_for(),
                         crawl_settings={**DEMO_SETTINGS, "DOWNLOAD_MAXSIZE": MAXSIZE,
                                         "DOWNLOAD_WARNSIZE": MAXSIZE // 2},
                         export_formats=("csv",), parallel=3)
        shapes = portal.shapes
        calls = {s: [portal.call(s, i) for i in range(n)] for s, n in SIZES.items()}
        variants = {(s, i): portal.latin1_variant(s, shapes[s].detail_url(i))
                    for s in ("grand_est", "nouvelle_aquitaine") for i in range(SIZES[s])}
        invalid = [i for i in range(SIZES["ile_de_france"]) if portal.is_invalid("ile_de_france", i)]
        giant = [i for i in range(SIZES["nouvelle_aquitaine"])
                 if portal.fault_draw("nouvelle_aquitaine", shapes["nouvelle_aquitaine"].detail_url(i), "giant")
                 < FAULTS["nouvelle_aquitaine"].giant_rate]
    con = duckdb.connect(str(p.warehouse), read_only=True)
    try:
        stored = con.execute("SELECT source, native_id, title, eligibility_text, deadlines, deadline_kind, "
                             "raw FROM calls").fetchall()
        quarantine = con.execute("SELECT source, reason FROM quarantine").fetchall()
    finally:
        con.close()
    return {"report": report, "paths": p, "calls": calls, "variants": variants, "invalid": invalid,
            "giant": giant, "stored": stored, "quarantine": quarantine}


def test_the_harvest_completes(run: dict[str, Any]) -> None:
    report = run["report"]
    assert set(report.outcomes) == set(SIZES)
    assert not report.export_errors
    assert run["paths"].snapshot.is_file()


def test_malformed_and_latin1_pages_load_with_their_accents(run: dict[str, Any]) -> None:
    assert "declared" in {v for (s, _), v in run["variants"].items() if s == "grand_est"}
    assert run["report"].outcomes["grand_est"].crawl.ok
    stored = {r[2]: r for r in run["stored"] if r[0] == "grand_est"}
    generated = run["calls"]["grand_est"]
    assert len(stored) == len({c.title for c in generated})
    for call in generated:
        row = stored[call.title]  # exact, accented title
        assert "\ufffd" not in row[2] and "Ã" not in row[2]
        if call.eligibility_text:
            assert call.eligibility_text in row[3]


def test_undeclared_or_misdeclared_charsets_never_store_garbled_text(run: dict[str, Any]) -> None:
    """An ISO-8859-1 page without a charset (or claiming UTF-8) must either come out with its exact
    accents or be reported as a failure naming its URL: never a silently garbled call."""
    kinds = {(i, v) for (s, i), v in run["variants"].items() if s == "nouvelle_aquitaine" and v}
    assert {v for _, v in kinds} == {"missing", "wrong"}, "the seed must give both kinds"
    crawl = run["report"].outcomes["nouvelle_aquitaine"].crawl
    titles = {c.title for c in run["calls"]["nouvelle_aquitaine"]}
    items = [item for _, item, _ in read_jsonl(run["paths"].raw_dir / "nouvelle_aquitaine.jsonl")]
    for item in items:
        assert item["title"] in titles, f"garbled title {item['title']!r}"
        assert "\ufffd" not in str(item)
    read = {item["title"] for item in items}
    generated = run["calls"]["nouvelle_aquitaine"]
    portal_urls = {c.title: c.slug for c in generated}
    missing = [portal_urls[c.title] for i, c in enumerate(generated) if c.title not in read]
    assert not missing or not crawl.ok
    for slug in missing:
        assert slug in " ".join(crawl.errors) or any("download error" in e for e in crawl.errors), slug


def test_unparseable_dates_give_no_deadline_and_no_crash(run: dict[str, Any]) -> None:
    by_title = {r[2]: r for r in run["stored"]}
    unreadable = [c for s in ("grand_est", "ile_de_france") for c in run["calls"][s]
                  if c.title and not c.deadlines and not c.rolling]
    assert unreadable, "the seed must give unparseable deadlines"
    for call in unreadable:
        row = by_title[call.title]
        assert not row[4], f"{call.deadline_text!r} gave deadlines {row[4]}"
        assert row[5] in ("unknown", "rolling")


def test_broken_rows_are_quarantined_with_their_reason(run: dict[str, Any]) -> None:
    invalid = run["invalid"]
    assert invalid, "the seed must give broken rows"
    reasons = [reason for source, reason in run["quarantine"] if source == "ile_de_france"]
    assert len(reasons) == len(invalid)
    assert all("title" in reason for reason in reasons)
    stored = [r for r in run["stored"] if r[0] == "ile_de_france"]
    assert len(stored) == SIZES["ile_de_france"] - len(invalid)


def test_giant_pages_are_cut_at_the_cap_and_recorded(run: dict[str, Any]) -> None:
    giant = run["giant"]
    assert giant, "the seed must give giant pages"
    crawl = run["report"].outcomes["nouvelle_aquitaine"].crawl
    assert crawl.bytes_downloaded < MAXSIZE * (SIZES["nouvelle_aquitaine"])
    items = [item for _, item, _ in read_jsonl(run["paths"].raw_dir / "nouvelle_aquitaine.jsonl")]
    assert len(items) <= SIZES["nouvelle_aquitaine"] - len(giant)
    assert all(len(str(item)) < MAXSIZE for item in items)
    # the pages that were not read are not silently dropped: the source is reported, with the reason
    assert not crawl.ok and crawl.reason
