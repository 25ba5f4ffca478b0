"""Drôme spider (AT-format JSON, DRF pages): next links followed, string financers, failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.settings import FIXTURES_DIR
from spiders.base import LayoutError
from spiders.sources.drome import DromeSpider
from tests.offline import crawl_offline

SOURCE = DromeSpider.name
FIXTURES = FIXTURES_DIR / SOURCE


def _page(number: int) -> dict:
    return json.loads((FIXTURES / f"aides-page-{number}.json").read_text(encoding="utf-8"))


def _all_results() -> list[dict]:
    pages, number = [], 1
    while True:
        pages.append(_page(number))
        if not pages[-1]["next"]:
            return [r for p in pages for r in p["results"]]
        number += 1


def test_declaration() -> None:
    assert DromeSpider.check_declaration() == []


def test_pages_are_followed_until_next_is_null() -> None:
    crawl = crawl_offline(DromeSpider)
    results = _all_results()
    assert len(crawl.items) == len(results) == _page(1)["count"]
    assert len(crawl.requests) >= 2 and crawl.requests[-1].endswith("page=2")


def test_fields() -> None:
    crawl = crawl_offline(DromeSpider)
    by_id = {str(r["id"]): r for r in _all_results()}
    for item in crawl.items:
        rec = by_id[item["native_id"]]
        assert item["funder"] == rec["financers"]
        assert item["perimeter_label"] == "Drôme"
        assert item["url"] == rec["origin_url"] and "portal.test" not in item["url"]
        assert item["type_labels"] == rec["aid_types"]
        assert "<" not in item["description"]
    rolling = [i for i in crawl.items if i["deadline_text"] == "Permanente"]
    assert rolling and all("deadlines" not in i for i in rolling)


def test_max_pages_stops_paging() -> None:
    crawl = crawl_offline(DromeSpider, max_pages=1)
    assert len(crawl.requests) == 1 and len(crawl.items) == len(_page(1)["results"])


def test_missing_record_key_raises(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / SOURCE)
    page = tmp_path / SOURCE / "aides-page-1.json"
    data = json.loads(page.read_text(encoding="utf-8"))
    del data["results"][-1]["submission_deadline"]
    page.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(LayoutError, match=rf"\[{SOURCE}\].*submission_deadline"):
        crawl_offline(DromeSpider, overlay_dirs=[tmp_path])
