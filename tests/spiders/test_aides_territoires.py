"""Aides-territoires spider over its fixtures: token flow, paging, fields, loud failures."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest

from pipeline.settings import FIXTURES_DIR
from spiders.base import LayoutError
from spiders.sources.aides_territoires import AidesTerritoiresSpider
from tests.offline import crawl_offline

SOURCE = AidesTerritoiresSpider.name
FIXTURES = FIXTURES_DIR / SOURCE
SECRET = "at-secret-token-7f3a9c"


def _routes() -> list[dict]:
    return json.loads((FIXTURES / "portal.json").read_text(encoding="utf-8"))["routes"]


def _fixture_records() -> list[dict]:
    pages = [r["file"] for r in _routes() if r["path"] == "/api/aids/"]
    return [rec for f in pages for rec in json.loads((FIXTURES / f).read_text(encoding="utf-8"))["results"]]


def _jwt() -> str:
    route = next(r for r in _routes() if r["path"] == "/api/connexion/")
    return json.loads((FIXTURES / route["file"]).read_text(encoding="utf-8"))["token"]


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AAP_AT_TOKEN", SECRET)


def test_declaration_is_complete() -> None:
    assert AidesTerritoiresSpider.check_declaration() == []


def test_every_fixture_aid_becomes_one_item_across_pages() -> None:
    crawl = crawl_offline(AidesTerritoiresSpider)
    records = _fixture_records()
    assert len(crawl.items) == len(records)
    assert sum("/api/aids/" in r for r in crawl.requests) == len([r for r in _routes() if r["path"] == "/api/aids/"])
    assert all(status == 200 for status in crawl.statuses)
    assert [i["native_id"] for i in crawl.items] == [str(r["id"]) for r in records]


def test_fields_are_taken_from_the_record() -> None:
    crawl = crawl_offline(AidesTerritoiresSpider)
    by_id = {str(r["id"]): r for r in _fixture_records()}
    for item in crawl.items:
        rec = by_id[item["native_id"]]
        assert item["title"] == rec["name"]
        assert item["url"] == "https://aides-territoires.beta.gouv.fr" + rec["url"]
        assert item["audience_labels"] == rec["targeted_audiences"]
        assert item["theme_labels"] == rec["categories"]
        assert item.get("deadlines") == ([rec["submission_deadline"]] if rec["submission_deadline"] else None)
        assert item["raw"] == rec
        assert "<" not in (item.get("description") or "") and "<" not in (item.get("eligibility_text") or "")
        for d in item.get("deadlines") or []:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", d)
    assert any("CCAS" in (i.get("eligibility_text") or "") for i in crawl.items)
    assert any(i.get("deadline_text") == "Permanente" and "deadlines" not in i for i in crawl.items)


def test_ids_are_unique_and_stable_and_urls_live() -> None:
    first = crawl_offline(AidesTerritoiresSpider).items
    second = crawl_offline(AidesTerritoiresSpider).items
    ids = [i["native_id"] for i in first]
    assert len(set(ids)) == len(ids)
    assert ids == [i["native_id"] for i in second]
    for item in first:
        assert item["url"].startswith("https://aides-territoires.beta.gouv.fr/aides/")
        assert "portal.test" not in item["url"] and "127.0.0.1" not in item["url"]


def test_bearer_header_is_sent_and_secrets_never_leak(caplog: pytest.LogCaptureFixture) -> None:
    spider = AidesTerritoiresSpider(base_url="http://portal.test/aides_territoires")
    token_request = next(iter(spider.first_requests()))
    assert token_request.method == "POST" and token_request.headers.get("X-AUTH-TOKEN") == SECRET.encode()
    caplog.set_level(logging.DEBUG)
    crawl = crawl_offline(AidesTerritoiresSpider)
    jwt = _jwt()
    # the aids routes require Authorization: a 200 proves it was sent
    assert crawl.statuses[1:] and all(s == 200 for s in crawl.statuses[1:])
    dumped = json.dumps(crawl.items, ensure_ascii=False)
    for secret in (SECRET, jwt):
        assert secret not in dumped
        assert secret not in caplog.text
        assert all(secret not in r for r in crawl.requests)


def test_bearer_header_carries_the_jwt() -> None:
    from scrapy.http import TextResponse

    spider = AidesTerritoiresSpider(base_url="http://portal.test/aides_territoires")
    answer = TextResponse(url="http://portal.test/aides_territoires/api/connexion/",
                          body=json.dumps({"token": "jwt-abc"}).encode(), encoding="utf-8")
    page_request = next(iter(spider.parse_token(answer)))
    assert page_request.headers.get("Authorization") == b"Bearer jwt-abc"


def test_missing_token_fails_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AAP_AT_TOKEN", raising=False)
    with pytest.raises(LayoutError, match="AAP_AT_TOKEN"):
        crawl_offline(AidesTerritoiresSpider)


def test_changed_record_format_raises_naming_source(tmp_path: Path) -> None:
    broken = tmp_path / SOURCE
    shutil.copytree(FIXTURES, broken)
    page = broken / "aids-page-2.json"
    data = json.loads(page.read_text(encoding="utf-8"))
    data["results"][0]["publics"] = data["results"][0].pop("targeted_audiences")
    page.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(LayoutError, match=rf"\[{SOURCE}\].*targeted_audiences"):
        crawl_offline(AidesTerritoiresSpider, overlay_dirs=[tmp_path])


def test_max_pages_caps_pagination() -> None:
    crawl = crawl_offline(AidesTerritoiresSpider, max_pages=1)
    assert sum("/api/aids/" in r for r in crawl.requests) == 1
    first_page = json.loads((FIXTURES / "aids-page-1.json").read_text(encoding="utf-8"))["results"]
    assert len(crawl.items) == len(first_page)
