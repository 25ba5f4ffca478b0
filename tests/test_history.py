"""Three demo harvests of the Drôme portal with a changed fixture between them: one deadline moved, one call
removed twice, one new call → one new version with the change described, one `withdrawn` call, one new
call, and the weekly export lists each in its section."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import main
from pipeline.settings import FIXTURES_DIR

pytestmark = pytest.mark.slow
SOURCE = "drome"


def _changed_fixture(overlay: Path) -> tuple[int, int, int, str, str]:
    """Copy Drôme's fixture into ``overlay`` and change it; returns the ids involved and the deadlines."""
    dst = overlay / SOURCE
    shutil.copytree(FIXTURES_DIR / SOURCE, dst)
    page = dst / "aides-page-1.json"
    data = json.loads(page.read_text(encoding="utf-8"))
    results = data["results"]
    moved = next(r for r in results if r.get("submission_deadline"))
    old_deadline = moved["submission_deadline"]
    moved["submission_deadline"] = new_deadline = "2027-01-29"
    removed = next(r for r in results if r is not moved)
    results.remove(removed)
    added = dict(moved, id=9001, name="Appel à projets « Aidants : prendre soin de ceux qui aident » 2027",
                 origin_url="https://collectivites.ladrome.fr/service/appel-a-projets-aidants-2027/",
                 application_url="https://collectivites.ladrome.fr/service/appel-a-projets-aidants-2027/",
                 submission_deadline="2027-02-26", start_date="2026-11-20")
    results.append(added)
    page.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return moved["id"], removed["id"], added["id"], old_deadline, new_deadline


def _harvest(data: Path, now: str, *overlay: Path) -> None:
    args = ["demo", "--data-dir", str(data), "--source", SOURCE, "--now", now, "--quiet"]
    for o in overlay:
        args += ["--overlay", str(o)]
    assert main(args) == 0


def test_moved_removed_and_new_calls_over_three_harvests(tmp_path: Path) -> None:
    data, overlay = tmp_path / "data", tmp_path / "overlay"
    moved, removed, added, old, new = _changed_fixture(overlay)
    ids = {k: f"{SOURCE}:{v}" for k, v in (("moved", moved), ("removed", removed), ("added", added))}

    _harvest(data, "2026-11-23T07:00:00+01:00")
    _harvest(data, "2026-11-24T07:00:00+01:00", overlay)
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT status FROM calls WHERE id = ?", [ids["removed"]]).fetchone()[0] != "withdrawn", \
        "one missed harvest must not withdraw a call"
    con.close()
    _harvest(data, "2026-11-25T07:00:00+01:00", overlay)

    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    status = dict(con.execute("SELECT id, status FROM calls").fetchall())
    assert status[ids["removed"]] == "withdrawn"
    assert ids["added"] in status
    versions = con.execute("SELECT version, change_kind, changes FROM call_versions WHERE call_id = ? "
                           "ORDER BY version", [ids["moved"]]).fetchall()
    assert len(versions) == 2
    assert versions[1][1] in ("calendar", "both")
    assert old in versions[1][2] and new in versions[1][2]
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == len(status)  # nothing deleted
    con.close()

    out = tmp_path / "weekly.json"
    assert main(["export", "weekly", "--data-dir", str(data), "--week", "2026-W48", "--format", "json",
                 "--output", str(out)]) == 0
    digest = json.loads(out.read_text(encoding="utf-8"))
    sections = {s["key"]: {i["id"] for g in s["groups"] for i in g["items"]} for s in digest["sections"]}
    assert ids["added"] in sections["new"]
    assert ids["moved"] in sections["changed"]
    assert ids["removed"] in sections["withdrawn"]
    assert ids["removed"] not in sections["new"] | sections["closing"]
