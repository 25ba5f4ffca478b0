from __future__ import annotations

import csv
import json
from datetime import date

import feedparser
import pyarrow.parquet as pq
import pytest
from icalendar import Calendar
from openpyxl import load_workbook

from tests.warehouse.factory import at, batch, record
from warehouse.db import connect
from warehouse.exports import atom, ics
from warehouse.exports.weekly import FORMATS, export_weekly
from warehouse.load import load_harvest
from warehouse.snapshot import publish

SRC = "region_nouvelle_aquitaine"
NOW = at("2026-11-23", hour=7)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """Two harvests: one call seen last month with its deadline moved this week, one new explicit call,
    one new via-commune call, one closing in 10 days, one hostile title, one withdrawn."""
    tmp = tmp_path_factory.mktemp("wh")
    db = tmp / "warehouse.duckdb"
    moved_before = record(native_id="moved", title="Appel à projets Précarité énergétique des ménages",
                          deadlines=["2027-01-15"], themes=["energies-dechets", "solidarites-lien-social"])
    gone = record(native_id="gone", title="AMI Tiers-lieux solidaires")
    closing = record(native_id="closing", title="Fonds d'urgence aide alimentaire", deadlines=["2026-12-03"],
                     ccas_eligibility="likely", ccas_evidence="Établissements publics locaux")
    load_harvest(db, [batch(SRC, [moved_before, gone, closing])], now=at("2026-10-20"), run_id="r1")
    load_harvest(db, [batch(SRC, [moved_before, closing])], now=at("2026-10-27"), run_id="r2")
    moved = record(native_id="moved", title="Appel à projets Précarité énergétique des ménages",
                   deadlines=["2027-02-01"], themes=["energies-dechets", "solidarites-lien-social"])
    new_explicit = record(native_id="bien-vieillir", title="Bien vieillir en Nouvelle-Aquitaine 2027",
                          deadlines=["2027-03-31"])
    new_commune = record(native_id="voirie", title="Aménagement des centres-bourgs", deadlines=["2027-02-15"],
                         ccas_eligibility="via_commune", ccas_evidence="Communes de moins de 5 000 habitants",
                         themes=["urbanisme-logement-amenagement"])
    hostile = record(native_id="hostile", title='<script>alert("x")</script> =HYPERLINK("http://evil","clic")',
                     funder="@Fondation <b>Test</b>", deadlines=["2027-04-30"],
                     ccas_evidence="-2+3 cmd|' /C calc'!A0")
    load_harvest(db, [batch(SRC, [moved, closing, new_explicit, new_commune, hostile])], now=NOW,
                 run_id="r3")
    snap = publish(db, tmp / "warehouse_readonly.duckdb")
    return {"snap": snap, "tmp": tmp, "moved": moved, "gone": gone, "closing": closing,
            "explicit": new_explicit, "commune": new_commune, "hostile": hostile}


def export(snapshot, fmt, **kw):
    out = snapshot["tmp"] / f"weekly.{fmt}"
    return export_weekly(snapshot["snap"], now=NOW, fmt=fmt, output=out, **kw)


def sections(snapshot) -> dict[str, list[str]]:
    data = json.loads(export(snapshot, "json").read_text(encoding="utf-8"))
    return {s["key"]: [i["id"] for g in s["groups"] for i in g["items"]] for s in data["sections"]}


def test_sections_hold_the_right_calls_in_order(snapshot):
    got = sections(snapshot)
    s = snapshot
    assert got["new"] == [s["explicit"]["id"], s["hostile"]["id"], s["commune"]["id"]]
    assert got["closing"] == [s["closing"]["id"]]
    assert got["changed"] == [s["moved"]["id"]]
    assert got["withdrawn"] == [s["gone"]["id"]]
    assert s["gone"]["id"] not in got["new"] + got["closing"] + got["changed"]
    con = connect(s["snap"], read_only=True)
    try:
        assert con.execute("SELECT status FROM calls WHERE id = ?", [s["gone"]["id"]]).fetchall() == [
            ("withdrawn",)]
        assert con.execute("SELECT changes FROM call_versions WHERE call_id = ? AND version = 2",
                           [s["moved"]["id"]]).fetchall() == [("deadline moved from 2027-01-15 to 2027-02-01",)]
    finally:
        con.close()


def test_json_groups_by_main_theme_with_change_text(snapshot):
    data = json.loads(export(snapshot, "json").read_text(encoding="utf-8"))
    changed = next(s for s in data["sections"] if s["key"] == "changed")
    assert [g["theme"] for g in changed["groups"]] == ["energies-dechets"]
    item = changed["groups"][0]["items"][0]
    assert item["changes"] == "deadline moved from 2027-01-15 to 2027-02-01"
    assert item["funder"] == "Région Nouvelle-Aquitaine" and item["amount_max"] == 50000.0
    new = next(s for s in data["sections"] if s["key"] == "new")
    assert [g["theme"] for g in new["groups"]] == ["solidarites-lien-social", "urbanisme-logement-amenagement"]


def test_filters_keep_matching_calls_and_refuse_unknown_values(snapshot):
    only_likely = json.loads(export(snapshot, "json", ccas=["likely"]).read_text(encoding="utf-8"))
    ids = [i["id"] for s in only_likely["sections"] for g in s["groups"] for i in g["items"]]
    assert ids == [snapshot["closing"]["id"]]
    elsewhere = json.loads(export(snapshot, "json", region="84").read_text(encoding="utf-8"))
    assert all(not s["groups"] for s in elsewhere["sections"])
    gironde = json.loads(export(snapshot, "json", departement="33",
                                themes=["urbanisme-logement-amenagement"]).read_text(encoding="utf-8"))
    assert [i["id"] for s in gironde["sections"] for g in s["groups"] for i in g["items"]] == [
        snapshot["commune"]["id"]]
    with pytest.raises(ValueError, match="unknown theme"):
        export(snapshot, "json", themes=["social"])
    with pytest.raises(ValueError, match="unknown INSEE region"):
        export(snapshot, "json", region="99")
    with pytest.raises(ValueError, match="not an ISO week"):
        export(snapshot, "json", week="2026-48")
    with pytest.raises(ValueError, match="unknown format"):
        export(snapshot, "pdf")


def test_iso_week_window(snapshot):
    last_week = json.loads(export(snapshot, "json", week="2026-W44").read_text(encoding="utf-8"))
    got = {s["key"]: [i["id"] for g in s["groups"] for i in g["items"]] for s in last_week["sections"]}
    assert got["new"] == [] and got["changed"] == []
    assert last_week["start"].startswith("2026-10-26T00:00:00+01:00")
    with pytest.raises(ValueError, match="not started"):
        export(snapshot, "json", week="2027-W10")


def test_html_escapes_scraped_text(snapshot):
    html = export(snapshot, "html").read_text(encoding="utf-8")
    assert "<script>" not in html and "<b>Test</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Test&lt;/b&gt;" in html
    assert "deadline moved from 2027-01-15 to 2027-02-01" in html
    assert 'href="https://les-aides.nouvelle-aquitaine.fr/fiches/bien-vieillir"' in html
    assert "<style" not in html and 'style="' in html


def test_markdown_escapes_scraped_text(snapshot):
    md = export(snapshot, "md").read_text(encoding="utf-8")
    assert "<script>" not in md and "&lt;script\\>" in md
    assert "[Bien vieillir en Nouvelle-Aquitaine 2027](https://les-aides.nouvelle-aquitaine.fr/fiches/bien-vieillir)" in md


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_csv_has_bom_delimiter_and_neutralised_formulas(snapshot, delimiter):
    path = export(snapshot, "csv", csv_delimiter=delimiter)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines(), delimiter=delimiter))
    hostile = next(r for r in rows if r["id"] == snapshot["hostile"]["id"])
    assert hostile["funder"] == "'@Fondation <b>Test</b>"
    assert hostile["ccas_evidence"].startswith("'-2+3")
    assert hostile["title"].startswith("<script>")
    title_cell = next(r for r in rows if "HYPERLINK" in r["title"])["title"]
    assert not title_cell.startswith(("=", "+", "-", "@"))
    assert {r["section"] for r in rows} == {"new", "closing", "changed", "withdrawn"}


def test_csv_neutralises_a_cell_starting_with_a_formula(tmp_path):
    from warehouse.exports.csv_table import cell
    assert cell('=HYPERLINK("http://evil","clic")') == '\'=HYPERLINK("http://evil","clic")'
    assert cell("+33 1 23") == "'+33 1 23" and cell("Région Sud") == "Région Sud"


def test_xlsx_typed_dates_filters_frozen_header_and_text_cells(snapshot):
    wb = load_workbook(export(snapshot, "xlsx"))
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    col = {name: i for i, name in enumerate(header)}
    rows = list(ws.iter_rows(min_row=2, values_only=False))
    moved = next(r for r in rows if r[col["id"]].value == snapshot["moved"]["id"])
    assert moved[col["next_deadline"]].is_date
    assert moved[col["next_deadline"]].value.date() == date(2027, 2, 1)
    assert moved[col["amount_max"]].value == 50000.0
    hostile = next(r for r in rows if r[col["id"]].value == snapshot["hostile"]["id"])
    assert hostile[col["funder"]].data_type == "s"
    assert hostile[col["funder"]].value == "@Fondation <b>Test</b>"


def test_ics_parses_back_with_stable_uids(snapshot):
    cal = Calendar.from_ical(export(snapshot, "ics").read_bytes())
    events = list(cal.walk("VEVENT"))
    by_uid = {str(e["UID"]): e for e in events}
    moved_uid = ics.event_uid(snapshot["moved"]["id"], 0)
    assert by_uid[moved_uid].decoded("DTSTART") == date(2027, 2, 1)
    assert int(by_uid[moved_uid]["SEQUENCE"]) == 2
    assert len(by_uid) == len(events) == 6
    gone = by_uid[ics.event_uid(snapshot["gone"]["id"], 0)]
    assert str(gone["STATUS"]) == "CANCELLED", "a withdrawn call cancels its event under the same UID"
    assert sum(1 for e in events if str(e.get("STATUS", "")) == "CANCELLED") == 1
    again = Calendar.from_ical(export(snapshot, "ics").read_bytes())
    assert {str(e["UID"]) for e in again.walk("VEVENT")} == set(by_uid)


def test_atom_parses_back_with_stable_ids(snapshot):
    feed = feedparser.parse(export(snapshot, "atom").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    ids = [e.id for e in feed.entries]
    assert atom.entry_id(snapshot["moved"]["id"]) in ids
    assert len(ids) == len(set(ids)) == 6
    assert atom.entry_id(snapshot["gone"]["id"]) in ids
    hostile = next(e for e in feed.entries if e.id == atom.entry_id(snapshot["hostile"]["id"]))
    assert hostile.title == snapshot["hostile"]["title"]
    moved = next(e for e in feed.entries if e.id == atom.entry_id(snapshot["moved"]["id"]))
    assert "deadline moved from 2027-01-15 to 2027-02-01" in moved.summary
    again = feedparser.parse(export(snapshot, "atom").read_bytes())
    assert [e.id for e in again.entries] == ids


def test_parquet_is_typed(snapshot):
    table = pq.read_table(export(snapshot, "parquet"))
    assert str(table.schema.field("next_deadline").type) == "date32[day]"
    assert set(table.column("section").to_pylist()) == {"new", "closing", "changed", "withdrawn"}


def test_every_format_writes_a_file(snapshot):
    for fmt in FORMATS:
        path = export(snapshot, fmt)
        assert path.stat().st_size > 0, fmt
    assert not [p for p in snapshot["tmp"].iterdir() if p.name.endswith(".tmp")]


def test_a_single_theme_or_class_may_be_a_string(snapshot):
    as_list = json.loads(export(snapshot, "json", themes=["energies-dechets"], ccas=["explicit"]).read_text())
    as_text = json.loads(export(snapshot, "json", themes="energies-dechets", ccas="explicit").read_text())
    assert as_text["sections"] == as_list["sections"]
    assert [i["id"] for s in as_text["sections"] for g in s["groups"] for i in g["items"]] == [
        snapshot["moved"]["id"]]
