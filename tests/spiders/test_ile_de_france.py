"""Île-de-France (OpenDataSoft) spider over its fixtures: offset paging, mapped fields, loud failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.settings import FIXTURES_DIR
from spiders.base import LayoutError
from spiders.sources.ile_de_france import IleDeFranceSpider
from tests.offline import crawl_offline

SOURCE = IleDeFranceSpider.name
FIXTURES = FIXTURES_DIR / SOURCE


def _pages() -> list[dict]:
    routes = json.loads((FIXTURES / "portal.json").read_text(encoding="utf-8"))["routes"]
    return [json.loads((FIXTURES / r["file"]).read_text(encoding="utf-8")) for r in routes]


def test_declaration_and_dataset_path() -> None:
    assert IleDeFranceSpider.check_declaration() == []
    url = IleDeFranceSpider().page_live_url(0)
    assert url.startswith("https://data.iledefrance.fr/api/explore/v2.1/catalog/datasets/aides-appels-a-projets/records?")
    assert "limit=100" in url and "offset=0" in url


def test_all_records_of_all_offsets_are_read() -> None:
    crawl = crawl_offline(IleDeFranceSpider)
    pages = _pages()
    records = [r for p in pages for r in p["results"]]
    assert len(crawl.items) == len(records) == pages[0]["total_count"]
    assert len(crawl.requests) == len(pages)
    # the second request starts where the first page ended
    assert f"offset={len(pages[0]['results'])}" in crawl.requests[1]


def test_fields_follow_the_declared_mapping() -> None:
    crawl = crawl_offline(IleDeFranceSpider)
    records = {r["reference_administrative"]: r for p in _pages() for r in p["results"]}
    for item in crawl.items:
        rec = records[item["native_id"]]
        assert item["title"] == rec["nom_de_l_aide_de_la_demarche"]
        assert item["url"] == rec["url_descriptif"] and item["url"].startswith("https://www.iledefrance.fr/")
        assert item["audience_labels"] == rec["qui_peut_en_beneficier"].split("|||")
        assert item.get("deadlines") == ([rec["date_cloture"]] if rec["date_cloture"] else None)
        assert item.get("opens_on") == rec["date_ouverture"]
        assert "<" not in item["summary"] and "<" not in item["description"]
        assert item["raw"] == rec
    assert any("deadlines" not in i for i in crawl.items), "an aid open all year is expected"
    assert any("CCAS" in (i.get("eligibility_text") or "") for i in crawl.items)


def test_ids_unique_and_stable() -> None:
    ids = [i["native_id"] for i in crawl_offline(IleDeFranceSpider).items]
    assert len(ids) == len(set(ids))
    assert ids == [i["native_id"] for i in crawl_offline(IleDeFranceSpider).items]


def test_renamed_field_raises_naming_source_and_key(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / SOURCE)
    first = sorted((tmp_path / SOURCE).glob("records-offset-*.json"))[0]
    data = json.loads(first.read_text(encoding="utf-8"))
    for rec in data["results"]:
        rec["date_fin"] = rec.pop("date_cloture")
    first.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(LayoutError, match=rf"\[{SOURCE}\].*date_cloture"):
        crawl_offline(IleDeFranceSpider, overlay_dirs=[tmp_path])
