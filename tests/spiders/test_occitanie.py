"""Occitanie spider: ODS list followed to each detail page for the deadline wording."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.settings import FIXTURES_DIR
from spiders.base import LayoutError
from spiders.sources.occitanie import OccitanieSpider
from tests.offline import crawl_offline

SOURCE = OccitanieSpider.name
FIXTURES = FIXTURES_DIR / SOURCE


def _dataset() -> list[dict]:
    return [r for f in sorted(FIXTURES.glob("records-*.json"))
            for r in json.loads(f.read_text(encoding="utf-8"))["results"]]


def test_declaration() -> None:
    assert OccitanieSpider.check_declaration() == []


def test_each_dataset_record_is_followed_to_its_detail_page() -> None:
    crawl = crawl_offline(OccitanieSpider)
    records = _dataset()
    assert len(crawl.items) == len(records)
    assert sorted(i["url"] for i in crawl.items) == sorted(r["url"] for r in records)
    assert sum("/_host/www.laregion.fr/" in r for r in crawl.requests) == len(records)
    assert sum("/records?" in r for r in crawl.requests) == 2


def test_detail_page_gives_deadline_and_eligibility_wording() -> None:
    crawl = crawl_offline(OccitanieSpider)
    for item in crawl.items:
        assert item["deadline_text"] and "Télécharger" not in item["deadline_text"]
        assert item["eligibility_text"]
        assert item["url"].startswith("https://www.laregion.fr/") and item["native_id"] in item["url"]
        assert item["raw"]["list"]["url"] == item["url"]
    assert any("session" in i["deadline_text"] for i in crawl.items)
    assert any("fil de l’eau" in i["deadline_text"] for i in crawl.items)
    calls = [i for i in crawl.items if i["is_call_label"]]
    assert calls and all(i["type_labels"] == ["Appels à projets"] for i in calls)


def test_ids_unique_and_stable() -> None:
    ids = [i["native_id"] for i in crawl_offline(OccitanieSpider).items]
    assert len(ids) == len(set(ids)) == len(_dataset())
    assert ids == [i["native_id"] for i in crawl_offline(OccitanieSpider).items]


def test_changed_detail_markup_raises_naming_source_and_selector(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / SOURCE)
    for page in (tmp_path / SOURCE).glob("detail-*.html"):
        page.write_text(page.read_text(encoding="utf-8").replace("main-content__title", "page-title"),
                        encoding="utf-8")
    with pytest.raises(LayoutError, match=rf"\[{SOURCE}\].*main-content__title"):
        crawl_offline(OccitanieSpider, overlay_dirs=[tmp_path])
