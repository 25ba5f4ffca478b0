"""RSS 2.0 feed + HTML detail platform base: the feed lists the calls, each item links to a detail page.

Recipe for a new portal of this kind:

* ``feed_path`` — live path of the RSS feed;
* ``detail_checks`` / ``detail_fields`` / ``native_id_regex`` — as in the HTML list + detail base
  (:class:`~spiders.bases.html_list_detail.DetailPageMixin`): the detail page is read from declared data.

From each ``<item>`` the base keeps ``title`` and ``link`` (required), ``guid``, ``pubDate`` (RFC 822;
two-digit years such as ``Tue, 17 Nov 26`` are read as 20xx), ``description`` (HTML, stored as plain
text in ``summary``) and every ``<category>``. Feeds often mix kinds of labels in ``<category>``: those
the detail page lists as audiences or themes are kept there; the others become ``type_labels``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import scrapy
from parsel import Selector

from spiders.base import LayoutError, clean_text
from spiders.bases.html_list_detail import DetailPageMixin
from spiders.pagestore import CARD


def rss_date(text: str | None) -> str | None:
    """ISO datetime of an RSS ``pubDate`` (``None`` when absent or unreadable)."""
    if not text or not text.strip():
        return None
    try:
        return parsedate_to_datetime(text.strip()).isoformat()
    except (TypeError, ValueError):
        return None


def html_to_text(fragment: str | None) -> str:
    """Plain text of an HTML fragment (RSS descriptions carry escaped HTML)."""
    if not fragment or not fragment.strip():
        return ""
    return clean_text(Selector(text=f"<div>{fragment}</div>").xpath("//text()").getall())


class RssDetailSpider(DetailPageMixin):
    """Base of RSS + detail portals (see the module docstring for the recipe)."""

    platform = "rss_detail"
    feed_path: ClassVar[str] = ""
    max_feed_items: ClassVar[int | None] = 1000

    @classmethod
    def check_declaration(cls) -> list[str]:
        problems = super().check_declaration()
        if not cls.feed_path.startswith("/"):
            problems.append(f"{cls.name}: feed_path {cls.feed_path!r} is not a live path")
        return problems

    def first_requests(self) -> Iterable[scrapy.Request]:
        live = self.live_base_url.rstrip("/") + self.feed_path
        yield scrapy.Request(self.fetch_url(live), callback=self.parse_feed)

    def feed_selector(self, response: scrapy.http.Response) -> Selector:
        """The feed as an XML selector, whatever content type the server announced."""
        try:
            return Selector(body=response.body, type="xml")
        except Exception as exc:  # lxml raises several types on a non-XML body
            raise LayoutError(f"[{self.name}] feed {response.url} is not XML: {exc}") from exc

    def parse_feed(self, response: scrapy.http.Response) -> Iterator[scrapy.Request]:
        """The feed: a request per ``<item>``'s detail page, with what the feed said about it."""
        feed = self.feed_selector(response)
        items = self.expect(feed, "//channel/item", xpath=True, what="feed items",
                            min_items=0 if self.empty_ok else 1, max_items=self.max_feed_items)
        for node in items:
            entry = self.read_entry(node)
            yield scrapy.Request(self.fetch_url(entry["link"]), callback=self.parse_detail,
                                 cb_kwargs={"entry": entry}, meta={CARD: True})

    def read_entry(self, node: Selector) -> dict[str, Any]:
        """The fields of one ``<item>``, verbatim (``pubDate`` also as ISO in ``published_at``)."""
        def one(tag: str, required: bool = False) -> str | None:
            found = self.expect(node, tag, xpath=True, what=f"item {tag}", min_items=int(required),
                                max_items=1)
            text = clean_text(found.xpath("string()").get()) if found else ""
            if required and not text:
                raise LayoutError(f"[{self.name}] feed item <{tag}> is empty: the feed format has changed")
            return text or None

        entry: dict[str, Any] = {
            "title": one("title", required=True),
            "link": one("link", required=True),
            "guid": one("guid"),
            "pubDate": one("pubDate"),
            "description": node.xpath("description/text()").get(),
            "categories": list(dict.fromkeys(
                t for t in (clean_text(c) for c in node.xpath("category/text()").getall()) if t)),
        }
        entry["published_at"] = rss_date(entry["pubDate"])
        return entry

    def parse_detail(self, response: scrapy.http.Response, entry: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """One call's detail page → one raw item, merged with its feed entry."""
        listed: dict[str, Any] = {"title": entry["title"]}
        summary = html_to_text(entry.get("description"))
        if summary:
            listed["summary"] = summary
        yield self.detail_item(response, listed, raw_listed=entry)

    def combine(self, listed: dict[str, Any], detail: dict[str, Any],
                source_entry: dict[str, Any]) -> dict[str, Any]:
        """Detail over feed; feed categories that are neither audiences nor themes become types."""
        fields = self.merge(listed, detail)
        entry = source_entry
        known = {c.casefold() for c in (*fields.get("audience_labels", ()), *fields.get("theme_labels", ()))}
        types = [c for c in entry.get("categories", ()) if c.casefold() not in known]
        if types:
            fields["type_labels"] = list(dict.fromkeys([*fields.get("type_labels", ()), *types]))
        return fields
