"""A harvest does not transform again a raw item identical to the one a stored call was transformed from;
the warehouse must end exactly as if every item had been transformed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipeline.run import transform_file
from pipeline.settings import TIMEZONE
from warehouse.db import WarehouseError
from warehouse.load import HarvestLoad, SourceBatch, load_harvest

SRC = "grand_est"
TABLES = {"calls": "id", "call_versions": "call_id, version", "call_sources": "call_id, url",
          "quarantine": "native_id, reason", "harvest_runs": "run_id, source"}


def item(n: int, fetched: str = "2026-11-02T06:00:00+00:00", **fields) -> dict:
    base = {"source": SRC, "fetched_at": fetched, "native_id": f"aap-{n}",
            "url": f"https://www.grandest.fr/vos-aides-regionales/aap-{n}/",
            "title": f"Appel à projets « Inclusion numérique » n°{n}",
            "deadline_text": "Date limite de dépôt : 15/01/2027",
            "eligibility_text": "Bénéficiaires : communes, CCAS et CIAS.",
            "raw": {"detail": {"n": n}}}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def write(path: Path, items: list[dict]) -> Path:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return path


def harvest(db: Path, path: Path, day: str, *, skip: bool, withdraw_after: int = 2):
    """What ``pipeline.run.harvest`` does for one source, with or without the skip."""
    now = datetime.fromisoformat(day if "T" in day else day + "T06:00").replace(tzinfo=UTC)
    with HarvestLoad(db, now=now, run_id=f"run-{day}", withdraw_after=withdraw_after) as load:
        known = load.raw_hashes([SRC])[SRC] if skip else {}
        done = transform_file(SRC, path, now.astimezone(TIMEZONE).date(), known)
        stats = load.add(SourceBatch(SRC, True, done.records, done.rejected, {}, done.raw_hashes, done.unchanged))
    return done, stats


def tables(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY {order}").fetchall() for t, order in TABLES.items()}
    finally:
        con.close()


@pytest.fixture()
def dbs(tmp_path):
    return tmp_path / "skip.duckdb", tmp_path / "full.duckdb"


def both(dbs, path, day, **kw):
    """The same harvest with and without the skip; returns the skipping one's (transformed, stats)."""
    done, stats = harvest(dbs[0], path, day, skip=True, **kw)
    _, full = harvest(dbs[1], path, day, skip=False, **kw)
    assert stats == full
    assert tables(dbs[0]) == tables(dbs[1])
    return done, stats


def test_identical_items_are_skipped_and_the_warehouse_is_as_if_transformed(dbs, tmp_path):
    raw = tmp_path / "raw.jsonl"
    done, _ = both(dbs, write(raw, [item(1), item(2), item(3)]), "2026-11-02")
    assert len(done.records) == 3 and not done.unchanged
    # crawled again later the same day: only fetched_at differs
    done, stats = both(dbs, write(raw, [item(n, fetched="2026-11-02T09:30:00+00:00") for n in (1, 2, 3)]),
                       "2026-11-02T09:00")
    assert not done.records and len(done.unchanged) == 3
    assert (stats.unchanged, stats.new, stats.updated) == (3, 0, 0)


def test_a_changed_item_is_transformed_again(dbs, tmp_path):
    raw = tmp_path / "raw.jsonl"
    both(dbs, write(raw, [item(1), item(2), item(3)]), "2026-11-02")
    moved = item(2, deadline_text="Date limite de dépôt : 01/02/2027")
    done, stats = both(dbs, write(raw, [item(1), moved, item(3, raw={"detail": {"n": 3, "new": True}})]),
                       "2026-11-02T09:00")
    assert sorted(r["native_id"] for r in done.records) == ["aap-2", "aap-3"]
    assert list(done.unchanged) == [f"{SRC}:aap-1"]
    assert (stats.updated, stats.unchanged) == (1, 2)


def test_another_day_skips_what_does_not_depend_on_the_date(dbs, tmp_path):
    """On a later day an unchanged item is skipped (its call's status and next deadline are recomputed
    from its dates), except when its calendar depends on the run date: a date written without its year,
    or "forthcoming" only until an opening date, with no deadline. The warehouse is, every day, the one a
    full transform gives."""
    items = [item(1), item(2, deadline_text="Clôture le 10 décembre"),
             item(3, deadline_text=None, opens_on="2026-11-03"),
             item(4, deadline_text="Dépôt des dossiers jusqu'au 20/11/2026")]
    raw = write(tmp_path / "raw.jsonl", items)
    both(dbs, raw, "2026-11-02")
    done, stats = both(dbs, raw, "2026-11-03")
    assert sorted(r["native_id"] for r in done.records) == ["aap-2", "aap-3"]
    assert sorted(done.unchanged) == [f"{SRC}:aap-1", f"{SRC}:aap-4"]
    done, _ = both(dbs, raw, "2026-11-10")  # aap-4 is now closing soon: restamped, not transformed
    assert sorted(done.unchanged) == [f"{SRC}:aap-1", f"{SRC}:aap-3", f"{SRC}:aap-4"]
    assert one_status(dbs[0], "aap-4") == "closing_soon"
    done, _ = both(dbs, raw, "2027-01-20")
    assert one_status(dbs[0], "aap-1") == "closed" and f"{SRC}:aap-1" in done.unchanged


def one_status(db: Path, native_id: str) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT status FROM calls WHERE native_id = ?", [native_id]).fetchone()[0]
    finally:
        con.close()


def test_an_item_without_raw_keeps_its_fetch_time_in_the_hash(dbs, tmp_path):
    """Without ``raw`` the record stores the item itself, fetch time included: it must be rewritten."""
    raw = tmp_path / "raw.jsonl"
    both(dbs, write(raw, [item(1, raw=None), item(2)]), "2026-11-02")
    done, _ = both(dbs, write(raw, [item(1, raw=None, fetched="2026-11-02T10:00:00+00:00"),
                                    item(2, fetched="2026-11-02T10:00:00+00:00")]), "2026-11-02T09:00")
    assert [r["native_id"] for r in done.records] == ["aap-1"] and list(done.unchanged) == [f"{SRC}:aap-2"]


def test_withdrawn_then_back_unchanged_and_duplicates(dbs, tmp_path):
    raw = tmp_path / "raw.jsonl"
    both(dbs, write(raw, [item(1), item(2)]), "2026-11-02", withdraw_after=1)
    _, stats = both(dbs, write(raw, [item(2)]), "2026-11-03", withdraw_after=1)
    assert stats.withdrawn == 1
    both(dbs, write(raw, [item(1), item(2)]), "2026-11-04", withdraw_after=1)
    done, stats = both(dbs, write(raw, [item(1), item(2), item(2), item(2, title="Autre titre")]),
                       "2026-11-04T09:00", withdraw_after=1)
    assert stats.unchanged == 2 and len(done.rejected) == 2
    assert all("duplicate id grand_est:aap-2" in r["reason"] for r in done.rejected)
    # the line transformed again is quarantined with its own item, read again from the raw file
    assert [(r["reason"][-8:], r["raw"]) for r in done.rejected] == [
        ("(line 4)", item(2, title="Autre titre")), ("(line 3)", item(2))]


def test_a_load_without_raw_hashes_forgets_them(dbs, tmp_path):
    raw = write(tmp_path / "raw.jsonl", [item(1)])
    done, _ = harvest(dbs[0], raw, "2026-11-02", skip=True)
    load_harvest(dbs[0], [SourceBatch(SRC, True, done.records)], now=datetime(2026, 11, 2, 7, tzinfo=UTC),
                 run_id="staged")
    done, _ = harvest(dbs[0], raw, "2026-11-02T08:00", skip=True)
    assert len(done.records) == 1 and not done.unchanged


def test_a_call_no_longer_stored_as_read_fails_the_whole_load(dbs, tmp_path):
    db = dbs[0]
    harvest(db, write(tmp_path / "raw.jsonl", [item(1)]), "2026-11-02", skip=True)
    before = tables(db)
    now = datetime(2026, 11, 3, 6, tzinfo=UTC)
    with pytest.raises(WarehouseError, match="changed during the harvest"), \
            HarvestLoad(db, now=now, run_id="r2") as load:
        load.add(SourceBatch(SRC, True, [], unchanged={f"{SRC}:aap-1": "0" * 32}))
    assert tables(db) == before
    con = duckdb.connect(str(db), read_only=True)
    (stored,) = con.execute("SELECT raw_hash FROM calls WHERE id = ?", [f"{SRC}:aap-1"]).fetchone()
    con.close()
    with pytest.raises(WarehouseError, match="changed during the harvest"), \
            HarvestLoad(db, now=now, run_id="r3") as load:  # a call that is not stored at all
        load.add(SourceBatch(SRC, True, [], unchanged={f"{SRC}:aap-1": stored, f"{SRC}:aap-9": stored}))
    assert tables(db) == before
