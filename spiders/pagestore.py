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
  bases (and of this module); when any of them changes, the old store is ignored and the next crawl parses
  every page again, so a fixed parser never leaves items of the old one in place.
* Pages fetched with credentials (``Authorization``, a token header, cookies) and pages whose follow-up
  requests carry them are never stored, nor are POST answers: nothing secret is written to disk.

Every re-emitted item goes to the raw JSONL like a parsed one, so downstream sees the source's full set.
Statistics: ``aap/pages_unchanged`` (304s answered from the store), ``aap/details_not_asked``,
``aap/items_replayed``.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.serialize import ScrapyJSONEncoder

#: request meta key marking a detail request whose ``cb_kwargs`` are the listing's card of the page
CARD = "aap_card"
#: request meta key set on a 304 the store answers (the stored page's fingerprint)
REPLAY = "aap_replay"
#: just above the built-in HTTP cache's place (900): outside compression, retries and redirects
CONDITIONAL_PRIORITY = 900
#: closest to the spider (the built-in spider middlewares are at 50–900): sees the callback's own output
REPLAY_PRIORITY = 950
#: bump when :class:`Page` changes: an older store is ignored (the next crawl is a full one)
FORMAT = 2
#: headers that make a request unfit to store (credentials)
SECRET_HEADERS = (b"Authorization", b"Proxy-Authorization", b"Cookie", b"X-Auth-Token", b"X-Api-Key")
VALIDATORS = {b"ETag": b"If-None-Match", b"Last-Modified": b"If-Modified-Since"}


@dataclass
class Page:
    """What one page gave: validators, when last confirmed (epoch seconds), the request's arguments, the
    raw items (their JSONL lines) and the follow-up requests (as :func:`request_data` dicts)."""

    validators: dict[bytes, bytes]
    checked: float
    cb_kwargs: dict[str, Any]
    items: list[bytes] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


class PageStore:
    """The pages of one source, loaded at the start of a crawl and written once at its end."""

    def __init__(self, path: Path, code: str = ""):
        self.path = path
        self.code = code
        self.old: dict[bytes, Page] = {}
        self.new: dict[bytes, Page] = {}
        self.dropped: set[bytes] = set()
        #: JSONL lines of the items re-emitted in this crawl (appended to the raw JSONL after the crawl)
        self.replayed: list[bytes] = []
        try:
            with open(path, "rb") as fh:
                data = pickle.load(fh)
            if data.get("format") == FORMAT and data.get("code") == code:
                self.old = data["pages"]
        except FileNotFoundError:
            pass
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, KeyError, TypeError):
            self.old = {}  # an unreadable store only costs a full crawl

    def get(self, fp: bytes) -> Page | None:
        if fp in self.dropped:
            return None
        return self.new.get(fp) or self.old.get(fp)

    def put(self, fp: bytes, page: Page) -> None:
        self.dropped.discard(fp)
        self.new[fp] = page

    def keep(self, fp: bytes, page: Page) -> None:
        """The page is still listed (kept as stored, its ``checked`` time unchanged)."""
        self.new.setdefault(fp, page)

    def drop(self, fp: bytes) -> None:
        self.dropped.add(fp)
        self.new.pop(fp, None)

    def save(self, complete: bool) -> None:
        """Write the pages seen in this crawl; after an incomplete crawl, also those it did not reach."""
        pages = dict(self.new) if complete else {**{k: v for k, v in self.old.items() if k not in self.dropped},
                                                 **self.new}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump({"format": FORMAT, "code": self.code, "pages": pages}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.path)


def request_data(request: Request, spider: Any) -> dict[str, Any] | None:
    """A follow-up request as plain data, or None when it cannot be stored (credentials, a callback that
    is not a spider method)."""
    if any(h in request.headers for h in SECRET_HEADERS):
        return None
    callback = request.callback
    name = getattr(callback, "__name__", None)
    if callback is not None and (name is None or getattr(spider, name, None) != callback):
        return None
    return {"url": request.url, "callback": name, "method": request.method,
            "headers": {k: list(v) for k, v in request.headers.items()}, "body": request.body,
            "meta": dict(request.meta), "cb_kwargs": dict(request.cb_kwargs), "priority": request.priority,
            "dont_filter": request.dont_filter}


def rebuild(data: dict[str, Any], spider: Any) -> Request:
    name = data["callback"]
    return Request(data["url"], callback=getattr(spider, name) if name else None, method=data["method"],
                   headers=data["headers"], body=data["body"], meta=dict(data["meta"]),
                   cb_kwargs=dict(data["cb_kwargs"]), priority=data["priority"], dont_filter=data["dont_filter"])


def code_hash(spider_cls: type) -> str:
    """Hash of the source files of ``spider_cls``, of its aap bases and of this module: what the stored
    outputs were drawn with."""
    digest = hashlib.sha256()
    files = {inspect.getsourcefile(c) for c in spider_cls.__mro__ if c.__module__.split(".")[0] == "spiders"}
    for name in sorted({*(f for f in files if f), __file__}):
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()


def _store(crawler: Any) -> PageStore:
    """The crawl's store, shared by both middlewares; NotConfigured when ``AAP_PAGE_STORE`` is empty."""
    store = getattr(crawler, "aap_page_store", None)
    if store is None:
        path = crawler.settings.get("AAP_PAGE_STORE") or ""
        if not path:
            raise NotConfigured("AAP_PAGE_STORE is not set")
        store = crawler.aap_page_store = PageStore(Path(path), code_hash(crawler.spidercls))

        def closed(spider: Any, reason: str) -> None:
            failures = getattr(crawler, "aap_final_failures", [])
            store.save(complete=reason == "finished" and not failures)

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
                    data = request_data(out, spider)
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
        if page is None or page.cb_kwargs != request.cb_kwargs or time.time() - page.checked >= self.max_age_of(fp):
            yield request
            return
        self.store.keep(fp, page)
        self.stats.inc_value("aap/details_not_asked")
        yield from self.replay(page, spider)

    def max_age_of(self, fp: bytes) -> float:
        """How long the detail page ``fp`` is re-emitted unasked: from half the max age to all of it."""
        return self.max_age * (0.5 + fp[0] / 510)

    def replay(self, page: Page, spider: Any) -> Any:
        """The page's follow-up requests (through :meth:`follow`); its items' lines go to the store's
        ``replayed`` list."""
        self.store.replayed.extend(page.items)
        self.stats.inc_value("aap/items_replayed", len(page.items))
        for data in page.requests:
            yield from self.follow(rebuild(data, spider), spider)

    async def process_spider_output_async(self, response: Response, result: Any, spider: Any = None) -> Any:
        # an async callback's output is gathered first; on a 304 the callback is not started
        outputs = [] if self.unchanged(response) is not None else [out async for out in result]
        for out in self.process_spider_output(response, outputs, spider):
            yield out
