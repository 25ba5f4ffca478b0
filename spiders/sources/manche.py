"""Département de la Manche: its aid guide, published in Aides-territoires' format."""

from __future__ import annotations

import base64
import os

from spiders.bases.at_format import AtFormatSpider


class MancheSpider(AtFormatSpider):
    """Département de la Manche — « Guide des aides » feed (AT format).

    * Portal: https://www.manche.fr/guide-des-aides/ (one page per aid, the feed's ``origin_url``).
    * Format: one JSON document ``{count, aides: [...]}`` in Aides-territoires' format, not paged;
      ``submission_deadline``/``start_date`` are ISO datetimes with offset; names carry HTML entities.
    * Auth: the Département hands partners HTTP basic credentials for the feed; set
      ``AAP_MANCHE_AUTH=user:password`` for a live crawl (never logged). The demo portal needs none.
    * Caveats: ``aid_types`` holds the funding contract ("Contrat de territoire Manche 2022-2028"), not
      an aid type, so it is kept as the programme; ``categories`` are the Département's sub-themes;
      the feed path is the one given to Aides-territoires' importer and may change without notice.
    * Fixture: mirrors the feed as of 2026-11-19.
    """

    name = "manche"
    source_level = "departmental"
    funder = "Département de la Manche"
    perimeter = {"scale": "department", "regions": ["28"], "departments": ["50"], "label": "Manche"}
    live_base_url = "https://www.manche.fr"
    auth = "HTTP basic (env AAP_MANCHE_AUTH=user:password)"
    fixture_date = "2026-11-19"
    list_path = "/api/guide-des-aides/aides"
    paging = "none"
    results_key = "aides"
    page_keys = ("count",)
    programme_key = "aid_types"
    type_key = None

    def request_headers(self) -> dict[str, str]:
        headers = super().request_headers()
        credentials = os.environ.get("AAP_MANCHE_AUTH")
        if credentials:
            headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        return headers
