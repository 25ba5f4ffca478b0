"""The raw JSONL exporter writes the same bytes as Scrapy's own."""

from __future__ import annotations

import io

from scrapy.exporters import JsonLinesItemExporter

from spiders.exporters import JsonLinesExporter


def test_same_bytes_as_scrapys_exporter() -> None:
    items = [{"source": "s", "url": "https://example.org/a", "title": "Appel « Bien vieillir » – Épinal",
              "deadlines": ["2026-11-30"], "is_call_label": True, "raw": {"n": 1, "x": None}}, {"title": "B"}]
    outputs = []
    for cls in (JsonLinesItemExporter, JsonLinesExporter):
        buf = io.BytesIO()
        exporter = cls(buf, encoding="utf-8")
        exporter.start_exporting()
        for item in items:
            exporter.export_item(item)
        exporter.finish_exporting()
        outputs.append(buf.getvalue())
    assert outputs[0] == outputs[1]
    assert "Épinal".encode() in outputs[1]
