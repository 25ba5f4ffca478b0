"""``aap export weekly``: the digest of the week in one of the export formats."""

from __future__ import annotations

import importlib
from datetime import datetime
from pathlib import Path

from pipeline import settings
from warehouse.db import connect
from warehouse.exports.digest import Digest, build_digest

#: format → module of ``warehouse.exports`` with ``write(digest, path, **options)``
FORMATS = {
    "html": "html_email", "md": "markdown", "csv": "csv_table", "xlsx": "xlsx", "json": "json_file",
    "ics": "ics", "atom": "atom", "parquet": "parquet",
}


def export_weekly(db_path: str | Path, *, now: datetime, week: str | None = None, region: str | None = None,
                  departement: str | None = None, themes: list[str] | None = None,
                  ccas: list[str] | None = None, fmt: str = "html", output: str | Path | None = None,
                  csv_delimiter: str = ",") -> Path:
    """Write the weekly digest read from ``db_path`` (the snapshot, opened read-only); returns the file.

    ``output`` defaults to ``<data>/exports/weekly-<week>.<fmt>``. ``csv_delimiter`` is ``,`` or ``;``
    (French Excel)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; formats are {', '.join(FORMATS)}")
    if csv_delimiter not in (",", ";"):
        raise ValueError(f"CSV delimiter must be ',' or ';', not {csv_delimiter!r}")
    writer = importlib.import_module(f"warehouse.exports.{FORMATS[fmt]}")
    con = connect(db_path, read_only=True)
    try:
        digest = build_digest(con, now=now, week=week, region=region, departement=departement,
                              themes=themes, ccas=ccas)
    finally:
        con.close()
    path = Path(output) if output else settings.paths().exports_dir / f"weekly-{digest.week}.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"delimiter": csv_delimiter} if fmt == "csv" else {}
    return _write_atomically(writer.write, digest, path, options)


def _write_atomically(write, digest: Digest, path: Path, options: dict) -> Path:
    """Write next to ``path`` then rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(digest, tmp, **options)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
