"""EU Funding & Tenders portal: calls of the programmes a CCAS/CIAS can answer."""

from __future__ import annotations

from spiders.bases.sedia import SediaSpider


class EuFundingTendersSpider(SediaSpider):
    """EU Funding & Tenders portal (European Commission), grant topics open or forthcoming.

    * Portal: https://ec.europa.eu/info/funding-tenders/opportunities/portal (search API
      https://api.tech.ec.europa.eu/search-api/prod/rest/search, public key ``SEDIA``).
    * Format: SEDIA search JSON, POST multipart (``query``/``languages``/``sort`` JSON parts), paged by
      ``pageNumber``; metadata values are arrays; ``deadlineDate`` holds one date per cut-off.
    * Auth: none (the public ``apiKey=SEDIA``).
    * Scope: by default the programmes a CCAS can use — ESF+ (43254019), CERV (43251589), EU4Health
      (43332642), AMIF (43251447), Erasmus+ (43353764), European Solidarity Corps (43254037); spider
      argument ``programmes=ID,ID`` or ``programmes=all`` to change it.
    * Caveats: the portal leaves topics "Open For Submission" after their last deadline (trust the
      dates); FAQ entries can leak into results and are skipped; ~10 000 results at most per query.
    * Fixture: mirrors the API answer as of 2026-11-23 (2 pages).
    """

    name = "eu_funding_tenders"
    source_level = "europe"
    funder = "Commission européenne"
    perimeter = {"scale": "europe", "regions": [], "departments": [], "label": "Union européenne"}
    fixture_date = "2026-11-23"
    programmes = {
        "43254019": "European Social Fund + (ESF+)",
        "43251589": "Citizens, Equality, Rights and Values Programme (CERV)",
        "43332642": "EU4Health Programme (EU4H)",
        "43251447": "Asylum, Migration and Integration Fund (AMIF)",
        "43353764": "Erasmus+ (ERASMUS+)",
        "43254037": "European Solidarity Corps (ESC)",
    }
