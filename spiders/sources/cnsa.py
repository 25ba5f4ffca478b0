"""CNSA: calls for projects and applications of the national solidarity fund for autonomy (HTML)."""

from __future__ import annotations

from typing import ClassVar

from spiders.bases.html_list_detail import Field, HtmlListDetailSpider, after_heading


class CnsaSpider(HtmlListDetailSpider):
    """CNSA — Caisse nationale de solidarité pour l'autonomie, appels à projets et candidatures.

    * Portal: https://www.cnsa.fr/appels-a-projets-et-candidatures (one page listing every open, coming
      and recently closed call; detail pages under the same path).
    * Format: HTML listing ``div.view-appels-projets div.views-row div.teaser-aap`` with a status badge
      ("Ouvert", "En continu", "À venir", "Clôturé"); no pagination. The detail page summarises the call
      in ``ul.aap-summary__list`` (Date limite de candidature, Public, Financement) and has ``h2``
      sections (Contexte, Qui peut candidater ?, Modalités).
    * Auth: none.
    * Caveats: many calls are rolling ("en continu", handled by regional health agencies) or address
      departments, which then select local projects (a CCAS goes through its département); the
      summary's "Public" is free text.
    * Fixture copy: mirrors the public listing and call pages as of 2026-11-23 (single listing page).
    """

    name = "cnsa"
    source_level = "national"
    funder = "Caisse nationale de solidarité pour l'autonomie (CNSA)"
    perimeter: ClassVar[dict] = {"scale": "national", "regions": [], "departments": [], "label": "France"}
    live_base_url = "https://www.cnsa.fr"
    fixture_date = "2026-11-23"

    list_path = "/appels-a-projets-et-candidatures"
    entry_query = "div.view-appels-projets div.views-row div.teaser-aap"
    entry_link = "h3.teaser-aap__title a::attr(href)"
    list_fields: ClassVar[dict[str, Field]] = {
        "status_label": Field.required("span.badge--status", max_items=1),
    }
    detail_checks: ClassVar[dict[str, tuple[int, int | None]]] = {
        "ul.aap-summary__list": (1, 1),
    }
    detail_fields: ClassVar[dict[str, Field]] = {
        "title": Field.required("h1.page-title", max_items=1),
        "deadline_text": Field.required(f"//li[contains(@class, 'aap-summary__item--date')] | "
                                        f"{after_heading('Modalités')}", xpath=True),
        "amount_text": Field("li.aap-summary__item--funding", max_items=1),
        "description": Field.required(after_heading("Contexte"), xpath=True),
        "eligibility_text": Field.required(f"//li[contains(@class, 'aap-summary__item--public')] | "
                                           f"{after_heading('Qui peut candidater')}", xpath=True),
    }
