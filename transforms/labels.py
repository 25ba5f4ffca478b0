"""Source label → aap vocabulary mapping, driven by CSV files in ``transforms/data/mappings/``.

A mapping file is ``<source>__<kind>.csv`` with header ``source_label,aap_values``; several values are
separated by ``;``. Kinds: ``audiences`` (values in ``schema.AUDIENCES``), ``types`` (``schema.AID_TYPES``),
``themes`` (``theme-slug`` or ``theme-slug/Catégorie``). Matching ignores case, accents and spacing.
A label the source file does not know is looked up in the generic Aides-territoires file
``at__<kind>.csv`` (many portals reuse AT's own labels); a label nobody knows is returned as unmapped.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Final

from pipeline import schema
from transforms.text import fold_label

MAPPINGS_DIR: Final = Path(__file__).parent / "data" / "mappings"
KINDS: Final = ("audiences", "types", "themes")
GENERIC_SOURCE: Final = "at"


class MappingError(ValueError):
    """A mapping file with a value outside the vocabulary, or a malformed header."""


def _check_value(kind: str, value: str, path: Path) -> None:
    if kind == "audiences":
        ok = value in schema.AUDIENCES
    elif kind == "types":
        ok = value in schema.AID_TYPES
    else:
        ok = value.split("/", 1)[0] in schema.THEMES
    if not ok:
        raise MappingError(f"{path.name}: {value!r} is not a valid {kind} value")


@lru_cache(maxsize=256)
def load_mapping(source: str, kind: str, directory: Path = MAPPINGS_DIR) -> dict[str, tuple[str, ...]] | None:
    """The folded-label → values table of one source and kind, or None when there is no file."""
    if kind not in KINDS:
        raise ValueError(f"unknown mapping kind {kind!r}; expected one of {KINDS}")
    path = directory / f"{source}__{kind}.csv"
    if not path.is_file():
        return None
    table: dict[str, tuple[str, ...]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"source_label", "aap_values"} <= set(reader.fieldnames):
            raise MappingError(f"{path.name}: header must be source_label,aap_values")
        for row in reader:
            label = (row.get("source_label") or "").strip()
            if not label:
                continue
            values = tuple(v.strip() for v in (row.get("aap_values") or "").split(";") if v.strip())
            for v in values:
                _check_value(kind, v, path)
            table[fold_label(label)] = values
    return table


def map_labels(source: str, kind: str, labels: list[str] | None) -> tuple[list[str], list[str]]:
    """Map a source's labels to aap values. Returns (values without duplicates, unmapped labels).

    A label mapped to an empty value list is known but deliberately carries no value (e.g. "Autre").
    """
    own = load_mapping(source, kind) if source != GENERIC_SOURCE else None
    generic = load_mapping(GENERIC_SOURCE, kind)
    values: list[str] = []
    unmapped: list[str] = []
    for raw in labels or []:
        label = str(raw).strip()
        if not label:
            continue
        key = fold_label(label)
        found = None
        for table in (own, generic):
            if table is not None and key in table:
                found = table[key]
                break
        if found is None:
            unmapped.append(label)
            continue
        for v in found:
            if v not in values:
                values.append(v)
    return values, unmapped
