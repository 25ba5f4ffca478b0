"""What each page gave at the last harvest, so that an unchanged page costs neither a transfer nor a parse.

The store (one pickle file per source, ``<raw dir>/pages/<source>.pickle``; :mod:`pipeline.crawl` sets the
place in ``AAP_PAGE_STORE``) keeps, per request fingerprint, the page's validators (``ETag``,
``Last-Modified``), when the portal last confirmed it, the arguments the request carried and what the
spider drew from the page: its raw items and its follow-up requests. Not the page itself.

* :class:`ConditionalRequests` (downloader middleware) asks for every stored page with
  ``If-None-Match``/``If-Modified-Since``. On a 304 the callback is not run: :class:`PageReplay` re-emits the
  stored items and follow-up requests instead (the follow-ups are asked for in their turn).
* Items are stored as their raw JSONL lines (encoded as the feed encodes them). A re-emitted item does not
  go through Scrapy's item machinery again (signals, feed exporter: most of a rerun's cost): its line is
  kept in :attr:`PageStore.replayed` and :mod:`pipeline.crawl` appends those lines to the raw JSONL once
  the crawl has ended, and counts them among the crawl's items.
* A detail page requested with ``meta[CARD]`` carries, in its arguments, what the listing says of it (its
  card). While the listing says the same and the portal confirmed the page recently, the page is not asked
  for: its stored items are re-emitted. A changed card means a new request; an older page is revalidated
  (a 304 then re-emits it). "Recently" is between half of ``AAP_DETAIL_MAX_AGE_DAYS`` and all of it, drawn
  per page from its fingerprint, so that revalidations spread over several harvests instead of all falling
  on one. The trade-off: a detail page that changes while its card stays the same is seen at most
  ``AAP_DETAIL_MAX_AGE_DAYS`` late.
* The store never stands in for a failure: a download error or an HTTP error drops the page from the store,
  and the failure goes on to the retry middleware and the crawl statistics as before.
* The store belongs to the spider's code: it records a hash of the source files of the spider class and its
  bases (and of this module, of :mod:`spiders.pages` and of the crawl settings); when any of them changes,
  the old store is ignored and the next crawl parses every page again, so a fixed parser never leaves items
  of the old one in place.
* Pages fetched with credentials (``Authorization``, a token header, cookies) and pages whose follow-up
  requests carry them are never stored, nor are POST answers: nothing secret is written to disk.
* A complete crawl also leaves its plan next to the store (:func:`crawl_plan`): its first requests (recorded
  by :meth:`PageReplay.process_start`), the headers every request carried, robots.txt, delay, concurrency
  and time-out.
  With it, :mod:`pipeline.revalidate` replays the same crawl over the stored pages with plain conditional
  requests, without starting Scrapy, as long as the portal answers 304 to every page it asks for.
* The data (:class:`Page`, :class:`PageStore`, the plan) lives in :mod:`spiders.pages`, which does not
  import Scrapy.

Every re-emitted item goes to the raw JSONL like a parsed one, so downstream sees the source's full set.
Statistics: ``aap/pages_unchanged`` (304s answered from the store), ``aap/details_not_asked``,
``aap/items_replayed``.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.downloadermiddlewares.httpcompression import ACCEPTED_ENCODINGS
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.serialize import ScrapyJSONEncoder

from spiders.pages import CARD, SECRET_HEADERS, VALIDATORS, Page, PageStore, age_limit, files_hash, unasked

#: request meta key set on a 304 the store answers (the stored page's fingerprint)
REPLAY = "aap_replay"
#: just above the built-in HTTP cache's place (900): outside compression, retries and redirects
CONDITIONAL_PRIORITY = 900
#: closest to the spider (the built-in spider middlewares are at 50–900): sees the callback's own output
REPLAY_PRIORITY = 950


def request_data(request: Request, spider: Any, fp: bytes | None = None) -> dict[str, Any] | None:
    """A request as plain data (with its fingerprint ``fp``), or None when it cannot be stored (credentials,
    a callback that is not a spider method)."""
    if any(h in request.headers for h in SECRET_HEADERS):
        return None
    callback = request.callback
    name = getattr(callback, "__name__", None)
    if callback is not None and (name is None or getattr(spider, name, None) != callback):
        return None
    return {"url": request.url, "callback": name, "method": request.method,
            "headers": {k: list(v) for k, v in request.headers.items()}, "body": request.body,
            "meta": dict(request.meta), "cb_kwargs": dict(request.cb_kwargs), "priority": request.priority,
            "dont_filter": request.dont_filter, "fp": fp}


def rebuild(data: dict[str, Any], spider: Any) -> Request:
    name = data["callback"]
    return Request(data["url"], callback=getattr(spider, name) if name else None, method=data["method"],
                   headers=data["headers"], body=data["body"], meta=dict(data["meta"]),
                   cb_kwargs=dict(data["cb_kwargs"]), priority=data["priority"], dont_filter=data["dont_filter"])


def code_files(spider_cls: type) -> list[str]:
    """The source files of ``spider_cls``, of its aap bases, of the crawl settings and of the page store:
    what the stored outputs were drawn with."""
    import spiders.pages
    import spiders.settings

    files = {inspect.getsourcefile(c) for c in spider_cls.__mro__ if c.__module__.split(".")[0] == "spiders"}
    return sorted({*(f for f in files if f), __file__, str(spiders.pages.__file__), str(spiders.settings.__file__)})


def code_hash(spider_cls: type) -> str:
    """:func:`spiders.pages.files_hash` of :func:`code_files`."""
    return files_hash(code_files(spider_cls))


def crawl_plan(crawler: Any, store: PageStore) -> dict[str, Any] | None:
    """What a complete crawl leaves for a rerun without Scrapy (``spiders.pages.read_plan``), or None when
    the crawl cannot be replayed so (no ``AAP_CRAWL_KEY``, a first request that cannot be stored)."""
    settings = crawler.settings
    key = settings.get("AAP_CRAWL_KEY") or ""
    if not key or not store.start:
        return None
    # the headers Scrapy's own middlewares add to every request (a request's own headers win)
    headers = {str(k).encode(): str(v).encode() for k, v in settings.getdict("DEFAULT_REQUEST_HEADERS").items()}
    if settings.get("USER_AGENT"):
        headers[b"User-Agent"] = str(settings.get("USER_AGENT")).encode()
    if settings.getbool("COMPRESSION_ENABLED"):
        headers[b"Accept-Encoding"] = b", ".join(ACCEPTED_ENCODINGS)
    delay = settings.getfloat("DOWNLOAD_DELAY")
    if settings.getbool("AUTOTHROTTLE_ENABLED"):
        delay = max(delay, settings.getfloat("AUTOTHROTTLE_START_DELAY"))
    return {"key": key, "files": code_files(crawler.spidercls), "start": store.start, "headers": headers,
            "robots": settings.getbool("ROBOTSTXT_OBEY"), "delay": delay,
            "concurrency": settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
            "timeout": settings.getfloat("DOWNLOAD_TIMEOUT"), "empty_ok": bool(getattr(crawler.spidercls, "empty_ok", False)),
            "max_age": settings.getfloat("AAP_DETAIL_MAX_AGE_DAYS", 7.0) * 86400}


def _store(crawler: Any) -> PageStore:
    """The crawl's store, shared by both middlewares; NotConfigured when ``AAP_PAGE_STORE`` is empty."""
    store = getattr(crawler, "aap_page_store", None)
    if store is None:
        path = crawler.settings.get("AAP_PAGE_STORE") or ""
        if not path:
            raise NotConfigured("AAP_PAGE_STORE is not set")
        store = crawler.aap_page_store = PageStore(Path(path), code_hash(crawler.spidercls))

        def closed(spider: Any, reason: str) -> None:
            complete = reason == "finished" and not getattr(crawler, "aap_final_failures", [])
            store.save(complete=complete, plan=crawl_plan(crawler, store) if complete else None)

        crawler.signals.connect(closed, signals.spider_closed, weak=False)
    return store


class ConditionalRequests:
    """Asks for stored pages conditionally; marks a 304 the store can answer; forgets failed pages."""

    def __init__(self, crawler: Any):
        self.store = _store(crawler)
        self.fingerprint = crawler.request_fingerprinter.fingerprint
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequests:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        for header in VALIDATORS.values():  # never another page's validators (a redirect copies headers)
            request.headers.pop(header, None)
        page = self.store.get(self.fingerprint(request))
        # a page is only answered for the same arguments: what the spider drew from it may depend on them
        if page is None or page.cb_kwargs != request.cb_kwargs:
            return None
        for name, header in VALIDATORS.items():
            if name in page.validators:
                request.headers[header] = page.validators[name]
        return None

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        fp = self.fingerprint(request)
        if response.status == 304 and self.store.get(fp) is not None and any(
                h in request.headers for h in VALIDATORS.values()):
            request.meta[REPLAY] = fp
            allowed = request.meta.get("handle_httpstatus_list")
            request.meta["handle_httpstatus_list"] = [*(allowed or ()), 304]
            self.stats.inc_value("aap/pages_unchanged")
        elif response.status >= 300 and response.status != 304:
            self.store.drop(fp)
        return response

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> None:
        self.store.drop(self.fingerprint(request))
        return None


class PageReplay:
    """Records what each callback drew from its page; re-emits it for an unchanged page, and for a detail
    page whose card is unchanged and which was confirmed less than ``AAP_DETAIL_MAX_AGE_DAYS`` ago."""

    def __init__(self, crawler: Any):
        self.store = _store(crawler)
        self.fingerprint = crawler.request_fingerprinter.fingerprint
        self.stats = crawler.stats
        self.max_age = float(crawler.settings.getfloat("AAP_DETAIL_MAX_AGE_DAYS", 7.0)) * 86400
        self.crawler = crawler
        # the raw feed's encoding of an item (pipeline.crawl writes the feed as UTF-8 JSON Lines)
        self.encode = ScrapyJSONEncoder(ensure_ascii=False).encode

    @classmethod
    def from_crawler(cls, crawler: Any) -> PageReplay:
        return cls(crawler)

    def process_spider_output(self, response: Response, result: Any, spider: Any = None) -> Any:
        spider = spider or self.crawler.spider
        request = response.request
        fp = response.meta.get(REPLAY)
        page = self.unchanged(response)
        if page is not None:
            page.checked = time.time()
            self.store.put(fp, page)
            # the callback's generator is left unstarted: the page is not parsed again
            yield from self.replay(page, spider)
            return
        storable = (response.status == 200 and request is not None and request.method == "GET"
                    and not any(h in request.headers for h in SECRET_HEADERS))
        validators = {k: response.headers[k] for k in VALIDATORS if k in response.headers} if storable else {}
        page = Page(validators, time.time(), dict(request.cb_kwargs)) if storable else None
        for out in result:
            if isinstance(out, Request):
                if page is not None:
                    data = request_data(out, spider, self.fingerprint(out))
                    if data is None:
                        page = None
                    else:
                        page.requests.append(data)
                yield from self.follow(out, spider)
            else:
                if page is not None:
                    page.items.append((self.encode(out) + "\n").encode("utf-8"))
                yield out
        if page is not None:
            self.store.put(self.fingerprint(request), page)

    def unchanged(self, response: Response) -> Page | None:
        """The stored page a 304 answers for (None for any other response)."""
        fp = response.meta.get(REPLAY)
        return self.store.get(fp) if fp is not None and response.status == 304 else None

    def follow(self, request: Request, spider: Any) -> Any:
        """A follow-up request, or the stored items of a detail page that need not be asked for."""
        if not request.meta.get(CARD):
            yield request
            return
        fp = self.fingerprint(request)
        page = self.store.get(fp)
        if page is None or not unasked(page, request.cb_kwargs, fp, time.time(), self.max_age):
            yield request
            return
        self.store.keep(fp, page)
        self.stats.inc_value("aap/details_not_asked")
        yield from self.replay(page, spider)

    def max_age_of(self, fp: bytes) -> float:
        """How long the detail page ``fp`` is re-emitted unasked (:func:`spiders.pages.age_limit`)."""
        return age_limit(fp, self.max_age)

    def replay(self, page: Page, spider: Any) -> Any:
        """The page's follow-up requests (through :meth:`follow`); its items' lines go to the store's
        ``replayed`` list."""
        self.store.replayed.extend(page.items)
        self.stats.inc_value("aap/items_replayed", len(page.items))
        for data in page.requests:
            yield from self.follow(rebuild(data, spider), spider)

    async def process_start(self, start: Any) -> Any:
        """The crawl's first requests, recorded for the plan (``spiders.pages.read_plan``)."""
        spider = self.crawler.spider
        async for out in start:
            if self.store.start is not None:
                data = request_data(out, spider, self.fingerprint(out)) if isinstance(out, Request) else None
                if data is None:
                    self.store.start = None
                else:
                    self.store.start.append(data)
            yield out

    async def process_spider_output_async(self, response: Response, result: Any, spider: Any = None) -> Any:
        # an async callback's output is gathered first; on a 304 the callback is not started
        outputs = [] if self.unchanged(response) is not None else [out async for out in result]
        for out in self.process_spider_output(response, outputs, spider):
            yield out
