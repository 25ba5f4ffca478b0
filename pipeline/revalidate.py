"""A rerun without Scrapy: the last complete crawl of a source replayed over its page store with plain
conditional requests, for as long as the portal answers 304 to every page asked for.

A crawl whose pages are all unchanged parses nothing (see :mod:`spiders.pagestore`), yet it still cost a
Scrapy process: about a second of imports, then a fork and the engine's start-up per source, for a few
bodiless answers. Here the harvest process does the same walk itself, from the plan the last complete crawl
left next to the store (``spiders.pages.read_plan``):

* the plan's first requests, then each page's stored follow-ups, as the crawl makes them; a follow-up seen
  before is not asked again (Scrapy's duplicate filter), a detail page whose card is unchanged and which was
  confirmed recently is not asked at all (``spiders.pages.unasked``, the rule the crawl applies);
* every other page is asked once, with its stored validators, the plan's headers (User-Agent, Accept…) and
  the request's own, robots.txt obeyed: in waves (the pages known so far, then those their stored
  follow-ups add) of the crawl's per-host concurrency, or one at a time with the plan's delay between two
  requests to one host when the crawl kept one (AutoThrottle's start delay counts);
* the stored items of every page go to the raw JSONL; the store is written with the new confirmation times
  when a detail page was confirmed (:meth:`_Walk.store_changed`).

Anything else — an answer other than 304, a download error, a page the store cannot answer (not stored, a
POST, other arguments), a page robots.txt forbids, no plan or a plan for other crawl arguments or other code
— ends the walk at once and the source is crawled by Scrapy as usual: the walk never stands in for a
change, nor for a failure (the crawl's retries and statistics deal with those). What it did is reported as
a crawl whose ``finish_reason`` is :data:`pipeline.crawl.REVALIDATED`.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline.crawl import REVALIDATED, CrawlResult
from spiders.pages import CARD, VALIDATORS, Page, PageStore, files_hash, read_plan, unasked


class Changed(Exception):
    """The walk cannot answer for the source (the reason is the message): Scrapy crawls it."""


class _Walk:
    """One source's walk over its store (see the module docstring)."""

    def __init__(self, plan: dict[str, Any], store: PageStore, now: float):
        self.plan, self.store, self.now = plan, store, now
        self.queue: list[dict[str, Any]] = []
        self.seen: set[bytes] = set()
        self.items: list[bytes] = []
        self.asked = 0
        #: detail pages among those asked: their confirmation time decides when they are next asked
        self.cards_asked = 0
        self.not_asked = 0
        self.statuses: Counter[str] = Counter()
        self.bytes = 0
        #: requests at once (the crawl's per-host concurrency; one at a time when a delay is kept)
        self.width = 1 if plan["delay"] > 0 else max(1, int(plan["concurrency"]))
        self.local = threading.local()
        self.connections: list[http.client.HTTPConnection] = []
        self.robots: dict[tuple[str, str], Any] = {}
        self.last: dict[str, float] = {}

    def run(self) -> None:
        """Ask the queued pages in waves (each wave's answers taken in the crawl's order), until none is left
        or one cannot be answered for."""
        try:
            for data in self.plan["start"]:
                self.visit(data)
            with ThreadPoolExecutor(max_workers=self.width, thread_name_prefix="revalidate") as pool:
                while self.queue:
                    wave = [self.request(data) for data in self.queue]
                    self.queue = []
                    answers = list(pool.map(self.get, wave)) if len(wave) > 1 else [self.get(wave[0])]
                    for status, _, size in answers:
                        if status:
                            self.statuses[str(status)] += 1
                            self.bytes += size
                    for request, (status, error, _) in zip(wave, answers, strict=True):
                        if error or status != 304:
                            raise Changed(f"{request[0]['url']}: {error or f'answered {status}'}")
                    for data, page, *_ in wave:
                        self.asked += 1
                        self.cards_asked += bool(data["meta"].get(CARD))
                        page.checked = self.now
                        self.store.put(data["fp"], page)
                        self.replay(page)
        finally:
            for connection in self.connections:
                connection.close()

    def store_changed(self) -> bool:
        """Whether the store must be written again: a detail page was confirmed (its new time decides when it
        is next asked), or a stored page was not reached (a complete crawl's store keeps only the pages it
        reached). A listing page's confirmation time is never read (it is asked at every rerun), so a walk
        that only confirmed listing pages leaves the store and its plan as they are: at N = 1 000 the four
        stores are 2.8 MB of pickles, written again at every rerun for nothing."""
        return self.cards_asked > 0 or self.store.new.keys() != self.store.old.keys()

    def visit(self, data: dict[str, Any]) -> None:
        """A request the crawl would make: answered from the store, queued, or dropped as a duplicate."""
        fp = data.get("fp")
        if not isinstance(fp, bytes):
            raise Changed(f"{data.get('url')}: no fingerprint stored")
        if data["meta"].get(CARD):
            page = self.store.get(fp)
            if page is not None and unasked(page, data["cb_kwargs"], fp, self.now, self.plan["max_age"]):
                self.store.keep(fp, page)
                self.not_asked += 1
                self.replay(page)
                return
        if not data["dont_filter"]:
            if fp in self.seen:
                return
            self.seen.add(fp)
        self.queue.append(data)

    def replay(self, page: Page) -> None:
        self.items.extend(page.items)
        for data in page.requests:
            self.visit(data)

    def request(self, data: dict[str, Any]) -> tuple[dict[str, Any], Page, Any, str, dict[bytes, bytes]]:
        """The conditional request for a queued page: (data, stored page, URL parts, target, headers)."""
        url = data["url"]
        page = self.store.get(data["fp"])
        if page is None or page.cb_kwargs != data["cb_kwargs"] or not page.validators:
            raise Changed(f"{url}: the store cannot answer for this page")
        if data["method"] != "GET" or data["body"]:
            raise Changed(f"{url}: a {data['method']} request with a body")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Changed(f"{url}: not an HTTP URL")
        own = {name: b", ".join(values) for name, values in data["headers"].items() if name not in VALIDATORS.values()}
        headers = {**self.plan["headers"], **own}
        if self.plan["robots"] and not self.allowed(parts, url):
            raise Changed(f"{url}: robots.txt forbids it now")
        for name, header in VALIDATORS.items():
            if name in page.validators:
                headers[header] = page.validators[name]
        return data, page, parts, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), headers

    def allowed(self, parts: Any, url: str) -> bool:
        """robots.txt of the URL's host, read once, as Scrapy reads it (any answer's body is parsed)."""
        site = (parts.scheme, parts.netloc)
        if site not in self.robots:
            from protego import Protego

            status, error, size, body = self.fetch(parts, "/robots.txt", self.plan["headers"])
            if error:
                raise Changed(f"{parts.scheme}://{parts.netloc}/robots.txt: {error}")
            self.statuses[str(status)] += 1
            self.bytes += size
            self.robots[site] = Protego.parse(body.decode("utf-8", errors="ignore"))
        agent = self.plan["headers"].get(b"User-Agent", b"").decode("utf-8", errors="replace")
        return bool(self.robots[site].can_fetch(url, agent))

    def get(self, request: tuple[dict[str, Any], Page, Any, str, dict[bytes, bytes]]) -> tuple[int, str, int]:
        """(status, error, size) of one queued request (run in the pool's threads)."""
        _, _, parts, target, headers = request
        status, error, size, _ = self.fetch(parts, target, headers)
        return status, error, size

    def fetch(self, parts: Any, target: str, headers: dict[bytes, bytes]) -> tuple[int, str, int, bytes]:
        """One GET on this thread's kept-alive connection to the host, the plan's delay after the previous
        request: (status, error, size as Scrapy counts it, body); never raises."""
        wait = self.last.get(parts.netloc, 0.0) + self.plan["delay"] - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        connections = self.local.__dict__.setdefault("connections", {})
        site = (parts.scheme, parts.netloc)
        connection = connections.get(site)
        if connection is None:
            kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            connection = connections[site] = kind(parts.netloc, timeout=self.plan["timeout"])
            self.connections.append(connection)
        try:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            return 0, f"{type(exc).__name__}: {exc}", 0, b""
        finally:
            self.last[parts.netloc] = time.monotonic()
        # as Scrapy counts a response: status line, headers and body
        size = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + len(body) + 2 + sum(
            len(k) + len(v) + 4 for k, v in response.getheaders())
        return response.status, "", size, body


@dataclass
class Revalidation:
    """What :func:`revalidate` did: the crawl's result when the walk answered for the whole source (None
    when Scrapy must crawl it), why, and the answers the portal gave meanwhile (to add to the crawl's)."""

    result: CrawlResult | None
    why: str
    statuses: Counter[str] = field(default_factory=Counter)
    bytes: int = 0

    def add_to(self, crawl: CrawlResult) -> None:
        """Count the walk's requests among those of the crawl that followed it."""
        crawl.requests += sum(self.statuses.values())
        crawl.responses = dict(Counter(crawl.responses) + self.statuses)
        crawl.bytes_downloaded += self.bytes


def revalidate(source: str, out: Path, store_path: Path, key: str, now: float | None = None) -> Revalidation:
    """Replay the last complete crawl of ``source`` (crawl arguments ``key``, ``pipeline.crawl.crawl_key``)
    with conditional requests, at epoch time ``now`` (the clock's); on success the raw JSONL ``out`` and
    the store are written and the crawl's result is returned, else the source is left to its crawl. Never
    raises: an unreadable plan or store, or a fault of the walk itself, is a reason to crawl."""
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    walk: _Walk | None = None
    try:
        plan = read_plan(store_path)
        if plan is None:
            return Revalidation(None, "no plan of a complete crawl next to the page store")
        if plan.get("key") != key:
            return Revalidation(None, "the last complete crawl had other arguments")
        try:
            if files_hash(plan["files"]) != plan["code"]:
                return Revalidation(None, "the spider's code has changed since the last complete crawl")
        except OSError as exc:
            return Revalidation(None, f"the spider's code has changed since the last complete crawl ({exc})")
        walk = _Walk(plan, PageStore(store_path, plan["code"]), time.time() if now is None else now)
        walk.run()
        if not walk.items and not plan.get("empty_ok"):
            return Revalidation(None, "no items: the crawl judges an empty source", walk.statuses, walk.bytes)
        out.write_bytes(b"".join(walk.items))
        if walk.store_changed():
            walk.store.save(complete=True, plan=plan)
    except Changed as exc:
        assert walk is not None
        return Revalidation(None, str(exc), walk.statuses, walk.bytes)
    except Exception as exc:  # noqa: BLE001 — the crawl that follows does the work: nothing is lost
        return Revalidation(None, f"revalidation failed: {type(exc).__name__}: {exc}",
                            walk.statuses if walk else Counter(), walk.bytes if walk else 0)
    result = CrawlResult(
        source=source, ok=True, items=len(walk.items), requests=sum(walk.statuses.values()),
        responses=dict(walk.statuses), bytes_downloaded=walk.bytes, pages_unchanged=walk.asked,
        details_not_asked=walk.not_asked, items_replayed=len(walk.items), duration_s=round(time.monotonic() - t0, 3),
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"), finish_reason=REVALIDATED, out=str(out))
    return Revalidation(result, f"{walk.asked} page(s) unchanged (304), {walk.not_asked} detail page(s) not "
                                f"asked, {len(walk.items)} item(s) re-emitted", walk.statuses, walk.bytes)
