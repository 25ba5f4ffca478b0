"""Région Île-de-France: aids and calls for projects, from its OpenDataSoft portal."""

from __future__ import annotations

from spiders.bases.opendatasoft import OpenDataSoftSpider


class IleDeFranceSpider(OpenDataSoftSpider):
    """Région Île-de-France — « Aides et appels à projets » dataset.

    * Portal: https://data.iledefrance.fr (dataset ``aides-appels-a-projets``); public pages on
      https://www.iledefrance.fr/aides-et-appels-a-projets/…
    * Format: OpenDataSoft Explore v2.1 records, offset paging, ordered by ``reference_administrative``.
    * Auth: none.
    * Caveats: ``date_ouverture``/``date_cloture`` are Paris midnights written in UTC
      ("2026-12-03T23:00:00+00:00" means 4 December): passed on as given, the transforms convert them;
      ``qui_peut_en_beneficier`` joins labels with ``|||``; aids open all year have no ``date_cloture``
      (their ``demarches_txt``, kept as deadline wording, says how and when to apply).
    * Fixture: mirrors the dataset as of 2026-11-24 (2 pages).
    """

    name = "ile_de_france"
    source_level = "regional"
    funder = "Région Île-de-France"
    perimeter = {"scale": "region", "regions": ["11"], "departments": [], "label": "Île-de-France"}
    live_base_url = "https://data.iledefrance.fr"
    fixture_date = "2026-11-24"
    dataset = "aides-appels-a-projets"
    order_by = "reference_administrative"
    id_field = "reference_administrative"
    url_field = "url_descriptif"
    fields = {"title": "nom_de_l_aide_de_la_demarche", "summary": "chapo_txt", "description": "objectif_txt",
              "eligibility_text": "publics_beneficiaire_precision_txt", "deadline_text": "demarches_txt"}
    label_fields = {"audience_labels": ("qui_peut_en_beneficier", "|||"), "theme_labels": ("theme", "|||")}
    date_fields = {"deadlines": "date_cloture", "opens_on": "date_ouverture"}
    optional_fields = ("publics_beneficiaire_precision_txt", "demarches_txt")
