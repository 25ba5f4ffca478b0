"""Manche spider (AT-format JSON, one document): items, entities, contract kept as programme, failures."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import pytest

from pipeline.settings import FIXTURES_DIR
from spiders.base import LayoutError
from spiders.sources.manche import MancheSpider
from tests.offline import crawl_offline

SOURCE = MancheSpider.name
FIXTURES = FIXTURES_DIR / SOURCE


def _aides() -> list[dict]:
    return json.loads((FIXTURES / "aides.json").read_text(encoding="utf-8"))["aides"]


def test_declaration() -> None:
    assert MancheSpider.check_declaration() == []


def test_one_item_per_aid_in_the_document() -> None:
    crawl = crawl_offline(MancheSpider)
    aides = _aides()
    assert len(crawl.requests) == 1
    assert [i["native_id"] for i in crawl.items] == [a["id"] for a in aides]


def test_fields_are_decoded_and_live() -> None:
    crawl = crawl_offline(MancheSpider)
    by_id = {a["id"]: a for a in _aides()}
    for item in crawl.items:
        aid = by_id[item["native_id"]]
        assert item["title"] == html.unescape(aid["name"]) and "&rsquo;" not in item["title"]
        assert item["url"] == aid["origin_url"] and item["url"].startswith("https://www.manche.fr/guide-des-aides/")
        assert item.get("deadlines") == ([aid["submission_deadline"]] if aid["submission_deadline"] else None)
        assert item.get("programme") == (", ".join(aid["aid_types"]) or None)
        assert "type_labels" not in item
        assert item["deadline_text"] == aid["recurrence"]
    assert len({i["native_id"] for i in crawl.items}) == len(crawl.items)


def test_basic_credentials_are_sent_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AAP_MANCHE_AUTH", "partenaire:secret")
    request = next(iter(MancheSpider().first_requests()))
    assert request.headers["Authorization"] == b"Basic cGFydGVuYWlyZTpzZWNyZXQ="
    monkeypatch.delenv("AAP_MANCHE_AUTH")
    assert "Authorization" not in next(iter(MancheSpider().first_requests())).headers


def test_renamed_list_key_raises_naming_source(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / SOURCE)
    doc = tmp_path / SOURCE / "aides.json"
    data = json.loads(doc.read_text(encoding="utf-8"))
    doc.write_text(json.dumps({"count": data["count"], "results": data["aides"]}), encoding="utf-8")
    with pytest.raises(LayoutError, match=rf"\[{SOURCE}\].*aides"):
        crawl_offline(MancheSpider, overlay_dirs=[tmp_path])


def test_empty_feed_is_a_failure(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / SOURCE)
    (tmp_path / SOURCE / "aides.json").write_text(json.dumps({"count": 0, "aides": []}), encoding="utf-8")
    with pytest.raises(LayoutError, match=rf"\[{SOURCE}\].*no record"):
        crawl_offline(MancheSpider, overlay_dirs=[tmp_path])
