"""Région Occitanie: aids and calls from its OpenDataSoft portal, deadlines read on each detail page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy

from spiders.bases.html_list_detail import DetailPageMixin, Field, after_heading
from spiders.bases.opendatasoft import OpenDataSoftSpider

#: the download box closing the text block is not part of any section
NOT_DOWNLOADS = "[not(contains(@class, 'boite_telechargements'))]"


class OccitanieSpider(DetailPageMixin, OpenDataSoftSpider):
    """Région Occitanie — « Aides et appels à projets de la Région Occitanie » dataset + detail pages.

    * Portal: https://data.laregion.fr (dataset ``aides-et-appels-a-projets-de-la-region-occitanie``);
      detail pages on https://www.laregion.fr/…
    * Format: OpenDataSoft Explore v2.1 records (``titre``, ``chapo``, ``url``, ``type``,
      ``thematiques``), offset paging; the dataset has no deadline, so each record's ``url`` is followed
      and the detail page (``h1.main-content__title``, ``div.main-content__texte`` with "Objectifs",
      "Bénéficiaires", "Calendrier" blocks) gives the deadline wording and who may apply.
    * Auth: none.
    * Caveats: the dataset keeps every aid that ever existed (``type`` empty for old pages); ids are cut
      from the detail URL (the dataset has no stable identifier); ``thematiques`` is ", "-separated.
    * Fixture: mirrors the dataset and pages as of 2026-11-24 (2 list pages, 7 detail pages).
    """

    name = "occitanie"
    source_level = "regional"
    funder = "Région Occitanie"
    perimeter = {"scale": "region", "regions": ["76"], "departments": [], "label": "Occitanie"}
    live_base_url = "https://data.laregion.fr"
    fixture_date = "2026-11-24"
    dataset = "aides-et-appels-a-projets-de-la-region-occitanie"
    order_by = "url"
    url_field = "url"
    fields = {"title": "titre", "summary": "chapo"}
    label_fields = {"theme_labels": ("thematiques", ", "), "type_labels": ("type", None)}
    call_field = "type"
    call_values = ("Appels à projets",)
    detail_checks = {"h1.main-content__title": (1, 1), "div.main-content__texte": (1, 1)}
    detail_fields = {
        "title": Field.required("h1.main-content__title", max_items=1),
        "description": Field(after_heading("Objectifs"), xpath=True),
        "eligibility_text": Field(after_heading("Bénéficiaires"), xpath=True),
        "deadline_text": Field(after_heading("Calendrier") + NOT_DOWNLOADS, xpath=True),
    }

    def parse_record(self, record: dict[str, Any], response: scrapy.http.Response) -> Iterator[scrapy.Request]:
        fields = self.record_fields(record, response)
        listed = {k: v for k, v in fields.items() if k not in ("raw", "url", "native_id") and v is not None}
        yield scrapy.Request(self.fetch_url(fields["url"]), callback=self.parse_detail_page,
                             cb_kwargs={"listed": listed, "record": record})

    def parse_detail_page(self, response: scrapy.http.Response, listed: dict[str, Any],
                          record: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """One detail page → one raw item (dataset record + page)."""
        yield self.detail_item(response, listed, raw_listed=record)
