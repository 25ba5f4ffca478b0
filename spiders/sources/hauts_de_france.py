"""Région Hauts-de-France: the regional guide des aides (HTML list + detail)."""

from __future__ import annotations

from typing import ClassVar

from spiders.bases.html_list_detail import Field, HtmlListDetailSpider, after_heading

#: the ``dt`` of the dated line: "Date de clôture" for calls, "Calendrier" for permanent aids
_DATED_TERM = "//dl[contains(@class, 'aide-details')]/dt[contains(., 'Date') or contains(., 'Calendrier')]"


class HautsDeFranceSpider(HtmlListDetailSpider):
    """Région Hauts-de-France — guide des aides.

    * Portal: https://guide-aides.hautsdefrance.fr (detail pages ``/aide/<id>/<slug>``).
    * Format: HTML results ``ul.results li.result``, paginated with ``?page=N`` (1-based,
      ``a.pagination__next``). The detail page has a ``dl.aide-details`` (Bénéficiaires and Thématiques
      as lists, then the dated line: "Date de clôture" or "Calendrier") and ``h2`` sections (Objectifs,
      Pour qui ?, Montant, Calendrier).
    * Auth: none.
    * Caveats: the numeric id in the URL is the stable identifier (the slug may be retitled); permanent
      aids have a "Calendrier" term instead of a closing date.
    * Fixture copy: mirrors the public guide as of 2026-11-24 (2 listing pages).
    """

    name = "hauts_de_france"
    source_level = "regional"
    funder = "Région Hauts-de-France"
    perimeter: ClassVar[dict] = {"scale": "region", "regions": ["32"], "departments": [],
                                 "label": "Hauts-de-France"}
    live_base_url = "https://guide-aides.hautsdefrance.fr"
    fixture_date = "2026-11-24"
    native_id_regex = r"/aide/(\d+)/"

    list_path = "/aides"
    entry_query = "ul.results li.result"
    entry_link = "h3.result__title a::attr(href)"
    next_page_query = "a.pagination__next::attr(href)"
    detail_checks: ClassVar[dict[str, tuple[int, int | None]]] = {
        "dl.aide-details": (1, 1),
        "dl.aide-details dt": (3, None),
    }
    detail_fields: ClassVar[dict[str, Field]] = {
        "title": Field.required("h1.aide-title", max_items=1),
        "summary": Field("div.aide-resume", max_items=1),
        "audience_labels": Field.required("//dt[contains(., 'Bénéficiaires')]/following-sibling::dd[1]//li",
                                          xpath=True, many=True),
        "theme_labels": Field("//dt[contains(., 'Thématiques')]/following-sibling::dd[1]//li", xpath=True, many=True),
        "deadline_text": Field.required(f"{_DATED_TERM} | {_DATED_TERM}/following-sibling::dd[1] | "
                                        f"{after_heading('Calendrier')}", xpath=True),
        "description": Field.required(after_heading("Objectifs"), xpath=True),
        "eligibility_text": Field.required(after_heading("Pour qui"), xpath=True),
        "amount_text": Field(after_heading("Montant"), xpath=True),
    }
