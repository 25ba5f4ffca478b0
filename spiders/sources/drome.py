"""Département de la Drôme: its services and aids for local authorities, in Aides-territoires' format."""

from __future__ import annotations

from spiders.bases.at_format import AtFormatSpider


class DromeSpider(AtFormatSpider):
    """Département de la Drôme — « Espace collectivités » aids feed (AT format).

    * Portal: https://collectivites.ladrome.fr (one page per aid under /service/…, the ``origin_url``).
    * Format: Django REST framework pages ``{count, next, previous, results}`` of AT-format records,
      ``?page=N``; ``financers`` and ``perimeter`` are plain strings; descriptions are HTML with
      upper-case section titles ("OPÉRATIONS CONCERNÉES", "TYPE D'AIDE").
    * Auth: none.
    * Caveats: most records are permanent engineering services ("Permanente", no deadline); ``id`` is
      the feed's numeric id (stable, unlike ``slug`` which is often null); the feed path is the one
      given to Aides-territoires' importer.
    * Fixture: mirrors the feed as of 2026-11-19 (2 pages).
    """

    name = "drome"
    source_level = "departmental"
    funder = "Département de la Drôme"
    perimeter = {"scale": "department", "regions": ["84"], "departments": ["26"], "label": "Drôme"}
    live_base_url = "https://collectivites.ladrome.fr"
    fixture_date = "2026-11-19"
    list_path = "/api/aides/"
    paging = "page"
    next_key = "next"
    page_keys = ("count", "next", "previous")
