"""HTML list + detail platform base: paginated listing pages link to one detail page per call.

Recipe for a new portal of this kind (a concrete spider is mostly data):

* ``list_path`` — live path (and query) of the first listing page;
* ``entry_query`` — CSS of one call on a listing page, with ``min_entries``/``max_entries``;
* ``entry_link`` — CSS, inside an entry, of the detail link (``::attr(href)`` when the entry *is* the link);
* ``list_fields`` — raw fields read from the entry itself (e.g. a deadline printed on a card);
* ``next_page_query`` — CSS of the "next page" link; followed up to ``max_pages`` listing pages;
* ``detail_checks`` — structure every detail page must have (selector → (min, max) matches);
* ``detail_fields`` — raw fields read from the detail page, each a :class:`Field`;
* ``native_id_regex`` — how the stable id is cut out of the live URL (default: its last path segment).

Every query declares how many nodes it may match; a page that no longer looks like that raises
:class:`~spiders.base.LayoutError` naming the source and the selector. Links are resolved against the
*live* URL of the page (relative links stay correct in demo mode) and fetched through ``fetch_url``.

The :class:`Field` spec and :class:`DetailPageMixin` are shared with the RSS + detail base.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from parsel import Selector, SelectorList

from pipeline.schema import RAW_FIELDS
from spiders.base import AapSpider, LayoutError, clean_text
from spiders.pagestore import CARD

#: raw fields whose value is a list of labels
LIST_FIELDS = ("audience_labels", "theme_labels", "type_labels", "deadlines")
#: text fields where the listing and the detail page each add wording (both are kept, one per line)
JOINED_FIELDS = ("deadline_text",)


@dataclass(frozen=True)
class Field:
    """How one raw field is read from a page.

    ``query`` is CSS (XPath when ``xpath``); it must match between ``min_items`` and ``max_items``
    nodes. The value is the whitespace-normalised text of the matched nodes, one line per node (an
    ``::attr()`` query gives the attribute); with ``many`` it is the list of each node's text, cut on
    ``split`` when given; with ``flag`` it is whether anything matched.
    """

    query: str
    xpath: bool = False
    min_items: int = 0
    max_items: int | None = None
    many: bool = False
    split: str | None = None
    flag: bool = False

    @classmethod
    def required(cls, query: str, **kwargs: Any) -> Field:
        """A field that must be present (at least one non-empty match)."""
        return cls(query, min_items=1, **kwargs)


def has_class(name: str) -> str:
    """XPath predicate true when the context node carries the CSS class ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def after_heading(label: str, heading: str = "h2") -> str:
    """XPath of the sibling nodes that follow the ``heading`` whose text contains ``label``, up to the next
    ``heading`` (the usual "title then paragraphs" block of a detail page)."""
    match = f'contains(normalize-space(.), "{label}")'
    return (f"//{heading}[{match}]/following-sibling::*[not(self::{heading})]"
            f"[preceding-sibling::{heading}[1][{match}]]")


def definition(label: str, *, with_term: bool = False) -> str:
    """XPath of the ``dd`` that follows the ``dt`` whose text contains ``label`` (with the ``dt`` itself
    when ``with_term``, so the value keeps its wording, e.g. "Date de clôture")."""
    term = f'//dt[contains(normalize-space(.), "{label}")]'
    return f"{term} | {term}/following-sibling::dd[1]" if with_term else f"{term}/following-sibling::dd[1]"


def node_text(node: Selector) -> str:
    """Text of one node (its attribute value for ``::attr()`` selections), scripts and styles left out."""
    if isinstance(node.root, str):
        return clean_text(node.root)
    return clean_text(node.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]").getall())


def default_native_id(live_url: str) -> str:
    """Last non-empty path segment of a URL, without a ``.html``/``.htm``/``.php`` extension."""
    segments = [s for s in urlsplit(live_url).path.split("/") if s]
    if not segments:
        raise ValueError(f"no path segment to identify {live_url!r}")
    return re.sub(r"\.(html?|php)$", "", segments[-1])


class DetailPageMixin(AapSpider):
    """Reading a call's detail page from declared data: structure checks, per-field specs, stable id."""

    detail_checks: ClassVar[dict[str, tuple[int, int | None]]] = {}
    detail_fields: ClassVar[dict[str, Field]] = {}
    #: extra values of the detail page kept only in ``raw`` (e.g. a CMS node id), keyed by any name
    raw_fields: ClassVar[dict[str, Field]] = {}
    native_id_regex: ClassVar[str | None] = None

    @classmethod
    def check_declaration(cls) -> list[str]:
        problems = super().check_declaration()
        for attr in ("detail_fields", "list_fields"):
            for key in getattr(cls, attr, {}) or {}:
                if key not in RAW_FIELDS or key in ("source", "url", "native_id", "raw", "fetched_at"):
                    problems.append(f"{cls.name}: {attr} key {key!r} is not a settable raw field")
        if "title" not in cls.detail_fields and "title" not in (getattr(cls, "list_fields", {}) or {}):
            problems.append(f"{cls.name}: no title field declared")
        return problems

    # --- reading -------------------------------------------------------------------------------
    def read_fields(self, sel: Selector | scrapy.http.Response, fields: dict[str, Field]) -> dict[str, Any]:
        """Values of ``fields`` on ``sel``; absent optional fields are left out."""
        values: dict[str, Any] = {}
        for name, spec in fields.items():
            nodes = self.expect(sel, spec.query, min_items=spec.min_items, max_items=spec.max_items,
                                what=name, xpath=spec.xpath)
            if spec.flag:
                values[name] = bool(nodes)
                continue
            texts = [t for t in (node_text(n) for n in nodes) if t]
            if spec.many:
                labels = [p.strip() for t in texts for p in (t.split(spec.split) if spec.split else [t])]
                value: Any = list(dict.fromkeys(p for p in labels if p))
            else:
                value = "\n".join(texts)
            if not value:
                if spec.min_items:
                    raise LayoutError(f"[{self.name}] selector {spec.query!r} ({name}) matched only empty "
                                      f"node(s) on {getattr(sel, 'url', 'page')}: the portal layout has changed")
                continue
            values[name] = value
        return values

    def check_structure(self, response: scrapy.http.Response) -> None:
        """Raise :class:`LayoutError` unless every ``detail_checks`` selector matches as declared (a query
        starting with ``/`` or ``(`` is XPath, any other CSS)."""
        for query, (low, high) in self.detail_checks.items():
            self.expect(response, query, min_items=low, max_items=high, what="page structure",
                        xpath=query.startswith(("/", "(")))

    def native_id(self, live_url: str) -> str:
        """Stable identifier of a call, cut from its live URL (never a position in a list)."""
        if self.native_id_regex:
            m = re.search(self.native_id_regex, live_url)
            if not m:
                raise LayoutError(f"[{self.name}] URL {live_url!r} does not match native_id_regex "
                                  f"{self.native_id_regex!r}: the portal's URL scheme has changed")
            return m.group(1)
        return default_native_id(live_url)

    def live_link(self, response: scrapy.http.Response, href: str) -> str:
        """A link of ``response`` as a live absolute URL (relative links resolved against the live page)."""
        return urljoin(self.live_url(response.url), href.strip())

    @staticmethod
    def merge(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
        """``second`` over ``first``: label lists are united (order kept), deadline wordings kept both
        (one per line), other values replaced."""
        out = dict(first)
        for key, value in second.items():
            if key in LIST_FIELDS and key in out:
                out[key] = list(dict.fromkeys([*out[key], *value]))
            elif key in JOINED_FIELDS and key in out:
                if value not in out[key]:
                    out[key] = value if out[key] in value else f"{out[key]}\n{value}"
            else:
                out[key] = value
        return out

    def detail_item(self, response: scrapy.http.Response, listed: dict[str, Any],
                    raw_listed: dict[str, Any] | None = None) -> dict[str, Any]:
        """The raw item of one detail page, merged over what the listing said about it."""
        self.check_structure(response)
        detail = self.read_fields(response, self.detail_fields)
        source_entry = raw_listed if raw_listed is not None else listed
        fields = self.combine(listed, detail, source_entry)
        live = self.live_url(response.url)
        raw_detail = {**detail, **self.read_fields(response, self.raw_fields)}
        return self.make_item(response, native_id=self.native_id(live), url=live,
                              raw={"list": source_entry, "detail": raw_detail}, **fields)

    def combine(self, listed: dict[str, Any], detail: dict[str, Any],
                source_entry: dict[str, Any]) -> dict[str, Any]:
        """Raw fields from the listing entry and the detail page (the detail page wins); bases refine it
        with ``source_entry``, the listing's own record of the call."""
        return self.merge(listed, detail)


class HtmlListDetailSpider(DetailPageMixin):
    """Base of HTML list + detail portals (see the module docstring for the recipe)."""

    platform = "html_list_detail"
    list_path: ClassVar[str] = ""
    entry_query: ClassVar[str] = ""
    entry_link: ClassVar[str] = "a::attr(href)"
    min_entries: ClassVar[int] = 1
    max_entries: ClassVar[int | None] = 200
    next_page_query: ClassVar[str | None] = None
    list_fields: ClassVar[dict[str, Field]] = {}
    max_pages_default = 20

    @classmethod
    def check_declaration(cls) -> list[str]:
        problems = super().check_declaration()
        if not cls.list_path.startswith("/"):
            problems.append(f"{cls.name}: list_path {cls.list_path!r} is not a live path")
        if not cls.entry_query:
            problems.append(f"{cls.name}: no entry_query")
        return problems

    def first_requests(self) -> Iterable[scrapy.Request]:
        live = self.live_base_url.rstrip("/") + self.list_path
        yield scrapy.Request(self.fetch_url(live), callback=self.parse_list, meta={"page_no": 1})

    def parse_list(self, response: scrapy.http.Response) -> Iterator[scrapy.Request]:
        """One listing page: a request per entry's detail page, then the next listing page."""
        entries: SelectorList = self.expect(response, self.entry_query, what="list entries",
                                            min_items=0 if self.empty_ok else self.min_entries,
                                            max_items=self.max_entries)
        for entry in entries:
            try:
                href = self.expect(entry, self.entry_link, what="detail link")[0].get()
                listed = self.read_fields(entry, self.list_fields)
            except LayoutError as exc:
                raise LayoutError(f"{exc} (in an entry {self.entry_query!r} of {response.url})") from exc
            yield scrapy.Request(self.fetch_url(self.live_link(response, href)), callback=self.parse_detail,
                                 cb_kwargs={"listed": listed}, meta={CARD: True})
        if not self.next_page_query:
            return
        page_no = int(response.meta.get("page_no", 1))
        nxt = response.css(self.next_page_query).get()
        if nxt and page_no < self.max_pages:
            yield scrapy.Request(self.fetch_url(self.live_link(response, nxt)), callback=self.parse_list,
                                 meta={"page_no": page_no + 1})
        elif nxt:
            self.logger.warning("[%s] max_pages=%d reached; next page %s not followed",
                                self.name, self.max_pages, nxt)

    def parse_detail(self, response: scrapy.http.Response, listed: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """One call's detail page → one raw item."""
        yield self.detail_item(response, listed)
