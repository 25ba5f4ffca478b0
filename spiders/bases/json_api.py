"""Generic paginated JSON API spider: the base of every JSON platform (AT format, OpenDataSoft, SEDIA,
and small one-off APIs such as the Ministère de la Culture's).

Recipe for a concrete spider::

    class CultureSpider(JsonApiSpider):
        name = "culture_gouv"; source_level = "national"; platform = "json_api"; ...
        live_base_url = "https://www.culture.gouv.fr"
        list_path = "/api/online-procedures"
        paging = "offset"            # "page" | "offset" | "none"
        page_size = 20
        results_key = None           # the page *is* the list of records
        record_keys = ("id", "title", "url", "deadline")

        def parse_record(self, record, response):
            yield self.make_item(native_id=str(record["id"]), url=record["url"], ...)

The base requests page after page (``page_param``/``offset_param`` and ``size_param``), checks that each
page and each record has the keys the spider relies on (:meth:`AapSpider.expect_keys`, which raises
:class:`LayoutError` naming the source), stops when the portal says there is no more (``total_key``
against the records received so far, ``next_key``, or else the first empty page) and never requests
more than ``max_pages`` pages. Offsets follow the records actually received. A first page with no
record at all is a failure unless the spider sets ``empty_ok``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar
from urllib.parse import urlencode

import scrapy
from w3lib.html import remove_tags

from spiders.base import AapSpider, LayoutError

_BLOCK_TAGS = re.compile(r"(?i)<\s*(br|/p|/li|/h\d|/div|/tr)\b[^>]*>")


def html_to_text(value: Any) -> str | None:
    """Plain text of an HTML fragment (entities decoded, block ends kept as spaces); None when empty."""
    if value is None:
        return None
    text = _BLOCK_TAGS.sub(" ", str(value))
    text = html.unescape(remove_tags(text))
    text = " ".join(text.split())
    return text or None


def as_list(value: Any, sep: str | None = None) -> list[str]:
    """A JSON value as a list of non-empty strings: lists are kept, strings are split on ``sep``."""
    if value is None:
        return []
    items = value if isinstance(value, list) else ([value] if sep is None else str(value).split(sep))
    return [" ".join(html.unescape(str(v)).split()) for v in items if v is not None and str(v).strip()]


def first(value: Any) -> Any:
    """First element of a list value (SEDIA wraps every metadata value in an array), or the value."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


class JsonApiSpider(AapSpider):
    """Base of every spider reading a paginated JSON API. See the module docstring for the recipe."""

    list_path: ClassVar[str] = ""
    list_params: ClassVar[dict[str, str]] = {}
    paging: ClassVar[str] = "page"
    page_param: ClassVar[str] = "page"
    first_page: ClassVar[int] = 1
    offset_param: ClassVar[str] = "offset"
    size_param: ClassVar[str | None] = None
    page_size: ClassVar[int] = 100
    results_key: ClassVar[str | None] = "results"
    total_key: ClassVar[str | None] = None
    next_key: ClassVar[str | None] = None
    page_keys: ClassVar[tuple[str, ...]] = ()
    record_keys: ClassVar[tuple[str, ...]] = ()

    # --- requests ------------------------------------------------------------------------------
    def first_requests(self) -> Iterable[scrapy.Request]:
        yield self.page_request(0)

    def page_live_url(self, index: int, received: int = 0) -> str:
        """Live URL of the ``index``-th page (0-based), ``received`` records having come before it."""
        params = dict(self.list_params)
        if self.paging == "page":
            params[self.page_param] = str(self.first_page + index)
        elif self.paging == "offset":
            params[self.offset_param] = str(received if index else 0)
        if self.size_param:
            params[self.size_param] = str(self.page_size)
        query = urlencode(params)
        return f"{self.live_base_url.rstrip('/')}{self.list_path}" + (f"?{query}" if query else "")

    def request_headers(self) -> dict[str, str]:
        """Headers sent with every page request (authentication, Accept)."""
        return {"Accept": "application/json"}

    def page_request(self, index: int, received: int = 0) -> scrapy.Request:
        """The request of the ``index``-th page; SEDIA overrides it (POST). The records received so far
        travel with the request (the next offset, the stop test against ``total_key``) rather than in the
        spider, so a page re-emitted from the page store continues the paging exactly."""
        return scrapy.Request(self.fetch_url(self.page_live_url(index, received)), headers=self.request_headers(),
                              callback=self.parse_page, cb_kwargs={"index": index, "received": received})

    # --- parsing -------------------------------------------------------------------------------
    def load_json(self, response: scrapy.http.Response, what: str) -> Any:
        """The decoded body, or :class:`LayoutError` naming the source when it is not JSON."""
        try:
            return json.loads(response.text)
        except (ValueError, AttributeError) as exc:
            raise LayoutError(f"[{self.name}] {what} at {response.url} is not JSON ({exc}): the API format "
                              "has changed") from exc

    def page_records(self, payload: Any, response: scrapy.http.Response) -> list[Any]:
        """The list of records of one page, after checking the page keys."""
        if self.results_key is None:
            if not isinstance(payload, list):
                raise LayoutError(f"[{self.name}] page at {response.url}: expected a JSON list of records, "
                                  f"got {type(payload).__name__}: the API format has changed")
            return payload
        keys = tuple(dict.fromkeys((self.results_key, *self.page_keys,
                                    *(k for k in (self.total_key, self.next_key) if k))))
        self.expect_keys(payload, keys, what=f"page {response.url}")
        records = payload[self.results_key]
        if not isinstance(records, list):
            raise LayoutError(f"[{self.name}] page {response.url}: {self.results_key!r} is "
                              f"{type(records).__name__}, not a list: the API format has changed")
        return records

    def has_next(self, payload: Any, records: list[Any], index: int, received: int) -> bool:
        """Whether another page exists after the ``index``-th, ``received`` records having come so far."""
        if self.paging == "none":
            return False
        if not records:
            return False
        if self.total_key and isinstance(payload, dict):
            return received < int(payload[self.total_key] or 0)
        if self.next_key and isinstance(payload, dict):
            return bool(payload[self.next_key])
        # no total and no link: ask until a page comes back empty
        return True

    def parse_page(self, response: scrapy.http.Response, index: int = 0, received: int = 0) -> Iterator[Any]:
        """One page: its records as items (through :meth:`parse_record`), then the next page."""
        payload = self.load_json(response, "page")
        records = self.page_records(payload, response)
        if index == 0 and not records and not self.empty_ok:
            raise LayoutError(f"[{self.name}] first page {response.url} lists no record, and the source "
                              "is not declared empty_ok")
        received += len(records)
        for position, record in enumerate(records):
            self.expect_keys(record, self.record_keys, what=f"record {position} of {response.url}")
            yield from self.parse_record(record, response)
        if self.has_next(payload, records, index, received):
            if index + 1 >= self.max_pages:
                self.logger.warning("[%s] stopped at max_pages=%d; more pages remain", self.name,
                                    self.max_pages)
                return
            yield self.page_request(index + 1, received)

    def parse_record(self, record: dict[str, Any], response: scrapy.http.Response) -> Iterator[Any]:
        """Items (or follow-up requests) for one record; concrete spiders or platform bases define it."""
        raise NotImplementedError(f"{type(self).__name__} must define parse_record()")
