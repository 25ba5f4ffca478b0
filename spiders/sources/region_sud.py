"""Région Sud Provence-Alpes-Côte d'Azur: regional aids and calls for projects (HTML list + detail)."""

from __future__ import annotations

from typing import ClassVar

from spiders.bases.html_list_detail import Field, HtmlListDetailSpider, after_heading, has_class

_BON_A_SAVOIR = f"//div[{has_class('bon-a-savoir')}]"


class RegionSudSpider(HtmlListDetailSpider):
    """Région Sud Provence-Alpes-Côte d'Azur — aides et appels à projets.

    * Portal: https://www.maregionsud.fr/aides-et-appels-a-projets (detail pages
      ``/aides-et-appels-a-projets/detail/<slug>``).
    * Format: HTML listing ``div.list-aides div.aide-item`` (link, kind "Appel à projets"/"Aide"),
      paginated with ``?page=N`` (1-based, ``ul.pagination li.next``). The detail page has a
      "Bon à savoir" block (``div.bon-a-savoir``) of labelled lines — "Date limite de dépôt : 30 juin
      2023", "Ouverture : …", "Bénéficiaires : Communes, EPCI, …", "Dépôt : …" — theme labels in
      ``ul.thematiques``, and ``h2`` sections (Objectifs, Qui peut en bénéficier ?, Quel montant ?,
      Comment faire ?).
    * Auth: none.
    * Caveats: the Bon à savoir block mixes deadlines with distractor dates (commission permanente,
      publication); all its dated lines are kept verbatim in ``deadline_text``. Beneficiaries are one
      comma-separated line.
    * Fixture copy: mirrors the public listing and aid pages as of 2026-11-24 (2 listing pages).
    """

    name = "region_sud"
    source_level = "regional"
    funder = "Région Sud Provence-Alpes-Côte d'Azur"
    perimeter: ClassVar[dict] = {"scale": "region", "regions": ["93"], "departments": [],
                                 "label": "Provence-Alpes-Côte d'Azur"}
    live_base_url = "https://www.maregionsud.fr"
    fixture_date = "2026-11-24"

    list_path = "/aides-et-appels-a-projets"
    entry_query = "div.list-aides div.aide-item"
    entry_link = "a.aide-item__link::attr(href)"
    next_page_query = "ul.pagination li.next a::attr(href)"
    list_fields: ClassVar[dict[str, Field]] = {
        "type_labels": Field.required("span.aide-item__type", many=True, max_items=1),
    }
    detail_checks: ClassVar[dict[str, tuple[int, int | None]]] = {
        "div.bon-a-savoir": (1, 1),
        f"{_BON_A_SAVOIR}/h2[contains(., 'Bon à savoir')]": (1, 1),
    }
    detail_fields: ClassVar[dict[str, Field]] = {
        "title": Field.required("h1.title-page", max_items=1),
        "summary": Field("div.chapo", max_items=1),
        "deadline_text": Field.required(f"{_BON_A_SAVOIR}//li[not(strong[contains(., 'Bénéficiaires')])]"
                                        "[contains(., 'Date') or contains(., 'Dépôt') or contains(., 'Ouverture')"
                                        " or contains(., 'Commission')]", xpath=True),
        "audience_labels": Field.required(f"{_BON_A_SAVOIR}//li[strong[contains(., 'Bénéficiaires')]]/text()",
                                          xpath=True, many=True, split=","),
        "theme_labels": Field("ul.thematiques li", many=True),
        "description": Field.required(after_heading("Objectifs"), xpath=True),
        "eligibility_text": Field.required(after_heading("Qui peut en bénéficier"), xpath=True),
        "amount_text": Field(after_heading("Quel montant"), xpath=True),
        "is_call_label": Field("span.aide-detail__type:contains('Appel')", flag=True, max_items=1),
    }
