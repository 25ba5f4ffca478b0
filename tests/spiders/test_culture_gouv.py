"""Ministère de la Culture spider: offset pages of a bare JSON list, until an empty page; failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.settings import FIXTURES_DIR
from spiders.base import LayoutError
from spiders.sources.culture_gouv import CALL_TYPE, CultureGouvSpider
from tests.offline import crawl_offline

SOURCE = CultureGouvSpider.name
FIXTURES = FIXTURES_DIR / SOURCE


def _routes() -> list[dict]:
    return json.loads((FIXTURES / "portal.json").read_text(encoding="utf-8"))["routes"]


def _procedures() -> list[dict]:
    return [p for r in _routes() for p in json.loads((FIXTURES / r["file"]).read_text(encoding="utf-8"))]


def test_declaration() -> None:
    assert CultureGouvSpider.check_declaration() == []


def test_offsets_follow_the_records_received_until_an_empty_page() -> None:
    crawl = crawl_offline(CultureGouvSpider)
    procedures = _procedures()
    assert [i["native_id"] for i in crawl.items] == [str(p["id"]) for p in procedures]
    expected_offsets = [r["query"]["offset"] for r in _routes()]
    assert [req.split("offset=")[1].split("&")[0] for req in crawl.requests] == expected_offsets
    assert all("limit=20" in req for req in crawl.requests)


def test_free_text_fields_are_kept_verbatim() -> None:
    crawl = crawl_offline(CultureGouvSpider)
    by_id = {str(p["id"]): p for p in _procedures()}
    for item in crawl.items:
        proc = by_id[item["native_id"]]
        assert item.get("deadline_text") == proc["deadline"]
        assert item.get("amount_text") == proc["amount"]
        assert item["audience_labels"] == proc["public"].split(", ")
        assert item["is_call_label"] is (CALL_TYPE in proc["type"])
        assert item["url"] == proc["url"] and item["url"].startswith("https://www.culture.gouv.fr/")
        assert "&eacute;" not in (item.get("summary") or "") and "<" not in (item.get("description") or "")
    national = [i for i in crawl.items if i.get("perimeter_label") == "France entière"]
    assert national and len(national) < len(crawl.items), "national and regional procedures are expected"
    assert any(not i["is_call_label"] for i in crawl.items), "a non-call procedure is expected"


def test_object_instead_of_list_raises(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / SOURCE)
    first = tmp_path / SOURCE / _routes()[0]["file"]
    first.write_text(json.dumps({"items": json.loads(first.read_text(encoding="utf-8"))}), encoding="utf-8")
    with pytest.raises(LayoutError, match=rf"\[{SOURCE}\].*JSON list"):
        crawl_offline(CultureGouvSpider, overlay_dirs=[tmp_path])


def test_missing_deadline_key_raises(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / SOURCE)
    last = tmp_path / SOURCE / _routes()[1]["file"]
    data = json.loads(last.read_text(encoding="utf-8"))
    data[0].pop("deadline")
    last.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(LayoutError, match=rf"\[{SOURCE}\].*deadline"):
        crawl_offline(CultureGouvSpider, overlay_dirs=[tmp_path])
