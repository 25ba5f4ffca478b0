"""Région Normandie: regional aids and calls for projects (Drupal HTML list + detail)."""

from __future__ import annotations

from typing import ClassVar

from spiders.bases.html_list_detail import Field, HtmlListDetailSpider, after_heading


class NormandieSpider(HtmlListDetailSpider):
    """Région Normandie — les aides de la Région.

    * Portal: https://www.normandie.fr/aides (Drupal; detail pages ``/aides/<slug>``).
    * Format: HTML listing ``div.view-aides div.views-row article.node--type-aide`` with a status field
      ("Ouvert", "Clos", "Permanent", "À venir"), paginated with ``?page=N`` (0-based,
      ``li.pager__item--next``). The detail page (``node--view-mode-full``) has Drupal fields
      ``field--name-field-date-cloture``, ``field--name-field-calendrier``,
      ``field--name-field-beneficiaires``, ``field--name-field-thematique`` and a body with ``h2``
      sections (Objectifs, Conditions d'éligibilité, Montant de l'aide).
    * Auth: none.
    * Caveats: permanent aids and multi-wave calls have no closing-date field, only a Calendrier text;
      the Drupal node id (``data-history-node-id``) is kept in ``raw`` but the URL slug is the stable id.
    * Fixture copy: mirrors the public listing and aid pages as of 2026-11-24 (2 listing pages).
    """

    name = "normandie"
    source_level = "regional"
    funder = "Région Normandie"
    perimeter: ClassVar[dict] = {"scale": "region", "regions": ["28"], "departments": [], "label": "Normandie"}
    live_base_url = "https://www.normandie.fr"
    fixture_date = "2026-11-24"

    list_path = "/aides"
    entry_query = "div.view-aides div.views-row article.node--type-aide"
    entry_link = "h2.node__title a::attr(href)"
    next_page_query = "li.pager__item--next a::attr(href)"
    list_fields: ClassVar[dict[str, Field]] = {
        "status_label": Field.required("div.field--name-field-statut", max_items=1),
    }
    detail_checks: ClassVar[dict[str, tuple[int, int | None]]] = {
        "article.node--type-aide.node--view-mode-full": (1, 1),
        "div.field--name-body h2": (2, None),
    }
    detail_fields: ClassVar[dict[str, Field]] = {
        "title": Field.required("h1.page-title", max_items=1),
        "summary": Field("div.field--name-field-chapeau", max_items=1),
        "deadline_text": Field.required("div.field--name-field-date-cloture, div.field--name-field-calendrier"
                                        " div.field__item"),
        "audience_labels": Field.required("div.field--name-field-beneficiaires div.field__item", many=True),
        "theme_labels": Field("div.field--name-field-thematique div.field__item", many=True),
        "description": Field.required(after_heading("Objectifs"), xpath=True),
        "eligibility_text": Field.required(after_heading("Conditions d'éligibilité"), xpath=True),
        "amount_text": Field(after_heading("Montant"), xpath=True),
    }
    raw_fields: ClassVar[dict[str, Field]] = {
        "node_id": Field.required("article.node--view-mode-full::attr(data-history-node-id)", max_items=1),
    }
