"""Avise: calls for projects relayed for social and solidarity economy actors (Drupal HTML list + detail)."""

from __future__ import annotations

from typing import ClassVar

from spiders.bases.html_list_detail import Field, HtmlListDetailSpider, after_heading


class AviseSpider(HtmlListDetailSpider):
    """Avise — appels à projets de l'économie sociale et solidaire.

    * Portal: https://www.avise.org/appels-a-projets (Drupal; detail pages ``/appels-a-projets/<slug>``).
    * Format: HTML listing ``div.views-row article.node--type-appel-a-projets`` (title link, funder,
      "Date limite : dd/mm/YYYY" or "En continu"), paginated with ``?page=N`` (0-based,
      ``li.pager__item--next``). The detail page has Drupal fields ``field--name-field-financeur``,
      ``field--name-field-date-limite`` and ``field--name-field-thematiques``, and a body with ``h2``
      sections (Objectifs, Bénéficiaires, Montant, Calendrier).
    * Auth: none.
    * Caveats: Avise relays calls of many funders (foundations, banks, State, mutual insurers): each item
      carries its own ``funder``; the ``funder`` declared here is only the default. Many calls target ESS
      structures only.
    * Fixture copy: mirrors the public listing and call pages as of 2026-11-23 (2 listing pages).
    """

    name = "avise"
    source_level = "national"
    funder = "Avise (financeurs multiples)"
    perimeter: ClassVar[dict] = {"scale": "national", "regions": [], "departments": [], "label": "France"}
    live_base_url = "https://www.avise.org"
    fixture_date = "2026-11-23"

    list_path = "/appels-a-projets"
    entry_query = "div.view-appels-a-projets div.views-row article.node--type-appel-a-projets"
    entry_link = "h2.node__title a::attr(href)"
    next_page_query = "li.pager__item--next a::attr(href)"
    list_fields: ClassVar[dict[str, Field]] = {
        "deadline_text": Field.required("div.field--name-field-date-limite", max_items=1),
    }
    detail_checks: ClassVar[dict[str, tuple[int, int | None]]] = {
        "article.node--type-appel-a-projets.node--view-mode-full": (1, 1),
        "div.field--name-body h2": (2, None),
    }
    detail_fields: ClassVar[dict[str, Field]] = {
        "title": Field.required("h1.page-title", max_items=1),
        "funder": Field.required("div.field--name-field-financeur div.field__item", max_items=1),
        "deadline_text": Field.required(f"//div[contains(@class, 'field--name-field-date-limite')] | "
                                        f"{after_heading('Calendrier')}", xpath=True),
        "description": Field.required(after_heading("Objectifs"), xpath=True),
        "eligibility_text": Field.required(after_heading("Bénéficiaires"), xpath=True),
        "amount_text": Field(after_heading("Montant"), xpath=True),
        "theme_labels": Field("div.field--name-field-thematiques div.field__item", many=True),
    }
