"""Région Grand Est: regional aids and calls for projects (HTML cards + detail pages)."""

from __future__ import annotations

from typing import ClassVar

from spiders.bases.html_list_detail import Field, HtmlListDetailSpider, after_heading, has_class

_DEADLINE_ON_CARD = f".//span[{has_class('new_type')}][contains(., 'Date limite de dépôt')]"


class GrandEstSpider(HtmlListDetailSpider):
    """Région Grand Est — vos aides régionales.

    * Portal: https://www.grandest.fr/vos-aides-regionales/ (WordPress; detail pages under
      ``/vos-aides-regionales/<slug>/``).
    * Format: HTML cards ``a.card`` (the card is the link); a call's card says "Date limite de dépôt :
      <strong>dd/mm/YYYY</strong>" in ``div.txt.new_txt span.new_type``, an aid's card shows its kind
      ("Aide") there instead; pagination ``/page/N/`` through ``a.next.page-numbers``. The detail page
      lists "Bénéficiaires" and "Thématiques" as ``ul`` labels and has ``h3`` sections (Objectifs,
      Critères d'éligibilité, Montant de l'aide, Calendrier, Modalités de dépôt).
    * Auth: none.
    * Caveats: only cards with a deadline are calls for projects (``is_call_label``); the card's date
      and the detail page's Calendrier are both kept in ``deadline_text`` (the latter often names the
      commission permanente, which is not a deadline).
    * Fixture copy: mirrors the public listing and aid pages as of 2026-11-24 (2 listing pages).
    """

    name = "grand_est"
    source_level = "regional"
    funder = "Région Grand Est"
    perimeter: ClassVar[dict] = {"scale": "region", "regions": ["44"], "departments": [], "label": "Grand Est"}
    live_base_url = "https://www.grandest.fr"
    fixture_date = "2026-11-24"

    list_path = "/vos-aides-regionales/"
    entry_query = "div.cards a.card"
    entry_link = "::attr(href)"
    next_page_query = "a.next.page-numbers::attr(href)"
    list_fields: ClassVar[dict[str, Field]] = {
        "title": Field.required("div.txt.new_txt h3", max_items=1),
        "deadline_text": Field(_DEADLINE_ON_CARD, xpath=True, max_items=1),
        "is_call_label": Field(_DEADLINE_ON_CARD, xpath=True, flag=True, max_items=1),
    }
    detail_checks: ClassVar[dict[str, tuple[int, int | None]]] = {
        "article.aide": (1, 1),
        "div.aide__infos": (1, 1),
    }
    detail_fields: ClassVar[dict[str, Field]] = {
        "title": Field.required("h1.aide__title", max_items=1),
        "summary": Field("div.aide__chapo", max_items=1),
        "description": Field.required(after_heading("Objectifs", "h3"), xpath=True),
        "eligibility_text": Field.required(after_heading("Critères d'éligibilité", "h3"), xpath=True),
        "amount_text": Field(after_heading("Montant", "h3"), xpath=True),
        "deadline_text": Field.required(after_heading("Calendrier", "h3"), xpath=True),
        "audience_labels": Field.required("div.aide__info--beneficiaires li", many=True),
        "theme_labels": Field("div.aide__info--thematiques li", many=True),
    }
