"""Nouvelle-Aquitaine: RSS feed + detail pages, parsed from the saved fixtures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from spiders.base import LayoutError
from spiders.bases.rss_detail import rss_date
from spiders.sources.nouvelle_aquitaine import NouvelleAquitaineSpider as Spider
from tests.offline import crawl_offline
from tests.spiders.html_helpers import (
    broken_overlay,
    check_items,
    check_labels_mapped,
    routes,
    same_ids_twice,
)


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return check_items(Spider, crawl_offline(Spider))


def test_one_item_per_feed_entry_with_required_fields(items: list[dict]) -> None:
    assert len(items) >= 8
    assert same_ids_twice(Spider)


def test_feed_fields_kept_in_raw_with_two_digit_year_read_as_20xx(items: list[dict]) -> None:
    for it in items:
        entry = it["raw"]["list"]
        assert entry["link"] == it["url"]
        published = datetime.fromisoformat(entry["published_at"])
        assert published.year == 2000 + int(entry["pubDate"].split()[3])
        assert it["summary"] and "<" not in it["summary"]


def test_rss_date_handles_missing_and_garbage() -> None:
    assert rss_date(None) is None
    assert rss_date("pas une date") is None
    assert rss_date("Fri, 20 Nov 26 11:00:00 +0100").startswith("2026-11-20T11:00:00")


def test_categories_split_into_audiences_themes_and_types(items: list[dict]) -> None:
    for it in items:
        cats = set(it["raw"]["list"]["categories"])
        labels = set(it["audience_labels"]) | set(it.get("theme_labels", [])) | set(it["type_labels"])
        assert cats <= labels
        assert not set(it["type_labels"]) & set(it["audience_labels"])
    assert check_labels_mapped(Spider.name, items) >= 10


def test_call_badge_sets_is_call_label(items: list[dict]) -> None:
    flags = {it["is_call_label"] for it in items}
    assert flags == {True, False}
    for it in items:
        assert it["is_call_label"] == any(t.startswith("Appel") for t in it["type_labels"])


def test_deadline_text_keeps_the_end_date_and_the_calendar(items: list[dict]) -> None:
    for it in items:
        lines = it["deadline_text"].split("\n")
        assert lines[0].startswith("Date de fin de publication")
        assert any(line.startswith("Calendrier") for line in lines)
    texts = " ".join(it["deadline_text"] for it in items)
    for wording in ("au fil de l'eau", "deux vagues", "commission permanente", "en continu"):
        assert wording in texts


def test_latin1_detail_page_decodes_accents(items: list[dict]) -> None:
    latin = [r for r in routes(Spider.name) if "iso-8859-1" in r.get("content_type", "")]
    assert latin, "one fixture page is served as ISO-8859-1"
    path = "/" + latin[0]["path"].strip("/")
    (item,) = [it for it in items if it["url"].endswith(path)]
    assert "épicerie" in item["eligibility_text"] and "CCAS" in item["eligibility_text"]


def test_renamed_categories_class_fails_loudly(tmp_path: Path) -> None:
    overlay = broken_overlay(tmp_path, Spider.name, 'class="categories"', 'class="categories-v2"')
    with pytest.raises(LayoutError) as err:
        crawl_offline(Spider, overlay_dirs=[overlay])
    assert "[nouvelle_aquitaine]" in str(err.value) and "div.categories" in str(err.value)


def test_feed_without_items_fails_unless_empty_ok(tmp_path: Path) -> None:
    overlay = broken_overlay(tmp_path, Spider.name, "<item>", "<entry>", prefix="fiches-rss")
    with pytest.raises(LayoutError, match="channel/item"):
        crawl_offline(Spider, overlay_dirs=[overlay])
