"""Aides-territoires: the national catalogue of aids for local authorities (AT-format API)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import scrapy

from pipeline.settings import at_token
from spiders.base import LayoutError
from spiders.bases.at_format import AtFormatSpider


class AidesTerritoiresSpider(AtFormatSpider):
    """Aides-territoires — the national catalogue of aids for local authorities.

    * Portal: https://aides-territoires.beta.gouv.fr (API documented at /data/)
    * Format: AT-format JSON; ``GET /api/aids/?page=N&itemsPerPage=100`` → ``{count, next, previous,
      results}``; labels (not codes) for audiences, types and categories (``"Thème|Catégorie"``).
    * Auth: a personal API token (environment variable ``AAP_AT_TOKEN``) is exchanged for a JWT by
      ``POST /api/connexion/`` with header ``X-AUTH-TOKEN``; pages are then requested with
      ``Authorization: Bearer <jwt>``. Neither the token nor the JWT is ever logged or stored.
    * Caveats: ``url`` is relative to the site; ``submission_deadline`` is a plain date; ``recurrence``
      ("Ponctuelle", "Permanente", "Récurrente") is the only deadline wording; the catalogue holds many
      aids that are not calls for projects (``is_call_for_project``).
    * Fixture: mirrors the public API as of 2026-11-20 (2 pages).
    """

    name = "aides_territoires"
    source_level = "national"
    funder = "Aides-territoires (financeurs multiples)"
    perimeter = {"scale": "national", "regions": [], "departments": [], "label": "France"}
    live_base_url = "https://aides-territoires.beta.gouv.fr"
    auth = "API token (env AAP_AT_TOKEN, X-AUTH-TOKEN) exchanged for a JWT bearer"
    portal_url = "https://aides-territoires.beta.gouv.fr/api/aids/"
    fixture_date = "2026-11-20"
    list_path = "/api/aids/"
    paging = "page"
    size_param = "itemsPerPage"
    page_size = 100
    next_key = "next"
    page_keys = ("count", "next", "previous")
    url_key = "url"
    token_path = "/api/connexion/"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._jwt: str | None = None

    def first_requests(self) -> Iterable[scrapy.Request]:
        token = at_token()
        if token is None:
            raise LayoutError(f"[{self.name}] no API token: set the environment variable AAP_AT_TOKEN to "
                              "your Aides-territoires API token (X-AUTH-TOKEN)")
        yield scrapy.Request(self.fetch_url(self.live_base_url + self.token_path), method="POST",
                             headers={"X-AUTH-TOKEN": token, "Accept": "application/json"},
                             callback=self.parse_token, dont_filter=True)

    def parse_token(self, response: scrapy.http.Response) -> Iterator[scrapy.Request]:
        """Keep the JWT in memory only, then request the first page of aids."""
        payload = self.load_json(response, "token answer")
        self.expect_keys(payload, ("token",), what="token answer of /api/connexion/")
        if not str(payload["token"] or "").strip():
            raise LayoutError(f"[{self.name}] /api/connexion/ answered an empty token")
        self._jwt = str(payload["token"]).strip()
        yield self.page_request(0)

    def request_headers(self) -> dict[str, str]:
        headers = super().request_headers()
        if self._jwt:
            headers["Authorization"] = f"Bearer {self._jwt}"
        return headers
