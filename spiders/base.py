"""What every aap spider shares: source metadata, live/demo URL rewriting, raw items, and selectors
that declare what they expect so a changed layout fails loudly instead of yielding empty fields."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import scrapy
from parsel import Selector, SelectorList

from pipeline.schema import PLATFORMS, RAW_FIELDS, SOURCE_LEVELS

#: how each platform's pages look on the wire (for ``aap sources`` and the README)
PLATFORM_FORMATS = {
    "sedia": "JSON search API (POST multipart)",
    "at_format": "JSON, Aides-territoires format",
    "opendatasoft": "JSON, OpenDataSoft v2.1 records",
    "rss_detail": "RSS feed + HTML detail pages",
    "html_list_detail": "HTML list + detail pages",
    "json_api": "JSON API (offset paging)",
}


class LayoutError(RuntimeError):
    """The page no longer looks like the fixture the spider was written for."""


class AapSpider(scrapy.Spider):
    """Base of every source spider.

    A concrete spider declares, as class attributes:

    * ``name`` — the source slug (also the raw JSONL name and the id prefix);
    * ``source_level`` — europe | national | regional | departmental | local;
    * ``platform`` — which platform base it uses (see ``spiders.bases``);
    * ``funder`` — the default funder name when a record names none;
    * ``perimeter`` — default area: ``{"scale", "regions", "departments", "label"}``;
    * ``live_base_url`` — scheme + host of the live portal; every request goes through
      :meth:`fetch_url`, which points it at ``base_url`` (the demo portal) when one is given;
    * ``empty_ok`` — True only if the portal may legitimately list no call at all;
    * ``fixture_date`` — date of the public copy the fixtures mirror (shown in ``aap sources``).

    Spider arguments: ``base_url`` (demo portal prefix, e.g. ``http://127.0.0.1:8765/avise``),
    ``max_pages`` (safety cap on pagination).
    """

    source_level: ClassVar[str] = ""
    platform: ClassVar[str] = ""
    funder: ClassVar[str] = ""
    perimeter: ClassVar[dict[str, Any]] = {"scale": "national", "regions": [], "departments": [],
                                           "label": "France"}
    live_base_url: ClassVar[str] = ""
    #: the listing URL a person would open (shown in ``aap sources``); defaults to ``live_base_url``
    portal_url: ClassVar[str] = ""
    #: how the portal authenticates us ("none", or a short description)
    auth: ClassVar[str] = "none"
    empty_ok: ClassVar[bool] = False
    fixture_date: ClassVar[str] = ""
    max_pages_default: ClassVar[int] = 200

    def __init__(self, base_url: str | None = None, max_pages: int | str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = (base_url or self.live_base_url).rstrip("/")
        self.max_pages = int(max_pages or self.max_pages_default)

    # --- first requests --------------------------------------------------------------------------
    def first_requests(self) -> Iterable[scrapy.Request]:
        """The crawl's first requests (synchronous, so offline tests can drive them). Platform bases
        implement it; every request URL goes through :meth:`fetch_url`."""
        raise NotImplementedError(f"{type(self).__name__} must define first_requests()")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.first_requests():
            yield request

    # --- class-level sanity, checked by the smoke test ------------------------------------------
    @classmethod
    def check_declaration(cls) -> list[str]:
        problems = []
        if cls.source_level not in SOURCE_LEVELS:
            problems.append(f"{cls.name}: source_level {cls.source_level!r}")
        if cls.platform not in PLATFORMS:
            problems.append(f"{cls.name}: platform {cls.platform!r}")
        if not cls.funder:
            problems.append(f"{cls.name}: no funder")
        if not cls.live_base_url.startswith("https://"):
            problems.append(f"{cls.name}: live_base_url {cls.live_base_url!r}")
        if not cls.fixture_date:
            problems.append(f"{cls.name}: no fixture_date")
        return problems

    # --- URLs ----------------------------------------------------------------------------------
    def fetch_url(self, live_url: str) -> str:
        """The URL to request for a live URL: unchanged live, rewritten under ``base_url`` in demo."""
        if self.base_url == self.live_base_url.rstrip("/"):
            return live_url
        live = urlsplit(live_url)
        base = urlsplit(self.base_url)
        if live.netloc and live.netloc != urlsplit(self.live_base_url).netloc:
            # another host of the same portal family: keep its host as a path segment
            path = f"{base.path}/_host/{live.netloc}{live.path}"
        else:
            path = base.path + live.path
        return urlunsplit((base.scheme, base.netloc, path, live.query, ""))

    def live_url(self, fetched_url: str) -> str:
        """Inverse of :meth:`fetch_url`: the public URL stored in records, even in demo mode."""
        if self.base_url == self.live_base_url.rstrip("/"):
            return fetched_url
        got = urlsplit(fetched_url)
        base = urlsplit(self.base_url)
        if got.netloc != base.netloc or not got.path.startswith(base.path):
            return fetched_url
        rest = got.path[len(base.path):]
        live = urlsplit(self.live_base_url)
        if rest.startswith("/_host/"):
            host, _, tail = rest[len("/_host/"):].partition("/")
            return urlunsplit((live.scheme, host, "/" + tail, got.query, ""))
        return urlunsplit((live.scheme, live.netloc, rest or "/", got.query, ""))

    # --- selectors that declare what they expect -------------------------------------------------
    def expect(self, sel: Selector | SelectorList | scrapy.http.Response, query: str, *,
               min_items: int = 1, max_items: int | None = None, what: str = "",
               xpath: bool = False) -> SelectorList:
        """Run a CSS (or XPath) query and raise :class:`LayoutError` unless it matches between
        ``min_items`` and ``max_items`` nodes. The message names the source, the selector and the URL."""
        found = sel.xpath(query) if xpath else sel.css(query)
        n = len(found)
        if n < min_items or (max_items is not None and n > max_items):
            url = getattr(sel, "url", None) or getattr(getattr(sel, "root", None), "base", None) or ""
            bound = f"{min_items}..{max_items}" if max_items is not None else f">= {min_items}"
            raise LayoutError(
                f"[{self.name}] selector {query!r}{' (' + what + ')' if what else ''} matched {n} "
                f"node(s), expected {bound} on {url or 'page'}: the portal layout has changed")
        return found

    def expect_keys(self, obj: Any, keys: tuple[str, ...], *, what: str) -> None:
        """JSON counterpart of :meth:`expect`: raise if an API object lacks the keys we rely on."""
        if not isinstance(obj, dict):
            raise LayoutError(f"[{self.name}] {what}: expected a JSON object, got {type(obj).__name__}")
        missing = [k for k in keys if k not in obj]
        if missing:
            raise LayoutError(f"[{self.name}] {what}: keys {missing} missing: the API format has changed")

    # --- items ---------------------------------------------------------------------------------
    def make_item(self, response: scrapy.http.Response | None = None, **fields: Any) -> dict[str, Any]:
        """A raw item with ``source`` and ``fetched_at`` set; unknown field names are a programming
        error (raised at once, in tests)."""
        unknown = set(fields) - set(RAW_FIELDS)
        if unknown:
            raise KeyError(f"[{self.name}] unknown raw fields {sorted(unknown)}")
        item: dict[str, Any] = {"source": self.name, "fetched_at": datetime.now(UTC).isoformat(timespec="seconds")}
        item.update({k: v for k, v in fields.items() if v is not None})
        if response is not None and "url" not in fields:
            item["url"] = self.live_url(response.url)
        return item


def clean_text(parts: list[str] | str | None) -> str:
    """Join text nodes into one whitespace-normalised string."""
    if parts is None:
        return ""
    if isinstance(parts, str):
        parts = [parts]
    return " ".join(" ".join(parts).split())
