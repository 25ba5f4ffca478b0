"""Pays de la Loire (OpenDataSoft) spider: dd/mm/YYYY dates to ISO, ``;`` lists, call flag, failures."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.settings import FIXTURES_DIR
from spiders.base import LayoutError
from spiders.sources.pays_de_la_loire import PaysDeLaLoireSpider
from tests.offline import crawl_offline

SOURCE = PaysDeLaLoireSpider.name
FIXTURES = FIXTURES_DIR / SOURCE


def _records() -> list[dict]:
    files = sorted(FIXTURES.glob("records-offset-*.json"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return [r for f in files for r in json.loads(f.read_text(encoding="utf-8"))["results"]]


def test_declaration() -> None:
    assert PaysDeLaLoireSpider.check_declaration() == []


def test_every_record_is_read_once_over_two_pages() -> None:
    crawl = crawl_offline(PaysDeLaLoireSpider)
    records = _records()
    assert [i["native_id"] for i in crawl.items] == [r["intervention_id"] for r in records]
    assert len(crawl.requests) == 2 and all(s == 200 for s in crawl.statuses)


def test_dates_become_iso_and_lists_are_split() -> None:
    crawl = crawl_offline(PaysDeLaLoireSpider)
    by_id = {r["intervention_id"]: r for r in _records()}
    for item in crawl.items:
        rec = by_id[item["native_id"]]
        if rec["date_de_fin"]:
            assert item["deadlines"] == [datetime.strptime(rec["date_de_fin"], "%d/%m/%Y").date().isoformat()]
        else:
            assert "deadlines" not in item
        assert item["audience_labels"] == rec["aid_benef"].split(";")
        assert item["deadline_text"] == rec["temporalite"]
        assert item["is_call_label"] is (rec["type_aide"] in PaysDeLaLoireSpider.call_values)
        assert item["url"] == rec["source_lien"]
    assert {i["deadline_text"] for i in crawl.items} == {"Permanent", "Temporaire"}


def test_unexpected_date_format_raises(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / SOURCE)
    page = tmp_path / SOURCE / "records-offset-0.json"
    data = json.loads(page.read_text(encoding="utf-8"))
    dated = next(r for r in data["results"] if r["date_de_fin"])
    day, month, year = dated["date_de_fin"].split("/")
    dated["date_de_fin"] = f"{year}-{month}-{day}"
    page.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(LayoutError, match=rf"\[{SOURCE}\].*date_de_fin"):
        crawl_offline(PaysDeLaLoireSpider, overlay_dirs=[tmp_path])


def test_page_without_results_key_raises(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / SOURCE)
    page = tmp_path / SOURCE / "records-offset-0.json"
    data = json.loads(page.read_text(encoding="utf-8"))
    page.write_text(json.dumps({"total_count": data["total_count"], "records": data["results"]}), encoding="utf-8")
    with pytest.raises(LayoutError, match=rf"\[{SOURCE}\].*results"):
        crawl_offline(PaysDeLaLoireSpider, overlay_dirs=[tmp_path])
