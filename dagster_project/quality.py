"""Data-quality rules of a source's harvest, as pure functions over query results.

Each rule returns a :class:`Verdict`; ``dagster_project.defs.checks`` and the load asset turn verdicts into
Dagster asset check results. Nothing here opens a database or reads the clock: rows, counts and "now"
are passed in, so every rule is unit-tested on plain values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pipeline.quality import VALIDITY_FLOOR
from pipeline.quality import field_validity as shared_field_validity

#: an item count below (1 - MAX_DROP) × the previous successful run fails
MAX_DROP = 0.5
#: each field must be valid in at least this share of the loaded records
MIN_VALIDITY = VALIDITY_FLOOR
#: the share of unknown deadlines may exceed its usual level by this many points
UNKNOWN_DEADLINE_MARGIN = 0.15
#: the usual level of unknown deadlines needs at least this many stored calls
MIN_BASELINE_CALLS = 5
#: a source not successfully harvested for this long is stale
MAX_HARVEST_AGE = timedelta(days=3)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one rule: pass or fail, a sentence saying why, and numbers to show."""

    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def crawl_succeeded(crawl: Mapping[str, Any] | None) -> Verdict:
    """The crawl finished without errors (the crawl process decides ``ok``)."""
    if not crawl:
        return Verdict(False, "no crawl result: the crawl step did not run or its stats file is missing")
    meta = {"items": int(crawl.get("items") or 0), "errors": len(crawl.get("errors") or []),
            "requests": int(crawl.get("requests") or 0)}
    if crawl.get("ok"):
        return Verdict(True, f"crawl finished: {meta['items']} items, {meta['requests']} requests", meta)
    return Verdict(False, f"crawl failed: {crawl.get('reason') or 'no reason given'}",
                   {**meta, "reason": str(crawl.get("reason") or "")})


def zero_items(loaded: int, *, empty_ok: bool) -> Verdict:
    """At least one record loaded, unless the source declares that an empty listing is possible."""
    if loaded > 0:
        return Verdict(True, f"{loaded} records loaded", {"loaded": loaded})
    if empty_ok:
        return Verdict(True, "no record, and this source may legitimately list none", {"loaded": 0})
    return Verdict(False, "no record loaded, and this source does not declare that an empty listing is "
                          "possible: the spider is probably broken (changed layout, blocked, bad URL)",
                   {"loaded": 0})


def count_drop(current: int, previous: int | None, *, max_drop: float = MAX_DROP) -> Verdict:
    """The item count did not fall by more than ``max_drop`` versus the previous successful run."""
    if previous is None:
        return Verdict(True, "no previous successful run to compare with", {"current": current})
    meta = {"current": current, "previous": previous}
    if previous == 0:
        return Verdict(True, "the previous successful run had no item", meta)
    drop = 1 - current / previous
    meta["drop"] = round(drop, 3)
    if drop > max_drop:
        return Verdict(False, f"item count fell by {drop:.0%} ({previous} → {current}); more than "
                              f"{max_drop:.0%} suggests a partial crawl or a changed listing", meta)
    return Verdict(True, f"{current} items versus {previous} in the previous successful run", meta)


def field_validity(rows: Sequence[Mapping[str, Any]], *, rejected: int = 0,
                   threshold: float = MIN_VALIDITY) -> Verdict:
    """Each field of :data:`pipeline.quality.FIELD_CHECKS` (title, url, deadline_kind, funder, perimeter)
    is valid in at least ``threshold`` of the loaded records, and at least ``threshold`` of the items were
    stored rather than quarantined (``stored``)."""
    total = len(rows)
    shares = shared_field_validity(dict(r) for r in rows)
    items = total + rejected
    shares["stored"] = total / items if items else 1.0
    low = {k: v for k, v in shares.items() if v < threshold}
    meta = {f"valid_{k}": round(v, 3) for k, v in shares.items()} | {"records": total, "rejected": rejected}
    if low:
        worst = ", ".join(f"{k} {v:.0%}" for k, v in sorted(low.items(), key=lambda kv: kv[1]))
        return Verdict(False, f"below {threshold:.0%} valid: {worst}", meta)
    return Verdict(True, f"every field valid in at least {threshold:.0%} of {total} records", meta)


def unknown_deadline_share(current_kinds: Iterable[str], usual_kinds: Iterable[str], *,
                           margin: float = UNKNOWN_DEADLINE_MARGIN,
                           min_baseline: int = MIN_BASELINE_CALLS) -> Verdict:
    """The share of records with an unknown deadline is not above its usual level (the share among the
    calls stored for the source before this load) by more than ``margin``."""
    current, usual = list(current_kinds), list(usual_kinds)
    share = current.count("unknown") / len(current) if current else 0.0
    meta: dict[str, Any] = {"share": round(share, 3), "records": len(current)}
    if len(usual) < min_baseline:
        return Verdict(True, f"{share:.0%} unknown deadlines; fewer than {min_baseline} stored calls, no "
                             "usual level yet", meta)
    usual_share = usual.count("unknown") / len(usual)
    meta |= {"usual_share": round(usual_share, 3), "baseline_calls": len(usual)}
    if share > usual_share + margin:
        return Verdict(False, f"{share:.0%} of the records have an unknown deadline, usually "
                              f"{usual_share:.0%}: deadline wording or markup may have changed", meta)
    return Verdict(True, f"{share:.0%} unknown deadlines (usually {usual_share:.0%})", meta)


def duplicate_ids(ids: Iterable[str], *, rejected_duplicates: int = 0) -> Verdict:
    """No id appears twice in a source's harvest (unstable or colliding ids would merge or split calls)."""
    counts = Counter(ids)
    repeated = {k: n for k, n in counts.items() if n > 1}
    total = sum(n - 1 for n in repeated.values()) + rejected_duplicates
    meta: dict[str, Any] = {"duplicates": total, "distinct_ids": len(counts)}
    if total:
        sample = ", ".join(sorted(repeated)[:5])
        return Verdict(False, f"{total} duplicate id(s) in this harvest" + (f": {sample}" if sample else ""),
                       meta)
    return Verdict(True, f"{len(counts)} distinct ids, no duplicate", meta)


def harvested_recently(last_ok: datetime | None, now: datetime, *,
                       max_age: timedelta = MAX_HARVEST_AGE) -> Verdict:
    """The source had a successful harvest within ``max_age`` of ``now`` (both aware, or both naive UTC)."""
    if last_ok is None:
        return Verdict(False, "never harvested successfully", {"max_age_hours": max_age.total_seconds() / 3600})
    age = now - last_ok
    meta = {"last_success": last_ok.isoformat(timespec="seconds"), "age_hours": round(age.total_seconds() / 3600, 1),
            "max_age_hours": max_age.total_seconds() / 3600}
    if age > max_age:
        return Verdict(False, f"last successful harvest {age.days} day(s) ago, more than {max_age.days}", meta)
    return Verdict(True, f"last successful harvest {meta['age_hours']} h ago", meta)


def previous_success_items(history: Sequence[Mapping[str, Any]], run_id: str) -> int | None:
    """Items of the latest successful run before ``run_id`` in ``history`` (rows with run_id, ok, items,
    harvested_at, any order)."""
    earlier = [h for h in history if h["run_id"] != run_id and h["ok"]]
    if not earlier:
        return None
    return int(max(earlier, key=lambda h: h["harvested_at"])["items"] or 0)


def last_success(history: Sequence[Mapping[str, Any]]) -> datetime | None:
    ok = [h["harvested_at"] for h in history if h["ok"]]
    return max(ok) if ok else None
