"""The page store: what it keeps, what it never keeps, and how it survives a bad file."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import scrapy
from scrapy.settings import Settings

from spiders.pages import read_plan
from spiders.pagestore import Page, PageReplay, PageStore, code_hash, rebuild, request_data
from spiders.registry import get_spider


class _Spider(scrapy.Spider):
    name = "store_test"

    def parse_list(self, response: scrapy.http.Response) -> None:
        return None


def test_pages_round_trip_and_unseen_pages_are_dropped_after_a_complete_crawl(tmp_path: Path) -> None:
    path = tmp_path / "pages" / "s.pickle"
    store = PageStore(path)
    store.put(b"a", Page({b"ETag": b'"1"'}, time.time(), {"index": 0}, items=[{"title": "A"}]))
    store.put(b"b", Page({}, time.time(), {}, items=[{"title": "B"}]))
    store.save(complete=True)
    again = PageStore(path)
    assert again.get(b"a").items == [{"title": "A"}] and again.get(b"a").validators == {b"ETag": b'"1"'}
    again.keep(b"a", again.get(b"a"))
    again.save(complete=True)
    assert PageStore(path).get(b"b") is None and PageStore(path).get(b"a") is not None


def test_an_incomplete_crawl_keeps_pages_it_did_not_reach_but_not_failed_ones(tmp_path: Path) -> None:
    path = tmp_path / "s.pickle"
    store = PageStore(path)
    for key in (b"a", b"b"):
        store.put(key, Page({}, time.time(), {}))
    store.save(complete=True)
    again = PageStore(path)
    again.drop(b"b")  # a download error or an HTTP error
    assert again.get(b"b") is None
    again.save(complete=False)
    assert PageStore(path).get(b"a") is not None and PageStore(path).get(b"b") is None


def test_an_unreadable_store_only_costs_a_full_crawl(tmp_path: Path) -> None:
    path = tmp_path / "s.pickle"
    path.write_bytes(b"not a pickle")
    assert PageStore(path).get(b"a") is None


def test_requests_with_credentials_are_never_stored() -> None:
    spider = _Spider()
    plain = scrapy.Request("https://example.org/p?page=2", callback=spider.parse_list, meta={"page_no": 2},
                           headers={"Accept": "application/json"})
    data = request_data(plain, spider)
    assert data is not None
    back = rebuild(data, spider)
    assert (back.url, back.callback, back.meta, back.headers.get("Accept")) == (
        plain.url, spider.parse_list, {"page_no": 2}, b"application/json")
    for header in ("Authorization", "X-Auth-Token", "Cookie"):
        secret = scrapy.Request("https://example.org/p", callback=spider.parse_list, headers={header: "s3cret"})
        assert request_data(secret, spider) is None, header


def test_a_store_of_other_spider_code_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "s.pickle"
    code = code_hash(get_spider("grand_est"))
    assert code != code_hash(get_spider("nouvelle_aquitaine"))
    store = PageStore(path, code)
    store.put(b"a", Page({}, time.time(), {}))
    store.save(complete=True)
    assert PageStore(path, code).get(b"a") is not None
    assert PageStore(path, code + "-changed").get(b"a") is None


def test_detail_pages_are_revalidated_between_half_and_all_of_the_max_age() -> None:
    holder = SimpleNamespace(max_age=7 * 86400)
    ages = [PageReplay.max_age_of(holder, bytes([b]) + b"rest") for b in range(256)]
    assert min(ages) == 3.5 * 86400 and max(ages) == 7 * 86400
    assert PageReplay.max_age_of(SimpleNamespace(max_age=0), b"\xff") == 0


def test_a_plan_is_kept_only_for_the_store_a_complete_crawl_wrote(tmp_path: Path) -> None:
    path = tmp_path / "pages" / "s.pickle"
    plan = {"key": "k", "files": [], "start": [{"url": "https://example.org/"}]}
    store = PageStore(path, "code")
    store.put(b"a", Page({b"ETag": b'"1"'}, time.time(), {}))
    store.save(complete=True, plan=plan)
    read = read_plan(path)
    assert read is not None and read["key"] == "k" and read["code"] == "code" and read["start"] == plan["start"]
    # an incomplete crawl leaves no plan (some pages were not reached)
    store.save(complete=False, plan=plan)
    assert read_plan(path) is None
    store.save(complete=True, plan=plan)
    assert read_plan(path) is not None
    # a store written since, by anything, is not the one the plan describes
    path.write_bytes(path.read_bytes() + b"\0")
    assert read_plan(path) is None


def test_a_crawl_records_its_first_requests_with_their_fingerprints(tmp_path: Path) -> None:
    spider = _Spider()
    crawler = SimpleNamespace(spider=spider, request_fingerprinter=SimpleNamespace(fingerprint=lambda r: r.url.encode()),
                              stats=None, settings=Settings({"AAP_DETAIL_MAX_AGE_DAYS": 7}))
    crawler.aap_page_store = PageStore(tmp_path / "s.pickle")
    replay = PageReplay(crawler)
    first = [scrapy.Request("https://example.org/a", callback=spider.parse_list),
             scrapy.Request("https://example.org/b", callback=spider.parse_list)]

    async def start() -> Any:
        for request in first:
            yield request

    async def run() -> list[Any]:
        return [r async for r in replay.process_start(start())]

    assert asyncio.run(run()) == first
    assert [(d["url"], d["fp"]) for d in crawler.aap_page_store.start] == [
        ("https://example.org/a", b"https://example.org/a"), ("https://example.org/b", b"https://example.org/b")]
    # a first request that cannot be stored (credentials) means no plan: the crawl cannot be replayed
    crawler.aap_page_store = PageStore(tmp_path / "t.pickle")
    replay = PageReplay(crawler)
    first.append(scrapy.Request("https://example.org/c", headers={"Authorization": "s3cret"}))
    asyncio.run(run())
    assert crawler.aap_page_store.start is None
