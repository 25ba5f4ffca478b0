"""SEDIA: the search API behind the EU Funding & Tenders portal.

``POST https://api.tech.ec.europa.eu/search-api/prod/rest/search?apiKey=SEDIA&text=***&pageSize=N&pageNumber=P``
with a ``multipart/form-data`` body whose parts ``query``, ``languages`` and ``sort`` are
``application/json`` blobs (plain form fields make the API answer HTTP 500). The answer is
``{totalResults, pageNumber, pageSize, results[]}``; each result has a unique ``reference``, a ``url``
and ``metadata`` whose values are all arrays (``identifier``, ``title``, ``status``, ``startDate``,
``deadlineDate`` — one per cut-off —, ``deadlineModel``, ``frameworkProgramme``, ``descriptionByte``
(HTML), ``budgetOverview`` (a JSON string inside an array), ``keywords``…).

A concrete spider chooses the topic ``types``, ``statuses`` and default ``programmes`` (SEDIA framework
programme ids); ``programmes`` can be changed per crawl with the spider argument
``programmes=ID,ID`` (``programmes=all`` lifts the restriction). Results are sorted on ``identifier`` so
that paging is stable; FAQ entries (``DATASOURCE`` ``SEDIA_FAQ``) are excluded in the query and skipped
if they still come back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

import scrapy

from spiders.base import LayoutError
from spiders.bases.json_api import JsonApiSpider, as_list, first, html_to_text

TOPIC_URL = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/"
#: SEDIA status codes and the portal's own words for them
STATUS_LABELS = {"31094501": "Forthcoming", "31094502": "Open For Submission", "31094503": "Closed"}
#: SEDIA topic type codes
TYPE_LABELS = {"1": "Grant", "2": "External action grant", "8": "Cascade funding"}
FAQ_DATASOURCE = "SEDIA_FAQ"
BOUNDARY = "aapSediaBoundary7MA4YWxkTrZu0gW"


class SediaSpider(JsonApiSpider):
    """Base of spiders reading the SEDIA search API (see the module docstring)."""

    platform = "sedia"
    live_base_url = "https://api.tech.ec.europa.eu"
    list_path = "/search-api/prod/rest/search"
    list_params: ClassVar[dict[str, str]] = {"apiKey": "SEDIA", "text": "***"}
    paging = "page"
    page_param = "pageNumber"
    size_param = "pageSize"
    page_size = 100
    first_page = 1
    results_key = "results"
    total_key = "totalResults"
    record_keys = ("reference", "metadata")
    metadata_keys: ClassVar[tuple[str, ...]] = ("identifier", "title", "status", "frameworkProgramme")
    types: ClassVar[tuple[str, ...]] = ("1", "2", "8")
    statuses: ClassVar[tuple[str, ...]] = ("31094501", "31094502")
    #: framework programme id → name, for the programmes crawled by default
    programmes: ClassVar[dict[str, str]] = {}
    languages: ClassVar[tuple[str, ...]] = ("en",)

    def __init__(self, *args: Any, programmes: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if programmes is None:
            self.programme_ids: list[str] = list(type(self).programmes)
        elif programmes.strip().lower() == "all":
            self.programme_ids = []
        else:
            self.programme_ids = [p.strip() for p in programmes.split(",") if p.strip()]

    # --- request -------------------------------------------------------------------------------
    def search_query(self) -> dict[str, Any]:
        """The Elasticsearch-style ``query`` part."""
        must: list[dict[str, Any]] = [{"terms": {"type": list(self.types)}},
                                      {"terms": {"status": list(self.statuses)}}]
        if self.programme_ids:
            must.append({"terms": {"frameworkProgramme": self.programme_ids}})
        return {"bool": {"must": must, "must_not": [{"terms": {"DATASOURCE": [FAQ_DATASOURCE]}}]}}

    def multipart_body(self) -> bytes:
        """``query``, ``languages`` and ``sort`` as application/json parts."""
        parts = {"query": self.search_query(), "languages": list(self.languages),
                 "sort": {"field": "identifier", "order": "ASC"}}
        chunks = []
        for field, value in parts.items():
            chunks.append(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"blob\"\r\n"
                          f"Content-Type: application/json\r\n\r\n{json.dumps(value)}\r\n")
        chunks.append(f"--{BOUNDARY}--\r\n")
        return "".join(chunks).encode("utf-8")

    def page_request(self, index: int, received: int = 0) -> scrapy.Request:
        headers = {**self.request_headers(), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        return scrapy.Request(self.fetch_url(self.page_live_url(index, received)), method="POST", headers=headers,
                              body=self.multipart_body(), callback=self.parse_page,
                              cb_kwargs={"index": index, "received": received})

    # --- records -------------------------------------------------------------------------------
    def parse_record(self, record: dict[str, Any], response: scrapy.http.Response) -> Iterator[dict[str, Any]]:
        meta = record["metadata"]
        datasource = first(record.get("DATASOURCE")) or first((meta or {}).get("DATASOURCE"))
        if datasource == FAQ_DATASOURCE:
            return
        self.expect_keys(meta, self.metadata_keys, what=f"metadata of {record.get('reference')}")
        identifier = str(first(meta["identifier"]))
        status = str(first(meta["status"]) or "")
        programme_id = str(first(meta["frameworkProgramme"]) or "")
        programme = self.programmes.get(programme_id)
        yield self.make_item(
            native_id=identifier,
            url=TOPIC_URL + identifier,
            title=" ".join(str(first(meta["title"]) or record.get("summary") or identifier).split()),
            summary=first(meta.get("callTitle")) or None,
            description=html_to_text(first(meta.get("descriptionByte"))),
            eligibility_text=html_to_text(first(meta.get("beneficiaryAdministration"))),
            deadline_text=first(meta.get("deadlineModel")) or None,
            opens_on=first(meta.get("startDate")) or None,
            deadlines=as_list(meta.get("deadlineDate")) or None,
            status_label=STATUS_LABELS.get(status, status or None),
            programme=programme,
            perimeter_label="Union européenne",
            theme_labels=[programme.rsplit("(", 1)[-1].rstrip(")")] if programme and "(" in programme else None,
            type_labels=[TYPE_LABELS.get(str(t), str(t)) for t in as_list(meta.get("type"))] or None,
            amount_text=self.budget_text(meta, identifier),
            is_call_label=True,
            raw=record,
        )

    def budget_text(self, meta: dict[str, Any], identifier: str) -> str | None:
        """Budget wording from ``budgetOverview`` (a JSON string inside an array): yearly budgets of the
        topic's actions and the per-project contribution range, in EUR."""
        blob = first(meta.get("budgetOverview"))
        if not blob:
            return None
        try:
            overview = json.loads(blob) if isinstance(blob, str) else blob
            actions = [a for rows in overview["budgetTopicActionMap"].values() for a in rows]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise LayoutError(f"[{self.name}] budgetOverview of {identifier} is not the expected JSON "
                              f"(budgetTopicActionMap): {exc}") from exc
        parts = []
        for action in actions:
            for year, amount in sorted((action.get("budgetYearMap") or {}).items()):
                parts.append(f"Budget {year} : {amount} EUR")
            low, high = action.get("minContribution"), action.get("maxContribution")
            if low and high:
                parts.append(f"Contribution par projet : de {low} à {high} EUR")
            elif high:
                parts.append(f"Contribution par projet : jusqu'à {high} EUR")
        return " ; ".join(dict.fromkeys(parts)) or None
