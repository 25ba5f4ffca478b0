"""EU Funding & Tenders (SEDIA) spider over its fixtures: multipart query, paging, fields, failures."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from pipeline.settings import FIXTURES_DIR
from spiders.base import LayoutError
from spiders.bases.sedia import FAQ_DATASOURCE, TOPIC_URL
from spiders.sources.eu_funding_tenders import EuFundingTendersSpider
from tests.offline import crawl_offline

SOURCE = EuFundingTendersSpider.name
FIXTURES = FIXTURES_DIR / SOURCE


def _page_files() -> list[str]:
    routes = json.loads((FIXTURES / "portal.json").read_text(encoding="utf-8"))["routes"]
    return [r["file"] for r in routes]


def _results() -> list[dict]:
    return [r for f in _page_files() for r in json.loads((FIXTURES / f).read_text(encoding="utf-8"))["results"]]


def _topics() -> list[dict]:
    return [r for r in _results() if r["metadata"].get("DATASOURCE") != [FAQ_DATASOURCE]]


def _multipart_parts(body: bytes) -> dict[str, tuple[str, object]]:
    """name → (content type, decoded JSON) of each multipart part."""
    text = body.decode("utf-8")
    boundary = text.split("\r\n", 1)[0]
    parts = {}
    for chunk in text.split(boundary)[1:]:
        if chunk.startswith("--"):
            break
        head, _, payload = chunk.strip("\r\n").partition("\r\n\r\n")
        name = re.search(r'name="([^"]+)"', head).group(1)
        ctype = re.search(r"Content-Type: (\S+)", head).group(1)
        parts[name] = (ctype, json.loads(payload))
    return parts


def test_declaration_is_complete() -> None:
    assert EuFundingTendersSpider.check_declaration() == []


def test_request_is_a_multipart_post_of_json_parts() -> None:
    spider = EuFundingTendersSpider(base_url="http://portal.test/eu_funding_tenders")
    request = next(iter(spider.first_requests()))
    assert request.method == "POST"
    assert "apiKey=SEDIA" in request.url and "pageNumber=1" in request.url
    assert request.headers["Content-Type"].startswith(b"multipart/form-data; boundary=")
    parts = _multipart_parts(request.body)
    assert set(parts) == {"query", "languages", "sort"}
    assert all(ctype == "application/json" for ctype, _ in parts.values())
    query = parts["query"][1]
    programmes = next(t["terms"]["frameworkProgramme"] for t in query["bool"]["must"]
                      if "frameworkProgramme" in t.get("terms", {}))
    assert set(programmes) == set(EuFundingTendersSpider.programmes)
    assert {"terms": {"DATASOURCE": [FAQ_DATASOURCE]}} in query["bool"]["must_not"]
    assert parts["sort"][1]["field"] == "identifier"


def test_programmes_argument_changes_the_query() -> None:
    one = EuFundingTendersSpider(programmes="43332642")
    assert {"terms": {"frameworkProgramme": ["43332642"]}} in one.search_query()["bool"]["must"]
    unrestricted = EuFundingTendersSpider(programmes="all")
    assert all("frameworkProgramme" not in t["terms"] for t in unrestricted.search_query()["bool"]["must"])


def test_every_topic_of_every_page_becomes_one_item_and_faq_is_skipped() -> None:
    crawl = crawl_offline(EuFundingTendersSpider)
    topics = _topics()
    assert len(topics) < len(_results()), "the fixture must hold a FAQ entry to skip"
    assert len(crawl.items) == len(topics)
    assert len(crawl.requests) == len(_page_files())
    assert [i["native_id"] for i in crawl.items] == [t["metadata"]["identifier"][0] for t in topics]


def test_fields_come_from_metadata_arrays() -> None:
    crawl = crawl_offline(EuFundingTendersSpider)
    by_id = {t["metadata"]["identifier"][0]: t for t in _topics()}
    for item in crawl.items:
        meta = by_id[item["native_id"]]["metadata"]
        assert item["url"] == TOPIC_URL + item["native_id"]
        assert item["title"] == meta["title"][0]
        assert item["deadlines"] == meta["deadlineDate"]
        assert item["opens_on"] == meta["startDate"][0]
        assert item["programme"] == EuFundingTendersSpider.programmes[meta["frameworkProgramme"][0]]
        assert item["status_label"] in ("Forthcoming", "Open For Submission", "Closed")
        assert item["raw"] == by_id[item["native_id"]]
        if "budgetOverview" in meta:
            years = json.loads(meta["budgetOverview"][0])["budgetYearsColumns"]
            assert all(f"Budget {y}" in item["amount_text"] for y in years)
    assert any(len(i["deadlines"]) > 1 for i in crawl.items), "a multi cut-off topic is expected"


def test_ids_are_unique_and_stable() -> None:
    first = [i["native_id"] for i in crawl_offline(EuFundingTendersSpider).items]
    assert len(first) == len(set(first))
    assert first == [i["native_id"] for i in crawl_offline(EuFundingTendersSpider).items]


def _broken_copy(tmp_path: Path, change) -> Path:
    shutil.copytree(FIXTURES, tmp_path / SOURCE)
    page = tmp_path / SOURCE / _page_files()[-1]
    data = json.loads(page.read_text(encoding="utf-8"))
    change(data["results"][0]["metadata"])
    page.write_text(json.dumps(data), encoding="utf-8")
    return tmp_path


def test_missing_metadata_key_raises_naming_source(tmp_path: Path) -> None:
    overlay = _broken_copy(tmp_path, lambda meta: meta.pop("status"))
    with pytest.raises(LayoutError, match=rf"\[{SOURCE}\].*status"):
        crawl_offline(EuFundingTendersSpider, overlay_dirs=[overlay])


def test_unreadable_budget_overview_raises(tmp_path: Path) -> None:
    overlay = _broken_copy(tmp_path, lambda meta: meta.__setitem__("budgetOverview", ["{not json"]))
    with pytest.raises(LayoutError, match=rf"\[{SOURCE}\] budgetOverview"):
        crawl_offline(EuFundingTendersSpider, overlay_dirs=[overlay])
