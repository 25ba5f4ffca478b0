"""CSV: UTF-8 with BOM (Excel detects the encoding), ``,`` or ``;`` delimiter, formula cells neutralised."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from warehouse.exports.digest import COLUMNS, Digest, flat_rows

#: a spreadsheet reads a cell starting with one of these as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix a would-be formula with an apostrophe so spreadsheets show it as text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return neutralise(", ".join(cell(v) for v in value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else str(value)
    return neutralise(str(value))


def write(digest: Digest, path: Path, delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
        out.writerow(COLUMNS)
        for row in flat_rows(digest):
            out.writerow([cell(row[c]) for c in COLUMNS])
    return path
