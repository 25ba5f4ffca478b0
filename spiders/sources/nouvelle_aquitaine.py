"""Région Nouvelle-Aquitaine: guide des aides régionales (RSS feed + HTML fiches)."""

from __future__ import annotations

from typing import ClassVar

from spiders.bases.html_list_detail import Field, after_heading, has_class
from spiders.bases.rss_detail import RssDetailSpider

_CATEGORIES = f"(//div[{has_class('categories')}])"


class NouvelleAquitaineSpider(RssDetailSpider):
    """Région Nouvelle-Aquitaine — guide des aides régionales.

    * Portal: https://les-aides.nouvelle-aquitaine.fr (one fiche per aid or call).
    * Format: RSS 2.0 feed ``/fiches-rss.xml`` (``pubDate`` with a two-digit year, ``<category>`` mixing
      the aid type, the audiences and the themes) + one HTML detail page per item: ``h1.headline-aide``,
      ``div.mod-chapo``, a ``span.tag-appel-projet`` (or ``tag-appel-manifestation``) badge on calls, three
      ``div.categories`` blocks in this order — publics concernés, domaines, date de fin de publication
      ("%d %B %Y") — and ``div.dispositif-aide`` text blocks (Objectifs, Calendrier, Bénéficiaires, Montant…).
    * Auth: none.
    * Caveats: the "date de fin" is the end of the fiche's publication, not always the submission deadline:
      ``deadline_text`` keeps it with its heading next to the Calendrier block, for the deadline extractor to
      weigh. Labels are comma-separated inside one paragraph (a label containing a comma would be cut).
      Feed categories that are neither publics nor domaines on the detail page are the aid types.
    * Fixture copy: mirrors the public feed and fiches as published in November 2026.
    """

    name = "nouvelle_aquitaine"
    source_level = "regional"
    funder = "Région Nouvelle-Aquitaine"
    perimeter: ClassVar[dict] = {"scale": "region", "regions": ["75"], "departments": [],
                                 "label": "Nouvelle-Aquitaine"}
    live_base_url = "https://les-aides.nouvelle-aquitaine.fr"
    fixture_date = "2026-11-24"
    feed_path = "/fiches-rss.xml"

    detail_checks: ClassVar[dict[str, tuple[int, int | None]]] = {
        "h1.headline-aide": (1, 1),
        "div.categories": (3, 3),
        "div.dispositif-aide": (1, 1),
        f"{_CATEGORIES}[1]/*[contains(., 'Publics')]": (1, 1),
        f"{_CATEGORIES}[3]/*[contains(., 'Date de fin')]": (1, 1),
    }
    detail_fields: ClassVar[dict[str, Field]] = {
        "title": Field.required("h1.headline-aide", max_items=1),
        "description": Field.required(f"//div[{has_class('mod-chapo')}] | {after_heading('Objectifs')}",
                                      xpath=True),
        "deadline_text": Field.required(f"{_CATEGORIES}[3] | //div[{has_class('mod-textSimple')}]"
                                        "[h2[contains(., 'Calendrier')]]", xpath=True),
        "eligibility_text": Field.required(after_heading("Bénéficiaires"), xpath=True),
        "amount_text": Field(after_heading("Montant"), xpath=True),
        "audience_labels": Field.required(f"{_CATEGORIES}[1]/p", xpath=True, many=True, split=","),
        "theme_labels": Field(f"{_CATEGORIES}[2]/p", xpath=True, many=True, split=","),
        "is_call_label": Field("span.tag-appel-projet, span.tag-appel-manifestation", flag=True),
    }
