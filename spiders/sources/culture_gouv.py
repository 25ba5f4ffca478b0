"""Ministère de la Culture: the online procedures API (calls for projects and applications)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import scrapy

from spiders.bases.json_api import JsonApiSpider, as_list, html_to_text

#: the ``type`` value of calls for projects and applications
CALL_TYPE = "Appels à projets & candidatures"


class CultureGouvSpider(JsonApiSpider):
    """Ministère de la Culture — « Démarches en ligne » API.

    * Portal: https://www.culture.gouv.fr/Demarches-en-ligne (API ``/api/online-procedures``).
    * Format: ``GET /api/online-procedures?limit=20&offset=N`` → a JSON list of procedures (``id``,
      ``title``, ``url``, ``deadline`` free text such as "15 avril 2022", ``public`` a ", "-joined string,
      ``eztag_theme``/``eztag_region``/``type`` lists, ``amount`` free text, ``link`` {link, text},
      ``summary``/``body`` HTML). The answer carries no total: pages are requested until one is empty.
    * Auth: none.
    * Caveats: the list mixes declarations and permanent schemes with calls (``type`` says which);
      regional calls are run by the DRAC/DAC named in ``eztag_region``; ``deadline`` is free French text
      (sessions, ranges) or null.
    * Fixture: mirrors the API as of 2026-11-21 (3 pages, the last one empty).
    """

    name = "culture_gouv"
    source_level = "national"
    platform = "json_api"
    funder = "Ministère de la Culture"
    perimeter = {"scale": "national", "regions": [], "departments": [], "label": "France"}
    live_base_url = "https://www.culture.gouv.fr"
    fixture_date = "2026-11-21"
    list_path = "/api/online-procedures"
    paging = "offset"
    size_param = "limit"
    page_size = 20
    results_key = None
    record_keys = ("id", "title", "url", "deadline", "public", "type", "eztag_theme", "eztag_region", "amount")

    def parse_record(self, record: dict[str, Any], response: scrapy.http.Response) -> Iterator[dict[str, Any]]:
        link = record.get("link") if isinstance(record.get("link"), dict) else {}
        # "- France entière -" is written with decorative dashes
        regions = [r.strip("- ") for r in as_list(record.get("eztag_region")) if r.strip("- ")]
        types = as_list(record.get("type"))
        yield self.make_item(
            native_id=str(record["id"]),
            url=str(record["url"]).strip(),
            application_url=(link or {}).get("link") or None,
            title=" ".join(html.unescape(str(record["title"])).split()),
            summary=html_to_text(record.get("summary")),
            description=html_to_text(record.get("body")),
            deadline_text=record.get("deadline") or None,
            perimeter_label=", ".join(regions) or None,
            audience_labels=as_list(record.get("public"), ", ") or None,
            theme_labels=as_list(record.get("eztag_theme")) or None,
            type_labels=types or None,
            amount_text=record.get("amount") or None,
            is_call_label=CALL_TYPE in types,
            raw=record,
        )
