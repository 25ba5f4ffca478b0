"""The pure check rules, on plain values."""

from datetime import datetime, timedelta

import pytest

from dagster_project import quality
from dagster_project.defs.checks import evaluate_load_checks


def _row(**kw):
    base = {"id": "s:1", "title": "Appel à projets bien vieillir", "url": "https://example.org/aap/1",
            "deadline_kind": "single", "deadlines": ["2027-01-15"], "funder": "Région",
            "perimeter_scale": "region", "perimeter_regions": ["75"], "perimeter_departments": []}
    return base | kw


def test_zero_items_fails_unless_empty_is_declared_possible():
    assert not quality.zero_items(0, empty_ok=False).passed
    assert quality.zero_items(0, empty_ok=True).passed
    assert quality.zero_items(3, empty_ok=False).passed


@pytest.mark.parametrize(("current", "previous", "passed"), [
    (10, None, True), (5, 10, True), (4, 10, False), (0, 10, False), (0, 0, True), (30, 10, True)])
def test_count_drop_against_previous_successful_run(current, previous, passed):
    verdict = quality.count_drop(current, previous)
    assert verdict.passed is passed
    if previous:
        assert verdict.metadata["drop"] == round(1 - current / previous, 3)


def test_previous_success_ignores_failed_runs_and_the_current_run():
    t0 = datetime(2026, 11, 1, 6)
    history = [
        {"run_id": "a", "ok": True, "items": 12, "harvested_at": t0},
        {"run_id": "b", "ok": True, "items": 9, "harvested_at": t0 + timedelta(days=1)},
        {"run_id": "c", "ok": False, "items": 0, "harvested_at": t0 + timedelta(days=2)},
        {"run_id": "d", "ok": True, "items": 2, "harvested_at": t0 + timedelta(days=3)},
    ]
    assert quality.previous_success_items(history, "d") == 9
    assert quality.previous_success_items(history[:1], "a") is None
    assert quality.last_success(history) == t0 + timedelta(days=3)
    assert quality.last_success(history[2:3]) is None


def test_field_validity_reports_each_weak_field():
    rows = [_row(id=f"s:{i}") for i in range(9)] + [_row(id="s:9", funder="", url="http://127.0.0.1:9/x")]
    assert quality.field_validity(rows).passed  # 90 % exactly is enough
    rows.append(_row(id="s:10", funder=" "))
    verdict = quality.field_validity(rows)
    assert not verdict.passed and "funder" in verdict.description and "url" not in verdict.description
    assert verdict.metadata["valid_funder"] == round(9 / 11, 3)


def test_field_validity_counts_quarantined_items_as_not_stored():
    rows = [_row(id=f"s:{i}") for i in range(5)]
    assert quality.field_validity(rows, rejected=0).passed
    verdict = quality.field_validity(rows, rejected=2)
    assert not verdict.passed and "stored" in verdict.description


def test_unknown_deadline_share_compares_with_usual_level():
    usual = ["single"] * 8 + ["unknown"] * 2            # usually 20 %
    assert quality.unknown_deadline_share(["single"] * 7 + ["unknown"] * 3, usual).passed      # 30 %
    verdict = quality.unknown_deadline_share(["single"] * 6 + ["unknown"] * 4, usual)        # 40 %
    assert not verdict.passed and verdict.metadata["usual_share"] == 0.2
    assert quality.unknown_deadline_share(["unknown"] * 4, usual[:3]).passed  # no baseline yet


def test_duplicate_ids():
    assert quality.duplicate_ids(["a", "b"]).passed
    verdict = quality.duplicate_ids(["a", "b", "a"])
    assert not verdict.passed and "a" in verdict.description
    assert not quality.duplicate_ids(["a"], rejected_duplicates=1).passed


def test_freshness_three_days():
    now = datetime(2026, 11, 25, 12)
    assert quality.harvested_recently(now - timedelta(days=2, hours=23), now).passed
    assert not quality.harvested_recently(now - timedelta(days=3, hours=1), now).passed
    assert not quality.harvested_recently(None, now).passed


def test_crawl_succeeded():
    assert quality.crawl_succeeded({"ok": True, "items": 3}).passed
    verdict = quality.crawl_succeeded({"ok": False, "reason": "HTTP 500 on page 1"})
    assert not verdict.passed and "HTTP 500" in verdict.description
    assert not quality.crawl_succeeded(None).passed


def test_evaluate_load_checks_uses_this_runs_history_row():
    t0 = datetime(2026, 11, 1, 6)
    history = [{"run_id": "old", "ok": True, "items": 10, "harvested_at": t0},
               {"run_id": "new", "ok": True, "items": 3, "harvested_at": t0 + timedelta(days=1)}]
    rows = [_row(id=f"s:{i}") for i in range(3)]
    verdicts = evaluate_load_checks(crawl={"ok": True, "items": 3}, rows=rows, quarantined=[],
                                    history=history, usual_kinds=[], staged_ids=[r["id"] for r in rows],
                                    run_id="new", empty_ok=False)
    assert not verdicts["item_count_drop"].passed
    assert {k for k, v in verdicts.items() if not v.passed} == {"item_count_drop"}
    dup = evaluate_load_checks(crawl={"ok": True, "items": 3}, rows=rows,
                               quarantined=[{"reason": "duplicate id s:1 in the batch"}], history=history[1:],
                               usual_kinds=[], staged_ids=[r["id"] for r in rows], run_id="new", empty_ok=False)
    assert not dup["duplicate_ids"].passed
