"""XLSX: one sheet, typed date and amount columns, filters on the header, header row frozen.

Scraped text is always written as a text cell, so a title such as ``=HYPERLINK(...)`` is never a
formula."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from warehouse.exports.digest import COLUMNS, Digest, flat_rows

_WIDTHS = {"title": 60, "funder": 30, "perimeter": 25, "ccas_evidence": 60, "changes": 40, "url": 50}


def write(digest: Digest, path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = f"Semaine {digest.week}"
    ws.append(list(COLUMNS))
    for c in ws[1]:
        c.font = Font(bold=True)
    for r, row in enumerate(flat_rows(digest), start=2):
        for col, name in enumerate(COLUMNS, start=1):
            value = row[name]
            target = ws.cell(row=r, column=col)
            if isinstance(value, date):
                target.value = value
                target.number_format = "DD/MM/YYYY"
            elif isinstance(value, float):
                target.value = value
                target.number_format = "#,##0 €"
            elif value is None:
                continue
            else:
                target.value = ", ".join(d.isoformat() for d in value) if isinstance(value, list) else str(value)
                target.data_type = "s"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(ws.max_row, 1)}"
    ws.freeze_panes = "A2"
    for col, name in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = _WIDTHS.get(name, 15)
    wb.save(path)
    return path
