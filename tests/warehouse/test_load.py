from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from tests.warehouse.factory import at, batch, record
from warehouse import clusters as clusters_module
from warehouse import load as load_module
from warehouse.db import WarehouseError, connect, migrations
from warehouse.load import load_harvest

SRC = "region_nouvelle_aquitaine"
TABLES = ("calls", "call_versions", "call_sources", "harvest_runs", "harvests", "quarantine")


def dump(db) -> dict[str, list]:
    con = connect(db, read_only=True)
    try:
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in TABLES}
    finally:
        con.close()


def one(db, sql, params=()):
    con = connect(db, read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture
def db(tmp_path):
    return tmp_path / "warehouse.duckdb"


def test_connect_applies_every_migration_once(db):
    con = connect(db)
    applied = [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()]
    con.close()
    assert applied == [m.version for m in migrations()]
    con = connect(db)
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(applied)
    con.close()


def test_read_only_connect_refuses_a_missing_file(tmp_path):
    with pytest.raises(WarehouseError, match="no warehouse"):
        connect(tmp_path / "absent.duckdb", read_only=True)
    assert not (tmp_path / "absent.duckdb").exists()


def test_first_load_stores_calls_runs_and_first_versions(db):
    recs = [record(native_id="aap-1"), record(native_id="aap-2", title="AMI Inclusion numérique des seniors")]
    stats = load_harvest(db, [batch(SRC, recs)], now=at("2026-11-23"), run_id="r1")
    assert (stats[SRC].new, stats[SRC].updated, stats[SRC].unchanged) == (2, 0, 0)
    rows = one(db, "SELECT id, status, version, first_seen_at = last_seen_at, deadlines[1]::VARCHAR "
                   "FROM calls ORDER BY id")
    assert rows == [(recs[0]["id"], "open", 1, True, "2027-01-15"), (recs[1]["id"], "open", 1, True, "2027-01-15")]
    runs = one(db, "SELECT source, ok, items, new, responses FROM harvest_runs")
    assert runs == [(SRC, True, 2, 2, '{"200": 3}')]
    assert one(db, "SELECT count(*), min(change_kind) FROM call_versions WHERE valid_to IS NULL") == [(2, "new")]
    assert one(db, "SELECT count(*) FROM call_sources") == [(2,)]


def test_loading_the_same_harvest_twice_changes_nothing(db):
    recs = [record(native_id="aap-1"), record(native_id="aap-2", deadlines=["2026-12-01"])]
    load_harvest(db, [batch(SRC, recs)], now=at("2026-11-23"), run_id="r1")
    before = dump(db)
    stats = load_harvest(db, [batch(SRC, recs)], now=at("2026-11-23"), run_id="r1")
    assert (stats[SRC].new, stats[SRC].updated, stats[SRC].unchanged) == (0, 0, 2)
    after = dump(db)
    for table in TABLES:
        if table == "harvest_runs":      # the run's counts describe its latest load
            continue
        assert after[table] == before[table], table


def test_a_later_harvest_keeps_first_seen_and_moves_last_seen(db):
    rec = record()
    load_harvest(db, [batch(SRC, [rec])], now=at("2026-11-23"), run_id="r1")
    stats = load_harvest(db, [batch(SRC, [rec])], now=at("2026-11-30"), run_id="r2")
    assert stats[SRC].unchanged == 1
    (first, last, version), = one(db, "SELECT first_seen_at, last_seen_at, version FROM calls")
    assert (first.day, last.day, version) == (23, 30, 1)
    assert one(db, "SELECT last_run_id FROM call_sources") == [("r2",)]


def test_every_source_seen_unchanged_is_restamped_by_one_statement_at_the_harvest_end(db, monkeypatch):
    other = "fondation_de_france"
    recs = {SRC: [record(native_id="aap-1"), record(native_id="aap-2")],
            other: [record(other, native_id="fdf-vieillir", url="https://www.fondationdefrance.org/fr/aap/vieillir")]}
    load_harvest(db, [batch(s, r) for s, r in recs.items()], now=at("2026-11-23"), run_id="r1")
    restamps = []
    real = load_module._restamp
    monkeypatch.setattr(load_module, "_restamp", lambda con, columns, clock: (
        restamps.append(sorted(columns["id"])), real(con, columns, clock)))
    stats = load_harvest(db, [batch(s, r) for s, r in recs.items()], now=at("2026-11-30"), run_id="r2")
    assert restamps == [sorted(r["id"] for rs in recs.values() for r in rs)]
    assert {s: st.unchanged for s, st in stats.items()} == {SRC: 2, other: 1}
    assert one(db, "SELECT DISTINCT last_seen_run, last_seen_at::DATE::VARCHAR FROM calls") == [("r2", "2026-11-30")]
    assert one(db, "SELECT DISTINCT last_run_id FROM call_sources") == [("r2",)]
    assert one(db, "SELECT source, unchanged FROM harvest_runs WHERE run_id = 'r2' ORDER BY 1") == [
        (other, 1), (SRC, 2)]


def test_status_is_recomputed_against_the_harvest_date(db):
    rec = record(deadlines=["2026-12-10"], status="open")
    load_harvest(db, [batch(SRC, [rec])], now=at("2026-11-01"), run_id="r1")
    assert one(db, "SELECT status, next_deadline::VARCHAR FROM calls") == [("open", "2026-12-10")]
    load_harvest(db, [batch(SRC, [rec])], now=at("2026-12-01"), run_id="r2")
    assert one(db, "SELECT status FROM calls") == [("closing_soon",)]
    load_harvest(db, [batch(SRC, [rec])], now=at("2026-12-11"), run_id="r3")
    assert one(db, "SELECT status, next_deadline, record_status FROM calls") == [("closed", None, "open")]


def test_rejected_items_and_invalid_records_go_to_quarantine(db):
    good = record(native_id="ok")
    bad_vocab = record(native_id="bad-status", status="ouvert")
    bad_date = record(native_id="feb-30", deadlines=["2027-02-30"])
    missing = record(native_id="short")
    del missing["raw"]
    rejected = [{"source": SRC, "native_id": "x9", "url": "https://les-aides.nouvelle-aquitaine.fr/fiches/x9",
                 "reason": "raw item lacks title", "raw": {"guid": "x9"}}]
    stats = load_harvest(db, [batch(SRC, [good, bad_vocab, bad_date, missing, good], rejected=rejected)],
                         now=at("2026-11-23"), run_id="r1")
    assert (stats[SRC].new, stats[SRC].rejected) == (1, 5)
    reasons = dict(one(db, "SELECT native_id, reason FROM quarantine"))
    assert reasons["x9"] == "raw item lacks title"
    assert "status='ouvert' not in vocabulary" in reasons["bad-status"]
    assert "not a calendar date" in reasons["feb-30"]
    assert "missing raw" in reasons["short"]
    assert "duplicate id" in reasons["ok"]
    assert one(db, "SELECT rejected FROM harvest_runs") == [(5,)]
    load_harvest(db, [batch(SRC, [good, bad_vocab], rejected=rejected)], now=at("2026-11-23"), run_id="r1")
    assert one(db, "SELECT count(*) FROM quarantine") == [(2,)]


def test_deadline_move_is_a_silent_calendar_version(db):
    rec = record()
    load_harvest(db, [batch(SRC, [rec])], now=at("2026-11-23"), run_id="r1")
    moved = record(deadlines=["2027-02-01"], next_deadline="2027-02-01")
    stats = load_harvest(db, [batch(SRC, [moved])], now=at("2026-11-30"), run_id="r2")
    assert stats[SRC].updated == 1
    versions = one(db, "SELECT version, change_kind, changes, valid_to IS NULL FROM call_versions ORDER BY 1")
    assert versions == [(1, "new", "first seen", False),
                        (2, "calendar", "deadline moved from 2027-01-15 to 2027-02-01", True)]
    (content_flag, calendar_at, version), = one(
        db, "SELECT content_changed_at, calendar_changed_at, version FROM calls")
    assert content_flag is None and calendar_at.day == 30 and version == 2


def test_content_change_is_versioned_and_flagged(db):
    load_harvest(db, [batch(SRC, [record()])], now=at("2026-11-23"), run_id="r1")
    changed = record(title="Appel à projets « Bien vieillir » 2026 – 2e édition", amount_max=80000.0)
    load_harvest(db, [batch(SRC, [changed])], now=at("2026-11-30"), run_id="r2")
    (kind, text), = one(db, "SELECT change_kind, changes FROM call_versions WHERE version = 2")
    assert kind == "content"
    assert "maximum amount changed from 50000 to 80000" in text
    assert 'title changed from "Appel à projets « Bien vieillir dans les territoires » 2026"' in text
    assert one(db, "SELECT content_changed_at IS NOT NULL FROM calls") == [(True,)]


def test_vanished_call_is_withdrawn_after_two_successful_harvests_and_comes_back(db):
    stay, gone = record(native_id="stay"), record(native_id="gone")
    load_harvest(db, [batch(SRC, [stay, gone])], now=at("2026-11-02"), run_id="r1")
    s = load_harvest(db, [batch(SRC, [stay])], now=at("2026-11-09"), run_id="r2")
    assert s[SRC].withdrawn == 0
    failed = load_harvest(db, [batch(SRC, [], ok=False)], now=at("2026-11-12"), run_id="r3")
    assert failed[SRC].withdrawn == 0
    assert one(db, "SELECT count(*) FROM calls WHERE status = 'withdrawn'") == [(0,)]
    s = load_harvest(db, [batch(SRC, [stay])], now=at("2026-11-16"), run_id="r4")
    assert s[SRC].withdrawn == 1
    assert one(db, "SELECT id, withdrawn_at IS NOT NULL FROM calls WHERE status = 'withdrawn'") == [
        (gone["id"], True)]
    assert one(db, "SELECT count(*) FROM calls") == [(2,)]
    s = load_harvest(db, [batch(SRC, [stay, gone])], now=at("2026-11-23"), run_id="r5")
    assert s[SRC].updated == 1
    assert one(db, "SELECT status, withdrawn_at FROM calls WHERE id = ?", [gone["id"]]) == [("open", None)]


def test_failed_source_leaves_its_calls_untouched(db):
    load_harvest(db, [batch(SRC, [record()])], now=at("2026-11-02"), run_id="r1")
    before = one(db, "SELECT * FROM calls")
    partial = record(title="Titre tronqué")
    stats = load_harvest(db, [batch(SRC, [partial], ok=False)], now=at("2026-11-09"), run_id="r2")
    assert (stats[SRC].new, stats[SRC].updated) == (0, 0)
    assert one(db, "SELECT * FROM calls") == before
    assert one(db, "SELECT ok, reason FROM harvest_runs WHERE run_id = 'r2'") == [(False, "list page returned 503")]


def test_error_during_load_leaves_previous_state(db, monkeypatch):
    load_harvest(db, [batch(SRC, [record()])], now=at("2026-11-02"), run_id="r1")
    before = dump(db)

    def explode(con):
        raise RuntimeError("disk full")

    monkeypatch.setattr(load_module, "recluster", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        load_harvest(db, [batch(SRC, [record(deadlines=["2027-03-01"]), record(native_id="new")])],
                     now=at("2026-11-09"), run_id="r2")
    assert dump(db) == before


def test_bad_arguments_are_refused_before_writing(db):
    with pytest.raises(ValueError, match="several batches"):
        load_harvest(db, [batch(SRC, []), batch(SRC, [])], now=at("2026-11-02"), run_id="r1")
    with pytest.raises(ValueError, match="timezone-aware"):
        load_harvest(db, [batch(SRC, [])], now=at("2026-11-02").replace(tzinfo=None), run_id="r1")
    assert not db.exists()


def test_same_call_on_two_portals_is_one_cluster_preferring_the_funders_portal(db):
    regional = record(native_id="bv-2026")
    copy = record(source="aides_territoires", native_id="8842",
                  url="https://aides-territoires.beta.gouv.fr/aides/8842-bien-vieillir/",
                  title="Bien vieillir dans les territoires - appel à projets 2026",
                  funder="Conseil régional Nouvelle-Aquitaine")
    other = record(source="aides_territoires", native_id="9001",
                   url="https://aides-territoires.beta.gouv.fr/aides/9001-mobilite/",
                   title="Mobilité solidaire en milieu rural", funder="Région Nouvelle-Aquitaine")
    load_harvest(db, [batch(SRC, [regional]), batch("aides_territoires", [copy, other])],
                 now=at("2026-11-02"), run_id="r1")
    rows = dict((r[0], r[1:]) for r in one(db, "SELECT id, cluster_id, is_preferred FROM calls"))
    assert rows[regional["id"]][0] == rows[copy["id"]][0] != rows[other["id"]][0]
    assert rows[regional["id"]][1] is True and rows[copy["id"]][1] is False and rows[other["id"]][1] is True


def test_cluster_rules():
    base = {"id": "a:1", "source": "a", "canonical_url": "https://a/1", "title": "AAP Bien vieillir 2026",
            "funder": "Région Occitanie", "deadlines": ["2027-01-15"]}
    twin = dict(base, id="b:1", source="b", canonical_url="https://b/1", title="Appel à projets Bien vieillir 2026")
    assert clusters_module.same_call(base, twin)
    assert not clusters_module.same_call(base, dict(twin, deadlines=["2027-03-01"]))
    assert not clusters_module.same_call(base, dict(twin, funder="Fondation de France"))
    assert not clusters_module.same_call(base, dict(twin, source="a"))
    assert not clusters_module.same_call(base, dict(twin, title="Aide à l'investissement des EHPAD"))
    assert clusters_module.normalise_title("Appel à projets « Été solidaire »") == "ete solidaire"


def test_snapshot_reader_does_not_block_a_load(tmp_path):
    from warehouse.snapshot import publish

    db, snap = tmp_path / "warehouse.duckdb", tmp_path / "warehouse_readonly.duckdb"
    load_harvest(db, [batch(SRC, [record(native_id="one")])], now=at("2026-11-02"), run_id="r1")
    (tmp_path / ".warehouse_readonly.duckdb.k1ll3d.tmp").write_bytes(b"half a copy")
    assert publish(db, snap) == snap
    reader = duckdb.connect(str(snap), read_only=True)
    try:
        assert reader.execute("SELECT count(*) FROM calls").fetchone() == (1,)
        load_harvest(db, [batch(SRC, [record(native_id="one"), record(native_id="two")])],
                     now=at("2026-11-09"), run_id="r2")
        publish(db, snap)
        assert reader.execute("SELECT count(*) FROM calls").fetchone() == (1,)
    finally:
        reader.close()
    fresh = connect(snap, read_only=True)
    assert fresh.execute("SELECT count(*) FROM calls").fetchone() == (2,)
    fresh.close()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert snap.stat().st_mode & 0o222 == 0, "the snapshot file is published read-only"


def test_a_checkpointed_warehouse_is_copied_without_opening_it(tmp_path, monkeypatch):
    """After a harvest's load (its connection closed, no write-ahead log left) the snapshot is the file as
    it is; a write-ahead log left by another writer is still folded in first, so no committed row is
    missing from the copy."""
    from warehouse import snapshot

    db, snap = tmp_path / "warehouse.duckdb", tmp_path / "warehouse_readonly.duckdb"
    load_harvest(db, [batch(SRC, [record(native_id="one")])], now=at("2026-11-02"), run_id="r1")
    assert not (tmp_path / "warehouse.duckdb.wal").exists()
    opened = []
    real_connect = snapshot.connect
    monkeypatch.setattr(snapshot, "connect", lambda path, **kw: opened.append(Path(path)) or real_connect(path, **kw))
    snapshot.publish(db, snap, checkpointed=True)
    assert len(opened) == 1 and opened[0] != db, "only the copy is opened, to check it"

    writer = duckdb.connect(str(db))  # a commit left in the log: no checkpoint, not even when closing
    writer.execute("PRAGMA disable_checkpoint_on_shutdown")
    writer.execute("SET checkpoint_threshold = '1GB'")
    writer.execute("UPDATE calls SET title = 'Titre corrigé' WHERE native_id = 'one'")
    writer.close()
    assert (tmp_path / "warehouse.duckdb.wal").exists()
    opened.clear()
    snapshot.publish(db, snap, checkpointed=True)
    assert opened[0] == db and len(opened) == 2
    con = connect(snap, read_only=True)
    assert con.execute("SELECT title FROM calls").fetchall() == [("Titre corrigé",)]
    con.close()


def test_records_checked_by_the_transforms_are_not_checked_again(db, monkeypatch):
    """A harvest's records come from ``to_record``, which ran ``schema.record_problem`` on each: the
    loader only checks their source and ids (the schema check is not run a second time)."""
    from dataclasses import replace

    from pipeline import schema

    def never(rec):
        raise AssertionError("checked records are not checked again")

    monkeypatch.setattr(schema, "record_problem", never)
    good = record(native_id="ok")
    other = record(source="aides_territoires", native_id="elsewhere")
    stats = load_harvest(db, [replace(batch(SRC, [good, other, good]), checked=True)], now=at("2026-11-23"),
                         run_id="r1")
    assert (stats[SRC].new, stats[SRC].rejected) == (1, 2)
    reasons = dict(one(db, "SELECT native_id, reason FROM quarantine"))
    assert "in the batch of" in reasons["elsewhere"] and "duplicate id" in reasons["ok"]


def test_to_record_runs_the_storage_check():
    """A record that the warehouse could not store (here: a raw payload that is a string, not a JSON object)
    is refused by ``to_record`` with the storage check's reason."""
    from datetime import date

    from pipeline import schema
    from transforms import normalize

    item = {"source": SRC, "fetched_at": "2026-11-23T06:00:00+00:00", "native_id": "x1",
            "url": "https://les-aides.nouvelle-aquitaine.fr/fiches/x1", "title": "Appel à projets Bien vieillir"}
    meta = {"source_level": "regional", "funder": "Région Nouvelle-Aquitaine", "perimeter": None}
    assert normalize.to_record(item, meta, date(2026, 11, 23))["native_id"] == "x1"
    assert schema.record_problem({**normalize.to_record(item, meta, date(2026, 11, 23)), "raw": "<p>x</p>"}) \
        == "raw is str, not a JSON object or list"
    with pytest.raises(schema.ValidationError, match="raw is str, not a JSON object or list"):
        normalize.to_record({**item, "raw": "<p>fiche</p>"}, meta, date(2026, 11, 23))


def test_last_durations_are_the_latest_crawl_of_each_source(db):
    from dataclasses import replace

    from warehouse.load import HarvestLoad

    other = "aides_territoires"
    for run, (mine, theirs) in enumerate([(3.0, 9.0), (5.0, None)]):
        batches = [replace(batch(SRC, [record(native_id=f"a{run}")]), crawl={**batch(SRC, []).crawl,
                                                                            "duration_s": mine})]
        if theirs is not None:
            batches.append(replace(batch(other, [record(source=other, native_id="b")]),
                                   crawl={**batch(other, []).crawl, "duration_s": theirs}))
        load_harvest(db, batches, now=at("2026-11-23"), run_id=f"r{run}")  # the same time: the later load wins
    with HarvestLoad(db, now=at("2026-11-24"), run_id="r3") as load:
        assert load.last_durations() == {SRC: 5.0, other: 9.0}


def test_a_call_listed_but_quarantined_has_not_vanished(db):
    ok, later_broken = record(native_id="ok"), record(native_id="broken")
    load_harvest(db, [batch(SRC, [ok, later_broken])], now=at("2026-11-02"), run_id="r1")
    broken = dict(later_broken, status="ouvert")
    rejected = [{"source": SRC, "native_id": "x7", "url": "https://les-aides.nouvelle-aquitaine.fr/fiches/x7",
                 "reason": "raw item lacks title", "raw": {}}]
    for day, run in (("2026-11-09", "r2"), ("2026-11-16", "r3"), ("2026-11-23", "r4")):
        stats = load_harvest(db, [batch(SRC, [ok, broken], rejected=rejected)], now=at(day), run_id=run)
        assert (stats[SRC].withdrawn, stats[SRC].rejected) == (0, 1 + 1)
    assert one(db, "SELECT status, last_seen_run, version FROM calls WHERE id = ?", [broken["id"]]) == [
        ("open", "r4", 1)]
    stats = load_harvest(db, [batch(SRC, [ok])], now=at("2026-11-30"), run_id="r5")
    assert stats[SRC].withdrawn == 0
    stats = load_harvest(db, [batch(SRC, [ok])], now=at("2026-12-07"), run_id="r6")
    assert stats[SRC].withdrawn == 1


def test_an_old_warehouse_is_upgraded_and_a_failed_migration_rolls_back(db, monkeypatch):
    from warehouse import db as db_module

    first = migrations()[0]
    monkeypatch.setattr(db_module, "migrations", lambda: [first])
    connect(db).close()
    monkeypatch.undo()
    with pytest.raises(WarehouseError, match="lacks migrations"):
        connect(db, read_only=True)
    connect(db).close()
    assert one(db, "SELECT count(*) FROM open_calls") == [(0,)]

    broken = db_module.Migration(99, "099_broken.sql", "CREATE TABLE half_done (x INTEGER); SELECT * FROM nowhere;")
    monkeypatch.setattr(db_module, "migrations", lambda: [*migrations(), broken])
    with pytest.raises(WarehouseError, match="099_broken.sql failed"):
        connect(db)
    monkeypatch.undo()
    assert one(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'") == [(0,)]
    assert 99 not in {r[0] for r in one(db, "SELECT version FROM schema_migrations")}


def test_a_database_without_the_migrations_table_is_seen_as_unmigrated(tmp_path):
    import duckdb

    from warehouse.db import applied_versions

    path = tmp_path / "foreign.duckdb"
    foreign = duckdb.connect(str(path))
    foreign.execute("CREATE TABLE notes (x INTEGER)")
    assert applied_versions(foreign) == set()
    foreign.close()
    with pytest.raises(WarehouseError, match="lacks migrations"):
        connect(path, read_only=True)
    con = connect(path)  # writable: every migration applied
    assert applied_versions(con) == {m.version for m in migrations()}
    con.close()


def test_a_record_without_the_transforms_hashes_is_quarantined(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    good = record(native_id="good")
    stats = load_harvest(db, [batch(SRC, [good, dict(record(native_id="nohash"), content_hash=""),
                                          dict(record(native_id="upper"), calendar_hash="A" * 32)])],
                         now=at("2026-11-02"), run_id="r1")
    assert (stats[SRC].new, stats[SRC].rejected) == (1, 2)
    con = duckdb.connect(str(db), read_only=True)
    reasons = [r for (r,) in con.execute("SELECT reason FROM quarantine ORDER BY native_id").fetchall()]
    con.close()
    assert reasons == ["content_hash '' is not a hash computed by the transforms",
                       "calendar_hash 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' is not a hash computed by the transforms"]


def test_json_columns_are_sorted_compact_and_take_what_orjson_refuses(tmp_path):
    import json

    db = tmp_path / "warehouse.duckdb"
    usual = record(native_id="j1", raw={"b": "é", "a": [1, None]})
    huge = record(native_id="j2", raw={"siret_list": 10**30})  # beyond 64 bits: orjson refuses it
    stats = load_harvest(db, [batch("region_nouvelle_aquitaine", [usual, huge])], now=at("2026-11-02"),
                         run_id="r1")
    assert (stats["region_nouvelle_aquitaine"].new, stats["region_nouvelle_aquitaine"].rejected) == (2, 0)
    con = duckdb.connect(str(db), read_only=True)
    try:
        raw = dict(con.execute("SELECT native_id, raw FROM calls").fetchall())
    finally:
        con.close()
    assert raw["j1"] == '{"a":[1,null],"b":"é"}'
    assert json.loads(raw["j2"]) == {"siret_list": 10**30}


def test_clusters_are_the_components_of_every_pair_the_rules_link():
    """The candidate pairs (same block, different sources, compatible funders) miss no pair that rule 1 or
    2 links: the clusters equal the connected components over all pairs, on random small catalogues."""
    import random
    from itertools import combinations

    titles = ["Bien vieillir 2026", "AAP Bien vieillir 2026", "Mobilité solidaire", "Mobilité solidaire rurale",
              "Aide alimentaire d'urgence"]
    funders = [None, "Région Occitanie", "Conseil régional Occitanie", "Fondation de France"]
    for seed in range(40):
        rnd = random.Random(seed)
        calls = [{"id": f"c{i}", "source": rnd.choice("abc"), "canonical_url": f"https://x/{rnd.randrange(12)}",
                  "title": rnd.choice(titles), "funder": rnd.choice(funders),
                  "deadlines": rnd.choice([[], [date(2027, 1, 15)], [date(2027, 1, 15), date(2027, 3, 1)]]),
                  "first_seen_at": datetime(2026, 11, 2), "status": "open", "perimeter_scale": "region",
                  "source_level": "regional", "eligibility_text": True, "description": True,
                  "application_url": False, "programme": False, "amount_min": None, "amount_max": None}
                 for i in range(14)]
        parent = {c["id"]: c["id"] for c in calls}

        def find(x, parent=parent):
            while parent[x] != x:
                x = parent[x]
            return x

        for a, b in combinations(calls, 2):
            if a["canonical_url"] == b["canonical_url"] or clusters_module.same_call(a, b):
                parent[find(a["id"])] = find(b["id"])
        expected = {frozenset(c["id"] for c in calls if find(c["id"]) == find(k["id"])) for k in calls}
        computed = clusters_module.clusters(calls)
        got = {frozenset(i for i in computed if computed[i][0] == computed[k["id"]][0]) for k in calls}
        assert got == expected, seed


def test_a_raw_item_serialised_early_is_stored_as_the_item_itself(tmp_path):
    """A harvest hands the load each record's ``raw`` already in its stored form (``stored_json``): the
    warehouse holds exactly what the parsed item gives, odd values included."""
    raws = [{"guid": "a", "title": "Répit des aidants — 2027 ’€", "n": 1.5, "tags": ["x", None]},
            {"b": 1, "a": {"z": [], "y": {}}, 3: "clé entière"},
            {"big": 2 ** 70},  # beyond orjson's integers: through the standard library
            {"lone": "\ud800 surrogate"},  # not encodable as such: stored with a replacement
            "<div class=\"fiche\">fragment de page</div>"]
    records = [record(native_id=f"n{k}", raw=raw) for k, raw in enumerate(raws)]
    early = [{**rec, "raw": load_module.stored_json(rec["raw"])} for rec in records]
    assert all(type(rec["raw"]) is load_module.StoredJSON for rec in early)
    for name, recs in (("items", records), ("early", early)):  # checked, as a harvest's records are
        load_harvest(tmp_path / f"{name}.duckdb", [replace(batch(SRC, recs), checked=True)], now=at("2026-11-20"),
                     run_id="r1")
    assert dump(tmp_path / "early.duckdb") == dump(tmp_path / "items.duckdb")
    stored = dict(one(tmp_path / "early.duckdb", "SELECT native_id, raw FROM calls"))
    assert json.loads(stored["n0"]) == raws[0] and json.loads(stored["n2"]) == {"big": 2 ** 70}
    assert json.loads(stored["n3"]) == {"lone": "? surrogate"}
    assert json.loads(stored["n4"]) == raws[4]


def _can_open_writable_elsewhere(path) -> bool:
    """Whether another process can open ``path`` for writing (DuckDB's file lock is per process)."""
    import subprocess
    import sys

    code = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True).returncode == 0


def test_a_shared_instance_holds_a_file_only_while_its_connection_is_in_use(db):
    from warehouse.db import SharedInstance, release

    load_harvest(db, [batch(SRC, [record()])], now=at("2026-11-23"), run_id="r1")
    with SharedInstance() as shared:
        con = connect(db, shared=shared)
        # a load beyond its memory limit spills next to the warehouse, not into the working folder
        assert con.execute("SELECT current_setting('temp_directory')").fetchone() == (f"{db}.tmp",)
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM calls")
        with pytest.raises(duckdb.ConstraintException):  # the transaction fails and is left open
            con.execute("INSERT INTO harvests (run_id) VALUES (NULL)")
        assert not _can_open_writable_elsewhere(db)
        release(con, shared)
        assert _can_open_writable_elsewhere(db)
        ro = connect(db, read_only=True, shared=shared)
        # the tables and the views of the attached file, by their names
        assert ro.execute("SELECT count(*) FROM calls").fetchone() == (1,)
        assert ro.execute("SELECT count(*) FROM open_calls").fetchone() == (1,)
        release(ro, shared)
        broken = db.with_name("broken.duckdb")
        broken.write_bytes(b"not a DuckDB file " * 512)
        with pytest.raises(duckdb.IOException, match="not a valid DuckDB database"):
            connect(broken, read_only=True, shared=shared)
        ro = connect(db, read_only=True, shared=shared)  # nothing else is left attached
        assert ro.execute("SELECT path FROM duckdb_databases() WHERE NOT internal AND path IS NOT NULL"
                          ).fetchall() == [(str(db),)]
        release(ro, shared)
        with pytest.raises(WarehouseError, match="no warehouse"):
            connect(db.with_name("absent.duckdb"), read_only=True, shared=shared)
        shared.close()
        with pytest.raises(WarehouseError, match="closed"):
            connect(db, read_only=True, shared=shared)
    assert one(db, "SELECT count(*) FROM calls") == [(1,)]


def test_a_shared_instance_starts_in_a_thread_and_its_failure_is_raised_where_it_is_used(db, monkeypatch):
    import threading

    from warehouse.db import SharedInstance, release

    starters = []
    real = duckdb.connect

    def connect_here(*args, **kwargs):
        starters.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", connect_here)
    with SharedInstance() as shared:
        release(connect(db, shared=shared), shared)
    assert len(starters) == 1 and starters[0] is not threading.current_thread()

    def broken(*args, **kwargs):
        raise duckdb.IOException("out of file descriptors")

    monkeypatch.setattr(duckdb, "connect", broken)
    with SharedInstance() as shared, pytest.raises(WarehouseError, match="DuckDB could not start: out of file"):
        connect(db, shared=shared)


def test_a_few_rows_are_written_as_parameters_exactly_as_through_arrow(tmp_path, monkeypatch):
    rows = [load_module._run_row(batch(SRC, [record()]), load_module._Clock("r1", datetime(2026, 11, 23, 6),
                                 date(2026, 11, 23)), load_module.LoadStats(new=1)),
            load_module._run_row(batch("fondation_de_france", [], ok=False),
                                 load_module._Clock("r1", datetime(2026, 11, 23, 6), date(2026, 11, 23)),
                                 load_module.LoadStats())]
    rows[1]["duration_s"] = None
    stored = {}
    for few in (load_module.FEW_ROWS, 0):  # 0: every list of rows goes through an Arrow table
        monkeypatch.setattr(load_module, "FEW_ROWS", few)
        con = connect(tmp_path / f"few{few}.duckdb")
        load_module._insert(con, "harvest_runs", [{**rows[0], "source": "old"}, rows[1]])
        load_module._insert(con, "harvest_runs", rows, replace=("run_id", "source"))  # rows[1] replaced
        stored[few] = con.execute("SELECT * FROM harvest_runs ORDER BY source").fetchall()
        con.close()
    assert stored[0] == stored[load_module.FEW_ROWS]
    assert [r[1] for r in stored[0]] == ["fondation_de_france", "old", SRC]


def test_a_source_written_in_parts_gives_the_same_warehouse(tmp_path, monkeypatch):
    """Its calls go to DuckDB ``WRITE_CHUNK`` at a time: new, changed and rewritten calls on either side
    of a part's end are stored as when written at once."""
    first = [record(native_id=f"aap-{n}", deadlines=[f"2027-01-{10 + n}"]) for n in range(6)]
    second = [first[0], replace_fields(first[1], title="AMI Inclusion numérique, deuxième vague"),
              replace_fields(first[2], ccas_rule="names_ccas_variant"), first[3],
              replace_fields(first[4], deadlines=["2027-03-01"]), record(native_id="aap-new")]
    dumps = []
    for chunk in (load_module.WRITE_CHUNK, 2):
        monkeypatch.setattr(load_module, "WRITE_CHUNK", chunk)
        db = tmp_path / f"chunk{chunk}.duckdb"
        load_harvest(db, [batch(SRC, first)], now=at("2026-11-23"), run_id="r1")
        stats = load_harvest(db, [batch(SRC, second)], now=at("2026-11-30"), run_id="r2")
        assert (stats[SRC].new, stats[SRC].updated, stats[SRC].unchanged) == (1, 2, 3)
        versions = {i: (n, run) for i, n, run in one(
            db, "SELECT call_id, count(*), arg_max(run_id, version) FROM call_versions GROUP BY call_id")}
        # the rewritten call (an unhashed field changed) opens no version
        assert [versions[r["id"]] for r in second] == [(1, "r1"), (2, "r2"), (1, "r1"), (1, "r1"), (2, "r2"),
                                                       (1, "r2")]
        dumps.append(dump(db))
    assert dumps[0] == dumps[1]


def replace_fields(rec, **fields):
    """``rec`` with ``fields`` changed, its hashes recomputed as the transforms would."""
    return record(native_id=rec["native_id"], **{k: v for k, v in rec.items()
                                                 if k not in ("id", "content_hash", "calendar_hash", "native_id")
                                                 and k not in fields}, **fields)


def test_the_raw_hashes_of_every_source_are_read_at_once(db):
    rec = record(native_id="aap-1")
    other = record("fondation_de_france", native_id="fdf-1", url="https://www.fondationdefrance.org/fr/aap/fdf-1")
    load_harvest(db, [replace(batch(SRC, [rec]), raw_hashes={rec["id"]: "f" * 64}),
                      batch("fondation_de_france", [other])], now=at("2026-11-23"), run_id="r1")
    with load_module.HarvestLoad(db, now=at("2026-11-24"), run_id="r2") as load:
        assert load.raw_hashes([SRC, "fondation_de_france", "departement_drome"]) == {
            SRC: {"f" * 64: rec["id"]}, "fondation_de_france": {}, "departement_drome": {}}
