"""fse.gouv.fr: calls for projects of the European Social Fund Plus in France (HTML list + detail)."""

from __future__ import annotations

from typing import ClassVar

from spiders.bases.html_list_detail import Field, HtmlListDetailSpider, after_heading, definition


class FseGouvSpider(HtmlListDetailSpider):
    """fse.gouv.fr — appels à projets FSE+ (programme national and its managing bodies).

    * Portal: https://fse.gouv.fr/appels-a-projets (State design system, DSFR; detail pages
      ``/appels-a-projets/<slug>``).
    * Format: HTML listing of DSFR cards (``div.fr-card``, link ``a.fr-card__link``, territory tag,
      "Clôture : dd/mm/YYYY"), paginated with ``?page=N`` (1-based) through
      ``a.fr-pagination__link--next`` (no ``href`` on the last page). The detail page has a ``dl``
      (Programme, Organisme gestionnaire, Territoire, Date de clôture) and ``h2`` sections (Objectifs,
      Bénéficiaires éligibles, Taux d'intervention, Calendrier).
    * Auth: none; applications go through the separate "Ma Démarche FSE+" platform.
    * Caveats: calls are run by many managing bodies (DREETS, departments, DGCS, DGEFP): each item
      carries its own ``funder`` and ``perimeter_label`` ("National" or a region/department name);
      some calls are permanent or have several "relèves" (cut-off dates).
    * Fixture copy: mirrors the public listing and call pages as of 2026-11-23 (2 listing pages).
    """

    name = "fse_gouv"
    source_level = "national"
    funder = "Fonds social européen plus (FSE+)"
    perimeter: ClassVar[dict] = {"scale": "national", "regions": [], "departments": [], "label": "France"}
    live_base_url = "https://fse.gouv.fr"
    fixture_date = "2026-11-23"

    list_path = "/appels-a-projets"
    entry_query = "div.fr-card"
    entry_link = "h3.fr-card__title a.fr-card__link::attr(href)"
    next_page_query = "a.fr-pagination__link--next[href]::attr(href)"
    list_fields: ClassVar[dict[str, Field]] = {
        "summary": Field("p.fr-card__desc", max_items=1),
    }
    detail_checks: ClassVar[dict[str, tuple[int, int | None]]] = {
        "dl.aap-infos": (1, 1),
        "dl.aap-infos dt": (3, None),
    }
    detail_fields: ClassVar[dict[str, Field]] = {
        "title": Field.required("main h1", max_items=1),
        "programme": Field.required(definition("Programme"), xpath=True, max_items=1),
        "funder": Field.required(definition("Organisme gestionnaire"), xpath=True, max_items=1),
        "perimeter_label": Field.required(definition("Territoire"), xpath=True, max_items=1),
        "deadline_text": Field.required(f"{definition('Date de clôture', with_term=True)} | "
                                        f"{after_heading('Calendrier')}", xpath=True),
        "description": Field.required(after_heading("Objectifs"), xpath=True),
        "eligibility_text": Field.required(after_heading("Bénéficiaires"), xpath=True),
        "amount_text": Field(after_heading("Taux d'intervention"), xpath=True),
    }
