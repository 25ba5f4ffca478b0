"""The harvest's export files: the digest is read once, the ICS, Atom and JSON writers give the exact output
of the libraries they replace, and files are rewritten only when what the digest shows changed."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, timedelta

import pytest
from icalendar import Calendar, Event
from icalendar.parser.string import _foldline

from tests.warehouse.factory import at, batch, record
from warehouse.db import SharedInstance, WarehouseError, connect, release
from warehouse.exports import atom, ics
from warehouse.exports import digest as digest_module
from warehouse.exports.digest import dumps, to_jsonable
from warehouse.exports.weekly import read_digest, write_weekly_files
from warehouse.load import load_harvest
from warehouse.snapshot import publish

SRC = "region_nouvelle_aquitaine"
FORMATS = ("html", "md", "csv", "json", "ics", "atom")


def icalendar_reference(digest) -> bytes:
    """The calendar as the ``icalendar`` library builds it (what ``ics.write`` replaced)."""
    cal = Calendar()
    cal.add("prodid", "-//aap//appels a projets CCAS-CIAS//FR")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", digest.title)
    for item in digest.unique_items():
        for rank, deadline in enumerate(item.deadlines):
            if deadline < digest.reference:
                continue
            ev = Event()
            ev.add("uid", ics.event_uid(item.id, rank))
            withdrawn = item.status == "withdrawn"
            ev.add("summary", f"{'Retiré' if withdrawn else 'Date limite'} : {item.title}")
            if withdrawn:
                ev.add("status", "CANCELLED")
            ev.add("dtstart", deadline)
            ev.add("dtend", deadline + timedelta(days=1))
            ev.add("dtstamp", digest.generated_at)
            ev.add("sequence", item.version)
            ev.add("url", item.url)
            ev.add("description", "\n".join(filter(None, [
                f"Financeur : {item.funder or 'non précisé'}", f"Périmètre : {item.perimeter}",
                f"Montant : {item.amount_text}", f"Éligibilité : {item.ccas_label}",
                item.ccas_evidence, item.url])))
            ev.add("categories", [item.theme_label])
            ev.add("transp", "TRANSPARENT")
            cal.add_component(ev)
    return cal.to_ical()


def feedgen_reference(digest) -> bytes:
    """The feed as ``feedgen`` builds it (what ``atom.write`` replaced), with aap as its generator."""
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(atom.FEED_ID)
    fg.title(digest.title)
    fg.author({"name": atom.AUTHOR})
    fg.language("fr")
    fg.updated(digest.generated_at)
    fg.generator(atom.GENERATOR)
    for item, summary in atom.entries(digest):  # the calls and their texts; feedgen writes the XML
        fe = fg.add_entry(order="append")
        fe.id(atom.entry_id(item.id))
        fe.title(item.title)
        fe.link(href=item.url)
        fe.updated(item.updated_at.replace(tzinfo=UTC))
        fe.published(item.first_seen_at.replace(tzinfo=UTC))
        fe.category(term=item.theme, label=item.theme_label)
        fe.summary(summary, type="text")
    return fg.atom_str(pretty=True)


def harvest(db, snap, records, day):
    load_harvest(db, [batch(SRC, records)], now=at(day), run_id=f"run-{day}")
    publish(db, snap)


@pytest.fixture()
def warehouse(tmp_path):
    db, snap = tmp_path / "warehouse.duckdb", tmp_path / "warehouse_readonly.duckdb"
    tricky = record(native_id="tricky", title="Appel ; à, projets \\ « très » " + "long é" * 40,
                    ccas_evidence="Ligne 1\nLigne 2\r\nLigne 3, \\N fin; " + "^" * 80,
                    deadlines=["2026-11-30", "2027-01-15"], deadline_kind="multiple")
    gone = record(native_id="gone", title="AMI retiré")
    harvest(db, snap, [tricky, gone, record(native_id="plain")], "2026-11-16")
    harvest(db, snap, [tricky, record(native_id="plain")], "2026-11-18")
    harvest(db, snap, [tricky, record(native_id="plain")], "2026-11-20")
    return db, snap


def test_fold_matches_icalendar_on_any_text():
    rng = random.Random(7)
    alphabet = "ab \\^;,é€😀\u00a0x"
    for _ in range(2000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        assert ics.fold(line) == _foldline(line).encode("utf-8"), line


@pytest.fixture()
def digest(warehouse):
    """The digest of the fixture's warehouse: a tricky call, a plain one and a withdrawn one."""
    digest = read_digest(warehouse[1], now=at("2026-11-20", hour=7))
    assert any(i.status == "withdrawn" for i in digest.unique_items())
    return digest


def test_ics_is_byte_identical_to_icalendar_and_parses_back(digest, tmp_path):
    path = ics.write(digest, tmp_path / "w.ics")
    assert path.read_bytes() == icalendar_reference(digest)
    events = list(Calendar.from_ical(path.read_bytes()).walk("VEVENT"))
    assert len(events) == 4
    assert all(len(line) <= 75 for line in path.read_bytes().split(b"\r\n"))


def test_atom_is_byte_identical_to_feedgen(digest, tmp_path):
    assert atom.write(digest, tmp_path / "w.atom").read_bytes() == feedgen_reference(digest)


def test_atom_escapes_any_text_as_lxml_does(digest, tmp_path):
    rng = random.Random(11)
    alphabet = "ab &<>\"'\t\r\n;é€😀\u00a0]]>"

    def noise(size):
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, size)))

    for k in range(40):
        for section in digest.sections:
            for group in section.groups:
                group.items = [replace(item, title=noise(60), url="https://x.fr/?" + noise(30),
                                       ccas_evidence=noise(80), funder=noise(20), id=f"{item.id}{noise(8)}")
                               for item in group.items]
        assert atom.write(digest, tmp_path / f"w{k}.atom").read_bytes() == feedgen_reference(digest)


def test_atom_leaves_out_what_xml_cannot_carry(digest, tmp_path):
    import feedparser

    item = digest.sections[0].groups[0].items[0]
    digest.sections[0].groups[0].items[0] = replace(item, title="Appel\x00 à\x1b projets\ufffe\ud800 2027")
    feed = feedparser.parse(atom.write(digest, tmp_path / "w.atom").read_bytes())
    assert not feed.bozo
    assert feed.entries[0].title == "Appel à projets 2027"


def test_json_text_is_the_standard_librarys():
    value = {"a": [], "b": {}, "c": [1.5, 2, None, True, False, "é\n\"\\\u2028\x00"], "d": {"x": [[]], "y": [{}]},
             "e": at("2026-01-01"), "f": at("2026-01-01").date(), 1: "int key", None: 1, "t": (1, 2)}
    assert dumps(value) == json.dumps(to_jsonable(value), ensure_ascii=False, indent=2)


def _stamps(directory):
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in directory.iterdir()}


def test_the_export_code_hash_reads_the_template_files_and_not_their_bytecode(tmp_path) -> None:
    exports, templates = tmp_path / "warehouse" / "exports", tmp_path / "warehouse" / "templates"
    (templates / "__pycache__").mkdir(parents=True)
    exports.mkdir()
    for path in (exports / "weekly.py", templates / "__init__.py", templates / "weekly.html.j2",
                 templates / "__pycache__" / "__init__.cpython-311.pyc"):
        path.write_text("x", encoding="utf-8")
    files = digest_module.code_files(exports)
    assert [p.name for p in files[:3]] == ["weekly.py", "__init__.py", "weekly.html.j2"]
    assert all(p.is_file() for p in files), "a folder among the hashed files fails every export"


def test_exports_are_skipped_until_the_digest_changes(warehouse, tmp_path, monkeypatch):
    from warehouse.exports import weekly

    db, snap = warehouse
    out = tmp_path / "exports"
    now = at("2026-11-20", hour=7)
    first = write_weekly_files(snap, now=now, formats=FORMATS, directory=out)
    assert not first.errors and not first.unchanged and len(first.paths) == len(FORMATS)
    before = _stamps(out)

    with monkeypatch.context() as m:  # the same inputs: the digest is not even built
        m.setattr(weekly, "build_digest", lambda *a, **k: pytest.fail("the digest was built again"))
        again = write_weekly_files(snap, now=now + timedelta(minutes=5), formats=FORMATS, directory=out)
    assert again.unchanged == again.paths == first.paths
    assert _stamps(out) == before, "nothing the digest shows changed: no file is rewritten"

    with monkeypatch.context() as m:  # new export code: the digest is built again, the same files stay
        m.setattr(digest_module, "_code_hash", lambda: "other code")
        rebuilt = write_weekly_files(snap, now=now, formats=FORMATS, directory=out)
    files_only = {name: stamp for name, stamp in before.items() if not name.startswith(".")}
    assert rebuilt.unchanged == rebuilt.paths
    assert {n: st for n, st in _stamps(out).items() if not n.startswith(".")} == files_only

    (out / "weekly-2026-W47.md").unlink()
    missing = write_weekly_files(snap, now=now, formats=FORMATS, directory=out)
    assert [p.name for p in missing.paths if p not in missing.unchanged] == ["weekly-2026-W47.md"]

    # a deadline moves: every format is written again
    moved = record(native_id="plain", deadlines=["2027-02-01"])
    harvest(db, snap, [moved, record(native_id="tricky")], "2026-11-20")
    changed = write_weekly_files(snap, now=now, formats=FORMATS, directory=out)
    assert not changed.unchanged and not changed.errors
    assert "2027-02-01" in (out / "weekly-2026-W47.json").read_text(encoding="utf-8")

    # the same warehouse on another day: the window and the reference day move, so the digest is new
    later = write_weekly_files(snap, now=now + timedelta(days=1), formats=FORMATS, directory=out)
    assert not later.unchanged


def test_equal_inputs_give_equal_digests(warehouse):
    """``inputs_key`` is what lets a harvest skip building the digest: whenever two keys are equal, the
    digests they stand for are the same (``digest_key``), across minutes, days and a call changing."""
    from warehouse.exports.digest import build_digest, inputs_key
    from warehouse.exports.weekly import digest_key

    db, snap = warehouse
    seen: dict[str, str] = {}
    base = at("2026-11-20", hour=7)
    # the first harvest was at 06:00 on the 16th: a week later its calls leave the "new" window
    week_later = at("2026-11-23")
    moments = [base + timedelta(minutes=m) for m in (0, 5, 60 * 17)] + [base + timedelta(days=d) for d in (1, 7)] \
        + [week_later - timedelta(minutes=1), week_later + timedelta(minutes=1)]
    for step in range(2):
        if step:
            harvest(db, snap, [record(native_id="plain", deadlines=["2027-03-01"]), record(native_id="tricky")],
                    "2026-11-20")
        con = connect(snap, read_only=True)
        try:
            for now in moments:
                _, key = inputs_key(con, now=now)
                digest = digest_key(build_digest(con, now=now))
                assert seen.setdefault(key, digest) == digest
        finally:
            con.close()
    assert len(set(seen.values())) >= 3


def _changed(column: str, kind: str) -> str:
    """An SQL expression giving ``column`` (of DuckDB type ``kind``) another value, NULL included; texts
    change at their very end, so a hash of their first characters only would miss it."""
    changed = {"VARCHAR": f"coalesce({column} || '~', '~')", "DOUBLE": f"coalesce({column} + 1, 1)",
               "INTEGER": f"coalesce({column} + 1, 1)", "BOOLEAN": f"NOT coalesce({column}, false)",
               "DATE": f"coalesce({column} + 1, DATE '2027-01-01')",
               "TIMESTAMP": f"coalesce({column} + INTERVAL 1 SECOND, TIMESTAMP '2026-11-19 10:00:00')"}
    if kind.endswith("[]"):
        element = {"VARCHAR[]": "'~'", "DATE[]": "DATE '2027-06-30'"}[kind]
        return f"list_append(coalesce({column}, []), {element})"
    return changed[kind]


def test_any_change_to_what_the_digest_reads_changes_the_inputs_key(warehouse):
    """Each column of ``calls`` the digest's query reads, changed in one row (the long-texted one), gives
    another key; and so do two rows trading their titles (a key must not be blind to which row holds what)."""
    import re

    from warehouse.exports.digest import _ITEM_SQL, inputs_key

    db, _ = warehouse
    now = at("2026-11-20", hour=7)
    columns = sorted(set(re.findall(r"\bc\.(\w+)", _ITEM_SQL)) - {"id"})
    assert {"title", "deadlines", "themes", "amount_max", "ccas_evidence", "withdrawn_at"} <= set(columns)
    con = connect(db)
    try:
        kinds = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'calls'").fetchall())
        (tricky,) = con.execute("SELECT id FROM calls WHERE title LIKE 'Appel ;%'").fetchone()
        _, before = inputs_key(con, now=now)
        keys = {}
        for column in columns:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(f"UPDATE calls SET {column} = {_changed(column, kinds[column])} WHERE id = ?", [tricky])
                keys[column] = inputs_key(con, now=now)[1]
            finally:
                con.execute("ROLLBACK")
        (other, other_title), = con.execute("SELECT id, title FROM calls WHERE id <> ? AND is_preferred LIMIT 1",
                                            [tricky]).fetchall()
        (tricky_title,) = con.execute("SELECT title FROM calls WHERE id = ?", [tricky]).fetchone()
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("UPDATE calls SET title = CASE id WHEN ? THEN ? ELSE ? END WHERE id IN (?, ?)",
                        [tricky, other_title, tricky_title, tricky, other])
            keys["two titles traded"] = inputs_key(con, now=now)[1]
        finally:
            con.execute("ROLLBACK")
        assert inputs_key(con, now=now)[1] == before
    finally:
        con.close()
    assert [column for column, key in keys.items() if key == before] == []
    assert len(set(keys.values())) == len(keys)


def test_an_unreadable_snapshot_is_reported_per_format(tmp_path):
    files = write_weekly_files(tmp_path / "none.duckdb", now=at("2026-11-20"), formats=("md", "ics"),
                               directory=tmp_path / "exports")
    assert not files.paths and [e.split(":")[0] for e in files.errors] == ["md", "ics"]


def test_formats_written_by_two_processes_are_the_same_files(warehouse, tmp_path):
    _, snap = warehouse
    now = at("2026-11-20", hour=7)
    one = write_weekly_files(snap, now=now, formats=FORMATS, directory=tmp_path / "one", workers=1)
    two = write_weekly_files(snap, now=now, formats=FORMATS, directory=tmp_path / "two", workers=2)
    assert not one.errors and not two.errors
    assert [p.name for p in two.paths] == [p.name for p in one.paths] == [f"weekly-2026-W47.{f}" for f in FORMATS]
    for a, b in zip(one.paths, two.paths, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_files_read_through_a_shared_instance_are_the_same_and_it_is_closed_before_a_fork(warehouse, tmp_path):
    _, snap = warehouse
    now = at("2026-11-20", hour=7)
    own = write_weekly_files(snap, now=now, formats=FORMATS, directory=tmp_path / "own", workers=1)
    for workers in (1, 2):
        with SharedInstance() as shared:
            files = write_weekly_files(snap, now=now, formats=FORMATS, directory=tmp_path / f"shared{workers}",
                                       workers=workers, shared=shared)
            if workers == 1:  # still usable: the snapshot was only attached for the reading
                release(connect(snap, read_only=True, shared=shared), shared)
            else:  # the forked writer inherits no DuckDB instance
                with pytest.raises(WarehouseError, match="closed"):
                    connect(snap, read_only=True, shared=shared)
        assert not files.errors
        for a, b in zip(own.paths, files.paths, strict=True):
            assert a.read_bytes() == b.read_bytes(), a.name


def test_a_format_failing_in_the_other_process_is_reported(warehouse, tmp_path, monkeypatch):
    from warehouse.exports import atom

    _, snap = warehouse

    def broken(digest, path, **options):
        raise RuntimeError("disk full")

    monkeypatch.setattr(atom, "write", broken)
    out = tmp_path / "exports"
    files = write_weekly_files(snap, now=at("2026-11-20", hour=7), formats=FORMATS, directory=out, workers=2)
    assert files.errors == ["atom: RuntimeError: disk full"]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        f"weekly-2026-W47.{f}" for f in FORMATS if f != "atom")
    state = json.loads((out / ".weekly-2026-W47.state.json").read_text(encoding="utf-8"))
    # per format, the digest it was written from; and the digest and inputs of the last run
    assert "atom" not in state and set(state) == (set(FORMATS) - {"atom"}) | {"digest", "inputs"}


def test_a_small_digest_is_written_without_a_second_process(monkeypatch):
    from pipeline import settings
    from warehouse.exports import weekly

    monkeypatch.setattr(settings, "available_cores", lambda: 2)
    # a harvest of 1 000 calls gives a digest of about 600 items, 10 000 calls about 3 100
    assert weekly.export_workers(600, FORMATS) == 1
    assert weekly.export_workers(3100, FORMATS) == 2
    # the estimate is the formats' cost: the spreadsheet alone weighs more than the six others
    assert weekly.export_workers(1200, ("csv",)) == 1
    assert weekly.export_workers(1200, ("xlsx", "csv")) == 2
    monkeypatch.setattr(settings, "available_cores", lambda: 1)
    assert weekly.export_workers(3100, FORMATS) == 1


def test_the_harvest_default_forks_only_for_a_large_digest(warehouse, tmp_path, monkeypatch):
    from pipeline import settings
    from warehouse.exports import weekly

    _, snap = warehouse
    monkeypatch.setattr(settings, "available_cores", lambda: 2)
    asked = []
    real = weekly._write_in_parallel

    def spy(digest, formats, directory, workers):
        asked.append(workers)
        return real(digest, formats, directory, workers)

    monkeypatch.setattr(weekly, "_write_in_parallel", spy)
    files = write_weekly_files(snap, now=at("2026-11-20", hour=7), formats=FORMATS, directory=tmp_path / "a")
    assert not files.errors and asked == [1]
    monkeypatch.setattr(weekly, "PARALLEL_MIN_S", 0.0)  # as if the digest were large
    files = write_weekly_files(snap, now=at("2026-11-20", hour=7), formats=FORMATS, directory=tmp_path / "b")
    assert not files.errors and asked == [1, 2]
