"""Shared checks for the HTML/RSS spiders' parse tests: fixture counts, per-item field checks, label
mapping coverage, and overlays with broken markup."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pipeline.schema import AID_TYPES, AUDIENCES, RAW_FIELDS, THEMES
from pipeline.settings import FIXTURES_DIR, PROJECT_ROOT
from spiders.base import AapSpider, LayoutError
from tests.offline import OfflineCrawl, crawl_offline

MAPPINGS_DIR = PROJECT_ROOT / "transforms" / "data" / "mappings"
#: raw label field → (mapping file kind, vocabulary); themes are ``slug`` or ``slug/Catégorie``
LABEL_KINDS = {"audience_labels": ("audiences", AUDIENCES), "theme_labels": ("themes", THEMES),
               "type_labels": ("types", AID_TYPES)}


def routes(source: str) -> list[dict[str, Any]]:
    """The fixture portal routes of a source."""
    return json.loads((FIXTURES_DIR / source / "portal.json").read_text(encoding="utf-8"))["routes"]


def route_files(source: str, prefix: str) -> list[str]:
    """Fixture files served by the source's routes whose name starts with ``prefix``."""
    return [r["file"] for r in routes(source) if r["file"].startswith(prefix)]


def detail_page_count(source: str) -> int:
    """How many call detail pages the source's fixtures serve (one call each)."""
    return len(route_files(source, "detail-"))


def check_items(spider_cls: type[AapSpider], crawl: OfflineCrawl) -> list[dict[str, Any]]:
    """Assert what every item of an HTML/RSS source must satisfy; return the items."""
    assert spider_cls.check_declaration() == []
    items = crawl.items
    assert len(items) == detail_page_count(spider_cls.name), "one item per detail page"
    assert all(s == 200 for s in crawl.statuses), crawl.requests
    live_root = spider_cls.live_base_url.rstrip("/")
    ids = [it["native_id"] for it in items]
    assert len(set(ids)) == len(ids), "native ids are unique"
    for it in items:
        assert set(it) <= set(RAW_FIELDS)
        assert it["source"] == spider_cls.name
        assert it["title"].strip() and "\n" not in it["title"]
        assert it["url"].startswith("https://"), it["url"]
        assert "portal.test" not in it["url"] and "portal.test" not in json.dumps(it["raw"])
        assert it["native_id"] in it["url"], "the id is cut from the live URL"
        assert it["deadline_text"].strip(), it["url"]
        assert isinstance(it["raw"], dict) and it["raw"].get("detail")
        assert "Ã" not in json.dumps(it, ensure_ascii=False), "mis-decoded accents"
    assert any(it["url"].startswith(live_root) for it in items)
    return items


def same_ids_twice(spider_cls: type[AapSpider]) -> bool:
    """Whether two crawls of the fixtures give the same ids (ids never depend on order or time)."""
    first = [it["native_id"] for it in crawl_offline(spider_cls).items]
    second = [it["native_id"] for it in crawl_offline(spider_cls).items]
    return sorted(first) == sorted(second)


def load_mapping(source: str, kind: str) -> dict[str, list[str]]:
    """``transforms/data/mappings/<source>__<kind>.csv`` as label → values."""
    path = MAPPINGS_DIR / f"{source}__{kind}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(None not in r and r["aap_values"] is not None for r in rows), f"{path}: malformed rows"
    return {r["source_label"]: [v for v in r["aap_values"].split(";") if v] for r in rows}


def check_labels_mapped(source: str, items: list[dict[str, Any]]) -> int:
    """Every emitted label has a mapping row whose values are in our vocabularies; return the number
    of distinct labels checked."""
    checked = 0
    for field, (kind, vocab) in LABEL_KINDS.items():
        labels = {label for it in items for label in it.get(field, [])}
        if not labels:
            continue
        mapping = load_mapping(source, kind)
        for label in labels:
            assert label in mapping, f"{source}: {field} label {label!r} missing from {kind} mapping"
            assert mapping[label], f"{source}: {kind} mapping of {label!r} is empty"
            for value in mapping[label]:
                assert value.split("/")[0] in vocab, f"{source}: {value!r} not in our {kind} vocabulary"
            checked += 1
    return checked


def broken_overlay(tmp_path: Path, source: str, old: str, new: str, prefix: str = "detail-") -> Path:
    """A copy of a source's fixtures where ``old`` becomes ``new`` in files starting with ``prefix``
    (at least one file must change); returns the overlay directory for ``crawl_offline``."""
    target = tmp_path / source
    shutil.copytree(FIXTURES_DIR / source, target)
    changed = 0
    for path in target.glob(f"{prefix}*"):
        body = path.read_bytes()
        if old.encode() in body:
            path.write_bytes(body.replace(old.encode(), new.encode()))
            changed += 1
    assert changed, f"{old!r} not found in {source} fixtures {prefix}*"
    return tmp_path


#: wordings of rolling calls, of several sessions, and dates that are not submission deadlines
ROLLING_WORDS = ("au fil de l'eau", "en continu", "toute l'année", "permanent")
SESSION_WORDS = ("vague", "session", "relève")
DISTRACTOR_WORDS = ("commission permanente", "date de publication", "publié le", "comité de",
                    "démarrage", "jury")


def iso_8859_1_paths(source: str) -> list[str]:
    """Live paths of the fixture pages served as ISO-8859-1."""
    return [r["path"] for r in routes(source) if "iso-8859-1" in r.get("content_type", "").lower()]


class HtmlSourceTests:
    """Checks every HTML/RSS source passes; a source's test module subclasses it as ``Test<Source>``,
    naming its spider and how to break its markup (``broken``: text to replace in the detail pages,
    its replacement, and the selector the error must name; ``broken_prefix`` picks the files)."""

    spider: type[AapSpider]
    broken: tuple[str, str, str]
    broken_prefix: str = "detail-"
    min_calls: int = 6

    def crawl(self, **kwargs: Any) -> OfflineCrawl:
        return crawl_offline(self.spider, **kwargs)

    def test_one_valid_item_per_detail_page(self) -> None:
        items = check_items(self.spider, self.crawl())
        assert len(items) >= self.min_calls
        assert same_ids_twice(self.spider)

    def test_every_listing_page_is_followed_and_capped(self) -> None:
        crawl = self.crawl()
        listing_files = set(route_files(self.spider.name, "list-"))
        assert listing_files, "listing fixtures are named list-*"
        # every request is a listing page or a detail page, each fetched once
        assert len(crawl.requests) == len(listing_files) + detail_page_count(self.spider.name)
        if len(listing_files) > 1:
            capped = self.crawl(max_pages=1)
            assert 0 < len(capped.items) < len(crawl.items)

    def test_fixtures_mix_rolling_sessions_and_distractors(self) -> None:
        items = self.crawl().items
        deadlines = " ".join(it["deadline_text"] for it in items).lower()
        assert any(w in deadlines for w in ROLLING_WORDS), "a rolling call"
        assert any(w in deadlines for w in SESSION_WORDS), "a call with several sessions"
        assert any(w in deadlines for w in DISTRACTOR_WORDS), "a date that is not a deadline"
        eligibility = " ".join(it.get("eligibility_text", "") for it in items)
        assert any(w in eligibility for w in ("CCAS", "CIAS", "centres communaux", "centre communal"))

    def test_labels_are_mapped(self) -> None:
        items = self.crawl().items
        if any(it.get(f) for it in items for f in LABEL_KINDS):
            assert check_labels_mapped(self.spider.name, items) > 0

    def test_iso_8859_1_page_decodes_accents(self) -> None:
        paths = iso_8859_1_paths(self.spider.name)
        assert paths, "one fixture page is served as ISO-8859-1"
        items = [it for it in self.crawl().items if urlsplit(it["url"]).path in paths]
        assert items, f"no item parsed from {paths}"
        text = json.dumps(items, ensure_ascii=False)
        assert "é" in text and "Ã" not in text

    def test_renamed_markup_fails_loudly(self, tmp_path: Path) -> None:
        old, new, selector = self.broken
        overlay = broken_overlay(tmp_path, self.spider.name, old, new, prefix=self.broken_prefix)
        with pytest.raises(LayoutError) as err:
            self.crawl(overlay_dirs=[overlay])
        assert f"[{self.spider.name}]" in str(err.value) and selector in str(err.value)
