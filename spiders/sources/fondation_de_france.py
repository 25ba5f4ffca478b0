"""Fondation de France: national calls for projects of the foundation (HTML list + detail)."""

from __future__ import annotations

from typing import ClassVar

from spiders.bases.html_list_detail import Field, HtmlListDetailSpider, after_heading, has_class


class FondationDeFranceSpider(HtmlListDetailSpider):
    """Fondation de France — appels à projets.

    * Portal: https://www.fondationdefrance.org/fr/appels-a-projets (Drupal; one page per call under
      ``/fr/<slug>``).
    * Format: HTML listing of ``article.card--aap`` cards (status "Ouvert"/"Clos"/"À venir", short date),
      paginated with ``?page=N`` (0-based, ``li.pager__item--next``); the detail page has a hero block with
      "Date limite de dépôt du dossier : …", theme tags, and ``h2`` sections "Enjeux", "Qui peut
      répondre ?", "Quels projets ?", optional "Calendrier" and "Montant du soutien".
    * Auth: none.
    * Caveats: several calls are rolling ("au fil de l'eau") or have two sessions, written in the
      deadline sentence itself; eligibility is free text (only ``Qui peut répondre ?`` says whether a
      CCAS may apply); tags are the foundation's own themes.
    * Fixture copy: mirrors the public listing and call pages as of 2026-11-23 (2 listing pages).
    """

    name = "fondation_de_france"
    source_level = "national"
    funder = "Fondation de France"
    perimeter: ClassVar[dict] = {"scale": "national", "regions": [], "departments": [], "label": "France"}
    live_base_url = "https://www.fondationdefrance.org"
    fixture_date = "2026-11-23"

    list_path = "/fr/appels-a-projets"
    entry_query = "div.view-appels-a-projets div.views-row article.card--aap"
    entry_link = "a.card__link::attr(href)"
    next_page_query = "li.pager__item--next a::attr(href)"
    list_fields: ClassVar[dict[str, Field]] = {
        "status_label": Field("p.card__status", max_items=1),
    }
    detail_checks: ClassVar[dict[str, tuple[int, int | None]]] = {
        "div.hero--aap": (1, 1),
        "div.text-formatted h2": (2, None),
    }
    detail_fields: ClassVar[dict[str, Field]] = {
        "title": Field.required("h1.hero__title", max_items=1),
        "deadline_text": Field.required(f"//p[{has_class('hero__deadline')}] | {after_heading('Calendrier')}",
                                        xpath=True),
        "eligibility_text": Field.required(after_heading("Qui peut répondre"), xpath=True),
        "description": Field.required(f"{after_heading('Enjeux')} | {after_heading('Quels projets')}",
                                      xpath=True),
        "amount_text": Field(after_heading("Montant"), xpath=True),
        "theme_labels": Field("ul.tags li.tags__item", many=True),
        "is_call_label": Field("p.hero__type", flag=True, max_items=1),
        "application_url": Field("a.button--primary::attr(href)", max_items=1),
    }
