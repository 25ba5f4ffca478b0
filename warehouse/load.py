"""The only writer of the warehouse: one transaction per harvest.

For every source of a harvest, :func:`load_harvest`

* quarantines the rejected items and every record that fails validation (with the reason);
* upserts the accepted records into ``calls`` (``first_seen_at`` / ``last_seen_at`` set here), with the
  status recomputed from the deadlines against the harvest's "now";
* writes a new ``call_versions`` row when the content or the calendar hash changes, with a human
  description of the change; content changes also stamp ``content_changed_at`` (the flag), calendar
  changes only ``calendar_changed_at``;
* records provenance in ``call_sources`` and the crawl statistics in ``harvest_runs``;
* marks ``withdrawn`` the calls missing from ``withdraw_after`` consecutive successful harvests of their
  source (a failed source is left untouched and does not count);

then recomputes the cross-source clusters. Loading the same harvest twice changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipeline import schema, settings
from warehouse.clusters import only_around, recluster
from warehouse.db import connect, dict_rows, staged, utc_naive
from warehouse.versions import describe_changes, version_record

#: list-valued record fields (stored as VARCHAR[]; ``deadlines`` as DATE[])
LIST_FIELDS = ("deadlines", "audiences", "themes", "categories", "aid_types", "perimeter_regions",
               "perimeter_departments", "deadline_flags", "unmapped_labels")
#: structured record fields (objects or lists), stored as JSON
JSON_FIELDS = ("theme_evidence", "raw")
#: text record fields (``native_id`` may also be a number: it is stored as text)
TEXT_FIELDS = tuple(f for f in schema.RECORD_FIELDS
                    if f not in LIST_FIELDS + JSON_FIELDS
                    + ("native_id", "amount_min", "amount_max", "is_call_for_projects"))


@dataclass(frozen=True)
class SourceBatch:
    """What one source contributed to a harvest."""

    source: str
    ok: bool
    records: list[dict[str, Any]]
    rejected: list[dict[str, Any]] = field(default_factory=list)
    crawl: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadStats:
    """Counts of one source's load. ``updated`` counts content or calendar changes and withdrawn calls
    that came back."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class _Clock:
    run_id: str
    at: datetime      # UTC, naive
    as_of: date       # Europe/Paris date of the harvest


def load_harvest(db_path: str | Path, batches: list[SourceBatch], *, now: datetime, run_id: str,
                 withdraw_after: int | None = None) -> dict[str, LoadStats]:
    """Load one harvest in a single transaction; on any error nothing is written."""
    if not str(run_id).strip():
        raise ValueError("run_id is empty")
    sources = [b.source for b in batches]
    duplicated = sorted({s for s in sources if sources.count(s) > 1})
    if duplicated:
        raise ValueError(f"several batches for source(s) {', '.join(duplicated)}")
    if any(not str(s or "").strip() for s in sources):
        raise ValueError("a batch has an empty source name")
    limit = settings.withdraw_after() if withdraw_after is None else withdraw_after
    if limit < 1:
        raise ValueError(f"withdraw_after must be at least 1, not {limit}")
    clock = _Clock(run_id, utc_naive(now), _local_date(now))
    con = connect(db_path)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("INSERT OR REPLACE INTO harvests VALUES (?, ?, ?, ?)",
                        [run_id, clock.at, clock.as_of, clock.at])
            changed: set[str] = set()
            stats = {b.source: _load_source(con, b, clock, limit, changed) for b in batches}
            with only_around(changed):
                recluster(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
    return stats


def _local_date(now: datetime) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(settings.TIMEZONE).date()


# --- one source -------------------------------------------------------------------------------------

def _load_source(con: duckdb.DuckDBPyConnection, batch: SourceBatch, clock: _Clock, limit: int,
                 changed: set[str]) -> LoadStats:
    """Load one source; adds to ``changed`` the calls whose clustering inputs may have changed."""
    stats = LoadStats()
    con.execute("DELETE FROM quarantine WHERE run_id = ? AND source = ?", [clock.run_id, batch.source])
    rejected = [_rejected_row(item, batch.source, clock) for item in batch.rejected]
    if batch.ok:
        accepted, invalid = _split_valid(batch)
        rejected += [_rejected_row(item, batch.source, clock) for item in invalid]
        existing = _existing(con, batch.source)
        rows, seen, versions = _plan(accepted, existing, clock, stats)
        rows += [_full_row(rec, existing[rec["id"]], clock) for rec in _differing(con, seen)]
        _write_calls(con, rows)
        _write_versions(con, versions, clock)
        _restamp(con, seen, {r["id"] for r in rows}, clock)
        _write_sources(con, accepted, clock)
        stored = {r["id"] for r in accepted}
        listed = _listed_ids(batch.source, [*batch.rejected, *invalid]) - stored
        _touch_listed(con, batch.source, listed, clock)
        vanished = _withdraw_vanished(con, batch.source, stored | listed, clock, limit)
        stats.withdrawn = len(vanished)
        changed.update(r["id"] for r in rows)
        changed.update(rec["id"] for rec, _ in seen if existing[rec["id"]]["status"] == "withdrawn")
        changed.update(vanished)
    _write_quarantine(con, rejected)
    stats.rejected = len(rejected)
    _write_run(con, batch, clock, stats)
    return stats


def _split_valid(batch: SourceBatch) -> tuple[list[dict], list[dict]]:
    """Records that can be stored, and quarantine items for the others (first occurrence of an id wins)."""
    accepted: list[dict] = []
    invalid: list[dict] = []
    seen: set[str] = set()
    for rec in batch.records:
        reason = record_problem(rec, batch.source)
        if reason is None and rec["id"] in seen:
            reason = f"duplicate id {rec['id']} in the batch"
        if reason is None:
            seen.add(rec["id"])
            accepted.append(rec)
        else:
            rec = rec if isinstance(rec, dict) else {"value": repr(rec)}
            invalid.append({"source": batch.source, "native_id": rec.get("native_id"), "url": rec.get("url"),
                            "reason": reason, "raw": rec})
    return accepted, invalid


def record_problem(rec: Any, source: str) -> str | None:
    """Why a record cannot be stored, or None."""
    if not isinstance(rec, dict):
        return f"record is {type(rec).__name__}, not an object"
    missing = [f for f in schema.RECORD_FIELDS if f not in rec]
    unknown = sorted(set(rec) - set(schema.RECORD_FIELDS))
    if missing or unknown:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown {', '.join(unknown)}"] if unknown else [])
        return "record fields: " + "; ".join(parts)
    if rec["source"] != source:
        return f"record of source {rec['source']!r} in the batch of {source!r}"
    try:
        schema.validate_record(rec)
    except schema.ValidationError as exc:
        return str(exc)
    for f in TEXT_FIELDS:
        if rec[f] is not None and not isinstance(rec[f], str):
            return f"{f} is {type(rec[f]).__name__}, not text"
    for f in LIST_FIELDS:
        if not isinstance(rec[f] or [], list) or not all(isinstance(v, str) for v in rec[f] or []):
            return f"{f} is not a list of text"
    if rec["is_call_for_projects"] is not None and not isinstance(rec["is_call_for_projects"], bool):
        return "is_call_for_projects is not a boolean"
    for f in JSON_FIELDS:
        if rec[f] is not None and not isinstance(rec[f], (dict, list)):
            return f"{f} is {type(rec[f]).__name__}, not a JSON object or list"
    for value in [rec["opens_on"], rec["next_deadline"], *(rec["deadlines"] or [])]:
        if value is not None:
            try:
                date.fromisoformat(str(value))
            except ValueError:
                return f"{value!r} is not a calendar date"
    return None


def _existing(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, dict[str, Any]]:
    rows = dict_rows(con, "SELECT id, content_hash, calendar_hash, version, first_seen_at, content_changed_at, "
                          "calendar_changed_at, status, cluster_id, is_preferred FROM calls WHERE source = ?",
                     [source])
    return {row["id"]: row for row in rows}


def _plan(records: list[dict], existing: dict[str, dict], clock: _Clock,
          stats: LoadStats) -> tuple[list[dict], list[tuple[dict, dict]], list[dict]]:
    """The call rows to write whole, the (record, seen row) pairs of calls whose hashes did not change, and
    the versions to open."""
    rows: list[dict] = []
    seen: list[tuple[dict, dict]] = []
    versions: list[dict] = []
    for rec in records:
        old = existing.get(rec["id"])
        if old is None:
            stats.new += 1
            row = _full_row(rec, None, clock)
            versions.append({"row": row, "previous": None})
            rows.append(row)
            continue
        hashes = schema.content_hash(rec), schema.calendar_hash(rec)
        if hashes == (old["content_hash"], old["calendar_hash"]):
            if old["status"] == "withdrawn":
                stats.updated += 1
            else:
                stats.unchanged += 1
            seen.append((rec, _seen_row(rec, clock)))
            continue
        stats.updated += 1
        row = _full_row(rec, old, clock)
        versions.append({"row": row, "previous": old["version"]})
        rows.append(row)
    return rows, seen, versions


def _full_row(rec: dict, old: dict | None, clock: _Clock) -> dict[str, Any]:
    row = _call_row(rec, clock)
    if old is None:
        row.update(version=1, first_seen_at=clock.at, content_changed_at=None, calendar_changed_at=None,
                   cluster_id=None, is_preferred=None)
        return row
    content = old["content_hash"] != row["content_hash"]
    calendar = old["calendar_hash"] != row["calendar_hash"]
    row.update(version=old["version"] + (content or calendar), first_seen_at=old["first_seen_at"],
               content_changed_at=clock.at if content else old["content_changed_at"],
               calendar_changed_at=clock.at if calendar else old["calendar_changed_at"],
               cluster_id=old["cluster_id"], is_preferred=old["is_preferred"])
    return row


#: stored columns of a call that its hashes do not cover and that come from the record alone
_UNHASHED = ("source_level", "native_id", "record_status", "deadline_flags", "ccas_evidence", "ccas_rule",
             "theme_evidence", "unmapped_labels", "raw")


def _seen_row(rec: dict, clock: _Clock) -> dict[str, Any]:
    """The columns of an unchanged call that a load may still change."""
    row = {f: rec[f] for f in ("id", "source_level", "ccas_evidence", "ccas_rule")}
    for f in ("deadline_flags", "unmapped_labels"):
        row[f] = list(rec[f] or [])
    for f in JSON_FIELDS:
        row[f] = None if rec[f] is None else json.dumps(rec[f], ensure_ascii=False, sort_keys=True, default=str)
    row["native_id"] = None if rec["native_id"] is None else str(rec["native_id"])
    row["record_status"] = rec["status"]
    row["status"] = current_status(rec, clock.as_of)
    upcoming = [d for d in sorted({date.fromisoformat(str(d)) for d in rec["deadlines"] or []}) if d >= clock.as_of]
    row["next_deadline"] = upcoming[0] if upcoming else None
    return row


def _differing(con: duckdb.DuckDBPyConnection, seen: list[tuple[dict, dict]]) -> list[dict]:
    """The records among ``seen`` whose unhashed columns differ from the stored ones: they are written
    whole."""
    if not seen:
        return []
    test = " OR ".join(f"c.{f} IS DISTINCT FROM s.{f}" for f in _UNHASHED)
    with staged(con, "_seen_calls", _arrow(con, "calls", [row for _, row in seen])):
        ids = {i for (i,) in con.execute(f"SELECT s.id FROM _seen_calls s JOIN calls c USING (id) "
                                         f"WHERE {test}").fetchall()}
    return [rec for rec, _ in seen if rec["id"] in ids]


def _restamp(con: duckdb.DuckDBPyConnection, seen: list[tuple[dict, dict]], written: set[str],
             clock: _Clock) -> None:
    """Unchanged calls: only their last sighting, status and next deadline move."""
    rows = [row for _, row in seen if row["id"] not in written]
    if not rows:
        return
    with staged(con, "_restamped", _arrow(con, "calls", rows, ("id", "status", "next_deadline"))):
        con.execute("UPDATE calls SET last_seen_at = ?, last_seen_run = ?, status = s.status, "
                    "next_deadline = s.next_deadline, withdrawn_at = NULL FROM _restamped s WHERE calls.id = s.id "
                    "AND (calls.last_seen_at IS DISTINCT FROM ? OR calls.last_seen_run IS DISTINCT FROM ? "
                    "OR calls.status IS DISTINCT FROM s.status OR calls.next_deadline IS DISTINCT FROM "
                    "s.next_deadline OR calls.withdrawn_at IS NOT NULL)",
                    [clock.at, clock.run_id, clock.at, clock.run_id])


def _call_row(rec: dict, clock: _Clock) -> dict[str, Any]:
    row = {f: rec[f] for f in schema.RECORD_FIELDS}
    for f in LIST_FIELDS:
        row[f] = list(rec[f] or [])
    row["deadlines"] = sorted({date.fromisoformat(str(d)) for d in row["deadlines"]})
    row["opens_on"] = date.fromisoformat(str(rec["opens_on"])) if rec["opens_on"] else None
    for f in JSON_FIELDS:
        row[f] = None if rec[f] is None else json.dumps(rec[f], ensure_ascii=False, sort_keys=True, default=str)
    for f in ("amount_min", "amount_max"):
        row[f] = None if rec[f] is None else float(rec[f])
    row["content_hash"] = schema.content_hash(rec)
    row["calendar_hash"] = schema.calendar_hash(rec)
    row["canonical_url"] = schema.canonical_url(rec["url"])
    row["native_id"] = None if rec["native_id"] is None else str(rec["native_id"])
    row["record_status"] = rec["status"]
    row["status"] = current_status(rec, clock.as_of)
    upcoming = [d for d in row["deadlines"] if d >= clock.as_of]
    row["next_deadline"] = upcoming[0] if upcoming else None
    row.update(last_seen_at=clock.at, last_seen_run=clock.run_id, withdrawn_at=None)
    return row


def current_status(rec: dict, as_of: date) -> str:
    """The status of a record on ``as_of``, from its deadlines; the record's own status is kept only when
    the dates say nothing (``unknown``), e.g. a portal's "Clôturé" with no date."""
    from transforms.deadlines import compute_status

    status = compute_status(rec["deadline_kind"], list(rec["deadlines"] or []), rec["opens_on"], as_of)
    return rec["status"] if status == "unknown" else status


# --- writes -----------------------------------------------------------------------------------------

_ARROW_TYPES = {
    "VARCHAR": pa.string(), "JSON": pa.string(), "VARCHAR[]": pa.list_(pa.string()), "DATE": pa.date32(),
    "DATE[]": pa.list_(pa.date32()), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "INTEGER": pa.int32(),
    "BIGINT": pa.int64(), "TIMESTAMP": pa.timestamp("us"),
}


def _arrow(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict],
           names: Iterable[str] | None = None) -> pa.Table:
    """Dict rows (their keys, or ``names``) as an Arrow table typed from the table's own columns."""
    columns = con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                          f"WHERE table_name = '{table}' ORDER BY ordinal_position").fetchall()
    names = set(rows[0] if names is None else names)
    return pa.table({c: pa.array([r[c] for r in rows], type=_ARROW_TYPES[t]) for c, t in columns if c in names})


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[dict], *, verb: str = "INSERT",
            replace: tuple[str, ...] = ()) -> None:
    """Insert dict rows through an Arrow table typed from the table's own columns; first delete the rows
    with the same ``replace`` key (a plain delete and insert is much faster than DuckDB's upsert)."""
    rows = list(rows)
    if not rows:
        return
    with staged(con, "_staging", _arrow(con, table, rows)):
        if replace:
            match = " AND ".join(f"{table}.{k} = s.{k}" for k in replace)
            con.execute(f"DELETE FROM {table} USING _staging s WHERE {match}")
        con.execute(f"{verb} INTO {table} BY NAME SELECT * FROM _staging")


def _write_calls(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    _insert(con, "calls", rows, replace=("id",))


def _write_versions(con: duckdb.DuckDBPyConnection, versions: list[dict], clock: _Clock) -> None:
    if not versions:
        return
    previous = _previous_records(con, [(v["row"]["id"], v["previous"]) for v in versions if v["previous"]])
    replaced = [v["row"]["id"] for v in versions if v["previous"]]
    if replaced:
        with staged(con, "_closing", {"call_id": replaced}):
            con.execute("UPDATE call_versions SET valid_to = ? WHERE valid_to IS NULL "
                        "AND call_id IN (SELECT call_id FROM _closing)", [clock.at])
    out = []
    for item in versions:
        row = item["row"]
        record = version_record(row)
        if item["previous"] is None:
            kind, text = "new", "first seen"
        else:
            kind, text = describe_changes(previous.get(row["id"]), record)
        out.append({"call_id": row["id"], "version": row["version"], "valid_from": clock.at, "valid_to": None,
                    "run_id": clock.run_id, "change_kind": kind, "changes": text,
                    "content_hash": row["content_hash"], "calendar_hash": row["calendar_hash"],
                    "record": json.dumps(record, ensure_ascii=False, sort_keys=True)})
    _insert(con, "call_versions", out, replace=("call_id", "version"))


def _previous_records(con: duckdb.DuckDBPyConnection, keys: list[tuple[str, int]]) -> dict[str, dict]:
    if not keys:
        return {}
    arrow = pa.table({"call_id": [k for k, _ in keys], "version": pa.array([v for _, v in keys], pa.int32())})
    with staged(con, "_wanted", arrow):
        found = con.execute("SELECT v.call_id, v.record FROM call_versions v JOIN _wanted w "
                            "USING (call_id, version)").fetchall()
    return {call_id: json.loads(record) for call_id, record in found}


def _write_sources(con: duckdb.DuckDBPyConnection, records: list[dict], clock: _Clock) -> None:
    if not records:
        return
    native_ids = [None if r["native_id"] is None else str(r["native_id"]) for r in records]
    arrow = pa.table({"call_id": [r["id"] for r in records], "source": [r["source"] for r in records],
                      "native_id": pa.array(native_ids, pa.string()),
                      "url": [r["url"] for r in records]})
    with staged(con, "_seen", arrow):
        con.execute(
            "INSERT INTO call_sources SELECT call_id, source, native_id, url, ?, ?, ? FROM _seen "
            "ON CONFLICT (call_id, url) DO UPDATE SET native_id = excluded.native_id, "
            "last_seen_at = excluded.last_seen_at, last_run_id = excluded.last_run_id",
            [clock.at, clock.at, clock.run_id])


def _listed_ids(source: str, items: list[Any]) -> set[str]:
    """Ids of the calls a source still lists but that could not be stored this time (rejected or
    invalid): they have not vanished."""
    ids: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        raw = item.get("raw")
        if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw.get("source") == source:
            ids.add(raw["id"])
        elif isinstance(item.get("url"), str) and item["url"].strip():
            try:
                ids.add(schema.record_id(source, item.get("native_id"), item["url"]))
            except ValueError:
                continue
    return ids


def _touch_listed(con: duckdb.DuckDBPyConnection, source: str, ids: set[str], clock: _Clock) -> None:
    """A stored call listed again but not storable this time: still seen, its stored state is kept."""
    if not ids:
        return
    with staged(con, "_listed", {"id": sorted(ids)}):
        con.execute("UPDATE calls SET last_seen_at = ?, last_seen_run = ? WHERE source = ? "
                    "AND status <> 'withdrawn' AND id IN (SELECT id FROM _listed)",
                    [clock.at, clock.run_id, source])


def _withdraw_vanished(con: duckdb.DuckDBPyConnection, source: str, seen: set[str], clock: _Clock,
                       limit: int) -> list[str]:
    """Withdraw the calls of ``source`` missing from ``limit`` successful harvests in a row (this one
    included). Counting harvests rather than incrementing a counter keeps a re-run of the same harvest
    from counting twice."""
    candidates = con.execute(
        "SELECT c.id, 1 + (SELECT count(*) FROM harvest_runs r WHERE r.source = c.source AND r.ok "
        "AND r.run_id <> ? AND r.harvested_at > c.last_seen_at AND r.harvested_at < ?) AS missed "
        "FROM calls c WHERE c.source = ? AND c.status <> 'withdrawn'",
        [clock.run_id, clock.at, source]).fetchall()
    vanished = [call_id for call_id, missed in candidates if call_id not in seen and missed >= limit]
    if vanished:
        with staged(con, "_vanished", {"id": vanished}):
            con.execute("UPDATE calls SET status = 'withdrawn', withdrawn_at = ? "
                        "WHERE id IN (SELECT id FROM _vanished)", [clock.at])
    return vanished


def _rejected_row(item: Any, source: str, clock: _Clock) -> dict[str, Any]:
    item = item if isinstance(item, dict) else {"reason": f"rejected item is {type(item).__name__}",
                                                "raw": repr(item)}
    raw = item.get("raw")
    return {"run_id": clock.run_id, "source": str(item.get("source") or source),
            "native_id": None if item.get("native_id") is None else str(item["native_id"]),
            "url": None if item.get("url") is None else str(item["url"]),
            "reason": str(item.get("reason") or "rejected without a reason"),
            "raw": json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str),
            "quarantined_at": clock.at}


def _write_quarantine(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    _insert(con, "quarantine", rows)


def _crawl_value(key: str, value: Any) -> Any:
    """A crawl statistic in its column's type; an unreadable number is stored as NULL, not a failure."""
    if value is None:
        return None
    if key in ("items", "requests", "bytes_downloaded"):
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if key == "duration_s":
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return str(value)


_CRAWL_COLUMNS = ("items", "requests", "bytes_downloaded", "duration_s", "started_at", "finished_at",
                  "finish_reason", "reason")


def _write_run(con: duckdb.DuckDBPyConnection, batch: SourceBatch, clock: _Clock, stats: LoadStats) -> None:
    crawl = batch.crawl or {}
    row: dict[str, Any] = {"run_id": clock.run_id, "source": batch.source, "ok": bool(batch.ok),
                           "harvested_at": clock.at}
    for key in _CRAWL_COLUMNS:
        row[key] = _crawl_value(key, crawl.get(key))
    for key in ("responses", "errors", "failed_urls"):
        row[key] = json.dumps(crawl.get(key), ensure_ascii=False, sort_keys=True, default=str)
    row.update(new=stats.new, updated=stats.updated, unchanged=stats.unchanged, withdrawn=stats.withdrawn,
               rejected=stats.rejected)
    _insert(con, "harvest_runs", [row], verb="INSERT OR REPLACE")
