"""Région Pays de la Loire: the regional aid catalogue, from its OpenDataSoft portal."""

from __future__ import annotations

from spiders.bases.opendatasoft import OpenDataSoftSpider


class PaysDeLaLoireSpider(OpenDataSoftSpider):
    """Région Pays de la Loire — « Référentiel des aides » dataset.

    * Portal: https://data.paysdelaloire.fr (dataset ``234400034_referentiel-aides-paysdelaloirefr``).
    * Format: OpenDataSoft Explore v2.1 records, offset paging, ordered by ``intervention_id``.
    * Auth: none.
    * Caveats: ``date_de_debut``/``date_de_fin`` are written dd/mm/YYYY (turned into ISO dates) and only
      meaningful when ``temporalite`` is "Temporaire" ("Permanent" aids are open all year);
      ``aid_benef`` and ``thematique_libelle`` are ``;``-separated lists; the dataset has no public page
      per aid, ``source_lien`` (the page the Région links to) is used as the URL.
    * Fixture: mirrors the dataset as of 2026-11-24 (2 pages).
    """

    name = "pays_de_la_loire"
    source_level = "regional"
    funder = "Région Pays de la Loire"
    perimeter = {"scale": "region", "regions": ["52"], "departments": [], "label": "Pays de la Loire"}
    live_base_url = "https://data.paysdelaloire.fr"
    fixture_date = "2026-11-24"
    dataset = "234400034_referentiel-aides-paysdelaloirefr"
    order_by = "intervention_id"
    id_field = "intervention_id"
    url_field = "source_lien"
    fields = {"title": "aide_nom", "summary": "aid_objet_court", "description": "aid_objet",
              "eligibility_text": "aidconditions", "deadline_text": "temporalite"}
    label_fields = {"audience_labels": ("aid_benef", ";"), "type_labels": ("type_aide", ";"),
                    "theme_labels": ("thematique_libelle", ";")}
    date_fields = {"opens_on": "date_de_debut", "deadlines": "date_de_fin"}
    date_format = "%d/%m/%Y"
    call_field = "type_aide"
    call_values = ("Appel à projets", "Appel à manifestations d'intérêt")
