"""Per-field validity of harvested records: the share of records whose required fields are usable.

Used by the parametrized spider test, by ``aap demo``'s checks and by the Dagster asset checks, so a
source whose layout silently changed (fields suddenly empty) fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pipeline.schema import DEADLINE_KINDS, PERIMETER_SCALES

#: the fields each source must fill in at least this share of its records
VALIDITY_FLOOR = 0.90


def _perimeter_ok(rec: dict[str, Any]) -> bool:
    scale = rec.get("perimeter_scale")
    if scale not in PERIMETER_SCALES:
        return False
    if scale == "region":
        return bool(rec.get("perimeter_regions"))
    if scale == "department":
        return bool(rec.get("perimeter_departments"))
    return True


#: field → predicate on a record
FIELD_CHECKS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "title": lambda r: len(str(r.get("title") or "").strip()) >= 5,
    "url": lambda r: str(r.get("url") or "").startswith(("https://", "http://"))
    and "127.0.0.1" not in str(r.get("url")),
    "deadline_kind": lambda r: r.get("deadline_kind") in DEADLINE_KINDS and r.get("deadline_kind") != "unknown",
    "funder": lambda r: bool(str(r.get("funder") or "").strip()),
    "perimeter": _perimeter_ok,
}


def field_validity(records: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Share of records passing each check of :data:`FIELD_CHECKS` (1.0 for no record)."""
    recs = list(records)
    if not recs:
        return dict.fromkeys(FIELD_CHECKS, 1.0)
    return {name: sum(1 for r in recs if check(r)) / len(recs) for name, check in FIELD_CHECKS.items()}


def failing_fields(records: Iterable[dict[str, Any]], floor: float = VALIDITY_FLOOR) -> dict[str, float]:
    """Fields valid in fewer than ``floor`` of the records, with their share."""
    return {k: v for k, v in field_validity(records).items() if v < floor}
