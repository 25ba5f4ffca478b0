from __future__ import annotations

import duckdb

from tests.warehouse.factory import at, batch, record
from warehouse.load import load_harvest

SRC = "region_nouvelle_aquitaine"


def calls(db) -> dict[str, tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0]: r[1:] for r in con.execute(
            "SELECT id, raw, ccas_rule, deadline_flags, status, withdrawn_at, last_seen_run, version FROM calls"
        ).fetchall()}
    finally:
        con.close()


def test_unchanged_hashes_still_store_the_fields_they_do_not_cover(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    a, b = record(native_id="x1"), record(native_id="x2")
    load_harvest(db, [batch(SRC, [a, b])], now=at("2026-11-02"), run_id="r1")
    a2 = dict(a, raw={"guid": "changed"}, ccas_rule="other", deadline_flags=["f"])
    stats = load_harvest(db, [batch(SRC, [a2, b])], now=at("2026-11-03"), run_id="r2")
    assert (stats[SRC].unchanged, stats[SRC].updated) == (2, 0)
    rows = calls(db)
    assert rows[a["id"]][:3] == ('{"guid": "changed"}', "other", ["f"])
    assert rows[a["id"]][5:] == rows[b["id"]][5:] == ("r2", 1)


def test_an_unchanged_call_that_comes_back_loses_its_withdrawal(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    a, b = record(native_id="x1"), record(native_id="x2")
    load_harvest(db, [batch(SRC, [a, b])], now=at("2026-11-02"), run_id="r1")
    for day, run in (("2026-11-03", "r2"), ("2026-11-04", "r3")):
        load_harvest(db, [batch(SRC, [b])], now=at(day), run_id=run, withdraw_after=2)
    assert calls(db)[a["id"]][3] == "withdrawn"
    stats = load_harvest(db, [batch(SRC, [a, b])], now=at("2026-11-05"), run_id="r4")
    assert (stats[SRC].updated, stats[SRC].unchanged) == (1, 1)
    assert calls(db)[a["id"]][3:] == ("open", None, "r4", 1)
