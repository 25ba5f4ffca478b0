"""OpenDataSoft (ODS) Explore API v2.1: one dataset of aids, read with offset paging.

``GET {portal}/api/explore/v2.1/catalog/datasets/{dataset}/records?limit=100&offset=N[&order_by=F]``
→ ``{total_count, results: [record, ...]}``; each record is a flat object of the dataset's fields
(``null`` when empty). ``limit`` is at most 100 and ``offset + limit`` at most 10 000.

A new ODS portal is configuration::

    class IleDeFranceSpider(OpenDataSoftSpider):
        name = "ile_de_france"; source_level = "regional"; funder = "Région Île-de-France"; ...
        live_base_url = "https://data.iledefrance.fr"
        dataset = "aides-appels-a-projets"
        order_by = "reference_administrative"
        id_field = "reference_administrative"
        url_field = "url_descriptif"
        fields = {"title": "nom_de_l_aide_de_la_demarche", "summary": "chapo_txt", ...}
        label_fields = {"audience_labels": ("qui_peut_en_beneficier", "|||")}
        date_fields = {"deadlines": "date_cloture", "opens_on": "date_ouverture"}

Every field named in ``id_field``, ``url_field``, ``fields``, ``label_fields`` and ``date_fields`` must be
present in every record, or :class:`LayoutError` names the source and the missing keys (``optional_fields``
lists those the dataset may leave out). Text fields are HTML-stripped; dates are passed on as the
dataset writes them, except ``date_format`` (e.g. ``"%d/%m/%Y"``) which is turned into ISO dates.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

import scrapy

from spiders.base import LayoutError
from spiders.bases.json_api import JsonApiSpider, as_list, html_to_text

ODS_RECORDS_PATH = "/api/explore/v2.1/catalog/datasets/{dataset}/records"
#: raw fields whose ODS value is HTML or rich text
TEXT_FIELDS = ("summary", "description", "eligibility_text", "deadline_text", "amount_text")


class OpenDataSoftSpider(JsonApiSpider):
    """Base of spiders reading one ODS dataset (see the module docstring)."""

    platform = "opendatasoft"
    dataset: ClassVar[str] = ""
    order_by: ClassVar[str | None] = None
    paging = "offset"
    offset_param = "offset"
    size_param = "limit"
    page_size = 100
    results_key = "results"
    total_key = "total_count"
    id_field: ClassVar[str | None] = None
    url_field: ClassVar[str] = ""
    #: raw item field → dataset field
    fields: ClassVar[dict[str, str]] = {}
    #: raw label field → (dataset field, separator for string values or None)
    label_fields: ClassVar[dict[str, tuple[str, str | None]]] = {}
    #: "deadlines" / "opens_on" → dataset field
    date_fields: ClassVar[dict[str, str]] = {}
    date_format: ClassVar[str | None] = None
    optional_fields: ClassVar[tuple[str, ...]] = ()
    #: the dataset field whose value says "call for projects", and the values that do
    call_field: ClassVar[str | None] = None
    call_values: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.dataset:
            cls.list_path = ODS_RECORDS_PATH.format(dataset=cls.dataset)
            cls.list_params = {"order_by": cls.order_by} if cls.order_by else {}
            named = [cls.id_field, cls.url_field, cls.call_field, *cls.fields.values(),
                     *(f for f, _ in cls.label_fields.values()), *cls.date_fields.values()]
            cls.record_keys = tuple(dict.fromkeys(f for f in named if f and f not in cls.optional_fields))

    def parse_record(self, record: dict[str, Any], response: scrapy.http.Response) -> Iterator[Any]:
        yield self.make_item(**self.record_fields(record, response))

    def record_fields(self, record: dict[str, Any], response: scrapy.http.Response) -> dict[str, Any]:
        """The raw item fields of one record, from the declared mappings; subclasses extend it."""
        out: dict[str, Any] = {"raw": record}
        native = record.get(self.id_field) if self.id_field else None
        out["native_id"] = str(native).strip() if native not in (None, "") else None
        url = record.get(self.url_field)
        if not url or not str(url).startswith(("http://", "https://")):
            raise LayoutError(f"[{self.name}] record {out['native_id']} of {response.url}: field "
                              f"{self.url_field!r} is not an absolute URL ({url!r})")
        out["url"] = str(url).strip()
        for raw_field, ods_field in self.fields.items():
            value = record.get(ods_field)
            if raw_field in TEXT_FIELDS:
                out[raw_field] = html_to_text(value)
            elif value not in (None, ""):
                out[raw_field] = " ".join(html.unescape(str(value)).split())
        for raw_field, (ods_field, sep) in self.label_fields.items():
            out[raw_field] = as_list(record.get(ods_field), sep) or None
        if self.call_field:
            out["is_call_label"] = str(record.get(self.call_field) or "").strip() in self.call_values
        for raw_field, ods_field in self.date_fields.items():
            value = self.iso_date(record.get(ods_field), ods_field, out["native_id"])
            out[raw_field] = ([value] if value else None) if raw_field == "deadlines" else value
        return out

    def iso_date(self, value: Any, field: str, native_id: str | None) -> str | None:
        """The date as the dataset writes it, or as an ISO date when ``date_format`` is declared."""
        if value in (None, ""):
            return None
        if not self.date_format:
            return str(value)
        try:
            return datetime.strptime(str(value).strip(), self.date_format).date().isoformat()
        except ValueError as exc:
            raise LayoutError(f"[{self.name}] record {native_id}: {field}={value!r} does not match "
                              f"{self.date_format!r}: the dataset format has changed") from exc
