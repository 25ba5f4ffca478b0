from __future__ import annotations

import json

from pipeline.cli import main
from tests.warehouse.factory import at, batch, record
from warehouse.db import connect
from warehouse.load import load_harvest


def test_migrate_snapshot_and_export_commands(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["migrate", "--data-dir", str(data)]) == 0
    assert "002_views.sql  (applied now)" in capsys.readouterr().out
    assert main(["migrate", "--data-dir", str(data)]) == 0
    assert "applied now" not in capsys.readouterr().out

    rec = record(native_id="aidants", title="Soutien aux aidants familiaux")
    load_harvest(data / "warehouse.duckdb", [batch("region_nouvelle_aquitaine", [rec])],
                 now=at("2026-11-23"), run_id="r1")
    assert main(["snapshot", "--data-dir", str(data)]) == 0
    snap = data / "warehouse_readonly.duckdb"
    con = connect(snap, read_only=True)
    assert con.execute("SELECT id FROM calls").fetchall() == [(rec["id"],)]
    con.close()

    out = tmp_path / "digest.json"
    code = main(["export", "weekly", "--data-dir", str(data), "--db", str(data / "warehouse.duckdb"),
                 "--week", "2026-W48", "--format", "json", "--output", str(out), "--ccas", "explicit,likely",
                 "--theme", "solidarites-lien-social"])
    assert code == 0, capsys.readouterr().err
    digest = json.loads(out.read_text(encoding="utf-8"))
    assert digest["week"] == "2026-W48" and digest["filters"]["ccas"] == ["explicit", "likely"]
    assert [i["title"] for s in digest["sections"] for g in s["groups"] for i in g["items"]][:1] == [rec["title"]]


def test_export_refuses_bad_options_with_a_message(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["export", "weekly", "--data-dir", str(data), "--format", "csv"]) == 2
    assert "no warehouse" in capsys.readouterr().err
    load_harvest(data / "warehouse.duckdb", [batch("region_nouvelle_aquitaine", [record()])],
                 now=at("2026-11-23"), run_id="r1")
    assert main(["export", "weekly", "--data-dir", str(data), "--db", str(data / "warehouse.duckdb"),
                 "--ccas", "maybe"]) == 2
    assert "unknown CCAS class" in capsys.readouterr().err
