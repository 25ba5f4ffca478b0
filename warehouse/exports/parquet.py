"""Parquet: one typed row per (section, call), for analysts."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.exports.digest import COLUMNS, Digest, flat_rows

_TYPES = {"next_deadline": pa.date32(), "opens_on": pa.date32(), "deadlines": pa.list_(pa.date32()),
          "amount_min": pa.float64(), "amount_max": pa.float64()}


def write(digest: Digest, path: Path) -> Path:
    rows = flat_rows(digest)
    table = pa.table({c: pa.array([r[c] for r in rows], type=_TYPES.get(c, pa.string())) for c in COLUMNS})
    pq.write_table(table, path)
    return path
