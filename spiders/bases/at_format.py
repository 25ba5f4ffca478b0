"""AT-format JSON: aid records shaped like Aides-territoires' own (``name``, ``targeted_audiences``,
``categories``, ``aid_types``, ``submission_deadline``, ``recurrence``…), served by Aides-territoires'
API and by the departmental feeds that publish in its format (Manche, Drôme).

A concrete spider states where the list lives and how it pages (see :mod:`spiders.bases.json_api`), and
which key holds the public URL of an aid (``url_key``: AT's ``url`` is relative to its site, the
departments' ``origin_url`` is absolute), and which keys hold programmes and aid types
(``programme_key``, ``type_key``). Everything else is shared: labels are emitted as given (they
are mapped by ``transforms/data/mappings/<source>__*.csv``), HTML fields become plain text, dates are
passed on as the feed writes them.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import urljoin

import scrapy

from spiders.bases.json_api import JsonApiSpider, as_list, html_to_text


class AtFormatSpider(JsonApiSpider):
    """Base of the spiders reading AT-format aid records."""

    platform = "at_format"
    url_key: ClassVar[str] = "origin_url"
    #: key of the programme names; key of the aid type labels (None: the feed has none)
    programme_key: ClassVar[str] = "programs"
    type_key: ClassVar[str | None] = "aid_types"
    record_keys: ClassVar[tuple[str, ...]] = ("id", "name", "targeted_audiences", "categories", "aid_types",
                                              "submission_deadline", "recurrence")

    def parse_record(self, record: dict[str, Any], response: scrapy.http.Response) -> Iterator[dict[str, Any]]:
        deadline = record.get("submission_deadline")
        is_call = record.get("is_call_for_project")
        yield self.make_item(
            native_id=str(record["id"]),
            url=self.record_url(record, response),
            application_url=record.get("application_url") or None,
            title=" ".join(html.unescape(str(record["name"])).split()),
            description=html_to_text(record.get("description")),
            eligibility_text=html_to_text(record.get("eligibility")),
            deadline_text=record.get("recurrence") or None,
            opens_on=record.get("start_date") or None,
            deadlines=[deadline] if deadline else None,
            funder=", ".join(as_list(record.get("financers"))) or None,
            programme=", ".join(as_list(record.get(self.programme_key))) or None,
            perimeter_label=record.get("perimeter") or None,
            audience_labels=as_list(record.get("targeted_audiences")),
            theme_labels=as_list(record.get("categories")),
            type_labels=as_list(record.get(self.type_key)) if self.type_key else None,
            amount_text=self.amount_text(record),
            is_call_label=is_call if isinstance(is_call, bool) else None,
            raw=record,
        )

    def record_url(self, record: dict[str, Any], response: scrapy.http.Response) -> str:
        """The public page of the aid (live URL, absolute)."""
        value = record.get(self.url_key)
        if not value:
            self.expect_keys({}, (self.url_key,), what=f"record {record.get('id')} of {response.url}")
        return urljoin(self.live_base_url.rstrip("/") + "/", str(value))

    @staticmethod
    def amount_text(record: dict[str, Any]) -> str | None:
        """Verbatim amount wording: the subvention comment, then loan/advance amounts (in euros)."""
        parts = [html_to_text(record.get("subvention_comment")) or ""]
        for key, label in (("loan_amount", "Montant du prêt maximum"),
                           ("recoverable_advance_amount", "Montant de l'avance récupérable")):
            if record.get(key):
                parts.append(f"{label} : {record[key]} €")
        text = " ; ".join(p for p in parts if p)
        return text or None
