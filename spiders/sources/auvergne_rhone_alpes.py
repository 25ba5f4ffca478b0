"""Région Auvergne-Rhône-Alpes: regional aids and calls for projects (Drupal HTML list + detail)."""

from __future__ import annotations

from typing import ClassVar

from spiders.bases.html_list_detail import Field, HtmlListDetailSpider, after_heading, has_class


class AuvergneRhoneAlpesSpider(HtmlListDetailSpider):
    """Région Auvergne-Rhône-Alpes — aides et appels à projets.

    * Portal: https://www.auvergnerhonealpes.fr/aides (Drupal; detail pages ``/aides/<slug>``).
    * Format: HTML search results ``article.node--type-aid.node--view-mode-search-result`` with a
      category ("Appel à projets", "Aide"…) and, for dated calls, "Date limite du dépôt : dd/mm/YYYY";
      pagination ``?page=N`` (0-based, ``li.pager__item--next``). The detail page
      (``article.node--type-aid.node--view-mode-full``) repeats the deadline in ``div.c-aid__deadline``,
      lists "Bénéficiaires" and "Thématiques" in an aside, and has ``h2`` sections (Objectifs, Pour qui ?,
      Quel montant ?, Calendrier, Comment candidater ?).
    * Auth: none.
    * Caveats: permanent aids show no deadline at all (their Calendrier says "en continu"); the jury or
      publication dates of the Calendrier are not deadlines.
    * Fixture copy: mirrors the public search results and aid pages as of 2026-11-24 (2 listing pages).
    """

    name = "auvergne_rhone_alpes"
    source_level = "regional"
    funder = "Région Auvergne-Rhône-Alpes"
    perimeter: ClassVar[dict] = {"scale": "region", "regions": ["84"], "departments": [],
                                 "label": "Auvergne-Rhône-Alpes"}
    live_base_url = "https://www.auvergnerhonealpes.fr"
    fixture_date = "2026-11-24"

    list_path = "/aides"
    entry_query = "div.view-aura-aids article.node--type-aid.node--view-mode-search-result"
    entry_link = "h3.c-result__title a[href*='/aides/']::attr(href)"
    next_page_query = "li.pager__item--next a::attr(href)"
    list_fields: ClassVar[dict[str, Field]] = {
        "type_labels": Field.required("div.c-result__category", many=True, max_items=1),
        "deadline_text": Field("p.c-result__deadline", max_items=1),
    }
    detail_checks: ClassVar[dict[str, tuple[int, int | None]]] = {
        "article.node--type-aid.node--view-mode-full": (1, 1),
        "aside.c-aid-infos": (1, 1),
    }
    detail_fields: ClassVar[dict[str, Field]] = {
        "title": Field.required("h1 span.field--name-title", max_items=1),
        "summary": Field("div.c-aid__chapo", max_items=1),
        "description": Field.required(after_heading("Objectifs"), xpath=True),
        "eligibility_text": Field.required(after_heading("Pour qui"), xpath=True),
        "amount_text": Field(after_heading("Quel montant"), xpath=True),
        "deadline_text": Field.required(f"//div[{has_class('c-aid__deadline')}] | {after_heading('Calendrier')}",
                                        xpath=True),
        "audience_labels": Field.required("div.c-aid-infos__item--beneficiaries li", many=True),
        "theme_labels": Field("div.c-aid-infos__item--themes li", many=True),
        "is_call_label": Field(f"//div[{has_class('c-aid__category')}][starts-with(normalize-space(.), 'Appel')]",
                               xpath=True, flag=True, max_items=1),
    }
