from __future__ import annotations

from tests.warehouse.factory import at, batch, record
from warehouse.db import connect
from warehouse.load import load_harvest

SRC = "region_nouvelle_aquitaine"


def rows(db, sql):
    con = connect(db, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_views_follow_the_latest_harvest(tmp_path):
    db = tmp_path / "w.duckdb"
    old = record(native_id="ancien", deadlines=["2026-12-04"], themes=["solidarites-lien-social"])
    via_commune = record(native_id="voirie", title="Aménagement des centres-bourgs",
                         ccas_eligibility="via_commune", themes=["urbanisme-logement-amenagement"],
                         deadlines=["2027-03-31"])
    national = record(source="fondation_de_france", native_id="ffr-isolement",
                      url="https://www.fondationdefrance.org/fr/appels-a-projets/isolement",
                      title="Vieillir acteur et citoyen de son territoire", funder="Fondation de France",
                      perimeter_scale="national", perimeter_regions=[], ccas_eligibility="likely",
                      deadlines=[], deadline_kind="rolling", status="rolling")
    load_harvest(db, [batch(SRC, [old, via_commune])], now=at("2026-11-02"), run_id="r1")
    moved = record(native_id="ancien", deadlines=["2026-11-30"], themes=["solidarites-lien-social"])
    load_harvest(db, [batch(SRC, [moved, via_commune]), batch("fondation_de_france", [national])],
                 now=at("2026-11-23"), run_id="r2")

    assert rows(db, "SELECT run_id, as_of::VARCHAR FROM as_of") == [("r2", "2026-11-23")]
    assert {r[0] for r in rows(db, "SELECT id FROM open_calls")} == {moved["id"], via_commune["id"], national["id"]}
    assert rows(db, "SELECT id, days_left FROM closing_soon") == [(moved["id"], 7)]
    assert {r[0] for r in rows(db, "SELECT id FROM ccas_open")} == {moved["id"], national["id"]}
    assert rows(db, "SELECT id FROM new_this_week") == [(national["id"],)]
    assert rows(db, "SELECT id, change_kind, changes FROM changed_this_week") == [
        (moved["id"], "calendar", "deadline moved from 2026-12-04 to 2026-11-30")]
    by_theme = {r[0]: r[1:4] for r in rows(db, "SELECT theme, open_calls, ccas_open, closing_soon FROM by_theme")}
    assert by_theme == {"solidarites-lien-social": (2, 2, 1), "urbanisme-logement-amenagement": (1, 0, 0)}
    by_region = {r[0]: r[1] for r in rows(db, "SELECT region, open_calls FROM by_region")}
    assert by_region == {"75": 2, "national": 1}


def test_open_calls_fold_a_cluster_into_its_preferred_record(tmp_path):
    db = tmp_path / "w.duckdb"
    regional = record(native_id="bv-2026")
    copy = record(source="aides_territoires", native_id="8842",
                  url="https://aides-territoires.beta.gouv.fr/aides/8842-bien-vieillir/",
                  title="Bien vieillir dans les territoires 2026")
    load_harvest(db, [batch(SRC, [regional]), batch("aides_territoires", [copy])], now=at("2026-11-02"),
                 run_id="r1")
    assert rows(db, "SELECT id, copies FROM open_calls") == [(regional["id"], 2)]
