from __future__ import annotations

import json

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
    assert (json.loads(rows[a["id"]][0]), *rows[a["id"]][1:3]) == ({"guid": "changed"}, "other", ["f"])
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


def test_clusters_recomputed_around_the_changed_calls_match_a_full_recluster(tmp_path):
    from warehouse.clusters import clusters
    from warehouse.db import dict_rows

    db = tmp_path / "warehouse.duckdb"
    others = [record(native_id=f"o{i}", title=f"Mobilité solidaire {i}", deadlines=[f"2027-02-{i + 1:02d}"],
                     next_deadline=f"2027-02-{i + 1:02d}") for i in range(20)]
    regional = record(native_id="bv-2026")
    copy = record(source="aides_territoires", native_id="8842", url="https://aides-territoires.beta.gouv.fr/8842",
                  title="Bien vieillir dans les territoires - appel à projets 2026")
    moved = dict(copy, title="Aide à l'investissement des EHPAD")
    moved = record(**{k: v for k, v in moved.items() if k not in ("id", "content_hash", "calendar_hash")})
    for n, copies in enumerate(([copy], [moved], [copy]), start=1):
        load_harvest(db, [batch(SRC, [regional, *others]), batch("aides_territoires", copies)],
                     now=at(f"2026-11-0{n}"), run_id=f"r{n}")
        con = duckdb.connect(str(db), read_only=True)
        stored = dict_rows(con, "SELECT * FROM calls")
        con.close()
        full = clusters(stored)
        assert all((c["cluster_id"], c["is_preferred"]) == full[c["id"]] for c in stored)
        linked = {c["id"]: c["cluster_id"] for c in stored}
        assert (linked[regional["id"]] == linked[copy["id"]]) == (n != 2)
