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
import weakref
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import orjson

from pipeline import gcpause, schema, settings
from pipeline.schema import JSON_FIELDS, LIST_FIELDS
from warehouse.clusters import only_around, recluster
from warehouse.db import SharedInstance, WarehouseError, connect, dict_rows, release, staged, utc_naive
from warehouse.versions import describe_changes, record_sql

if TYPE_CHECKING:  # imported where Arrow tables are built: a rerun that writes no call never needs it
    import pyarrow as pa


@dataclass(frozen=True)
class SourceBatch:
    """What one source contributed to a harvest.

    ``raw_hashes`` maps the id of a record to the hash of the raw item it was transformed from (stored in
    ``calls.raw_hash``); ``unchanged`` maps the id of a stored call to the hash of a raw item the harvest
    did not transform again because the call was stored with that very hash: the call is seen, unchanged
    (only its last sighting, status and next deadline move)."""

    source: str
    ok: bool
    records: list[dict[str, Any]]
    rejected: list[dict[str, Any]] = field(default_factory=list)
    crawl: dict[str, Any] = field(default_factory=dict)
    raw_hashes: dict[str, str] = field(default_factory=dict)
    unchanged: dict[str, str] = field(default_factory=dict)
    #: the records come straight from ``transforms.normalize.to_record`` in this process, which checked
    #: each against :func:`schema.record_problem`: the loader only checks their source and ids
    checked: bool = False


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
    #: no row of this run was stored before this load: none of its sources' rows is there to replace
    first: bool = False


def _restamp_columns() -> dict[str, list]:
    """Empty columns of the restamps of calls seen unchanged (:func:`_restamp`)."""
    return {"id": [], "status": [], "next_deadline": [], "raw_hash": [], "record_status": []}


@dataclass
class _Deferred:
    """The writes every source's load makes and that no later statement of the harvest reads before its
    end: the restamps of the calls seen unchanged (``calls`` and ``call_sources``) and the sources'
    ``harvest_runs`` rows. They are made once for the whole harvest, when it ends: an UPDATE costs about
    the same for 250 calls as for 1 000 (2.4 ms), and a rerun that changes nothing writes little else."""

    restamped: dict[str, list] = field(default_factory=_restamp_columns)
    again: list[str] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def write(self, con: duckdb.DuckDBPyConnection, clock: _Clock) -> None:
        _restamp(con, self.restamped, clock)
        _restamp_sources(con, self.again, clock)
        _insert(con, "harvest_runs", self.runs, replace=() if clock.first else ("run_id", "source"))


def load_harvest(db_path: str | Path, batches: list[SourceBatch], *, now: datetime, run_id: str,
                 withdraw_after: int | None = None) -> dict[str, LoadStats]:
    """Load one harvest in a single transaction; on any error nothing is written."""
    sources = [b.source for b in batches]
    duplicated = sorted({s for s in sources if sources.count(s) > 1})
    if duplicated:
        raise ValueError(f"several batches for source(s) {', '.join(duplicated)}")
    if any(not str(s or "").strip() for s in sources):
        raise ValueError("a batch has an empty source name")
    with HarvestLoad(db_path, now=now, run_id=run_id, withdraw_after=withdraw_after) as load:
        for batch in batches:
            load.add(batch)
    return load.stats


class HarvestLoad:
    """One harvest's warehouse transaction, fed one source at a time, so a harvest need not hold every
    source's records at once::

        with HarvestLoad(db, now=now, run_id=run_id) as load:
            known = load.raw_hashes(["grand_est"])    # before transforming: what is stored
            load.add(SourceBatch(...))                # each source as soon as it is ready
        load.stats

    Leaving the block normally reclusters and commits; an exception rolls everything back (nothing of
    the harvest is written). Use it from one thread at a time. With ``shared``, the warehouse is opened in
    that DuckDB instance (:class:`warehouse.db.SharedInstance`) and closed in it when the block ends."""

    def __init__(self, db_path: str | Path, *, now: datetime, run_id: str, withdraw_after: int | None = None,
                 shared: SharedInstance | None = None):
        if not str(run_id).strip():
            raise ValueError("run_id is empty")
        self.limit = settings.withdraw_after() if withdraw_after is None else withdraw_after
        if self.limit < 1:
            raise ValueError(f"withdraw_after must be at least 1, not {self.limit}")
        self.db_path = db_path
        self.shared = shared
        self.clock = _Clock(run_id, utc_naive(now), _local_date(now))
        self.stats: dict[str, LoadStats] = {}
        self._changed: set[str] = set()
        self._deferred = _Deferred()
        self._con: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> HarvestLoad:
        con = connect(self.db_path, shared=self.shared)
        try:
            con.execute("SET memory_limit = ?", [settings.load_memory()])
            # the commit writes the harvest straight into the database file (a checkpoint) rather than
            # into the write-ahead log first and the file again when the connection closes
            con.execute("SET checkpoint_threshold = '0b'")
            con.execute("BEGIN TRANSACTION")
            (gone,), = con.execute("DELETE FROM harvests WHERE run_id = ?", [self.clock.run_id]).fetchall()
            self.clock = replace(self.clock, first=not gone)
            _insert(con, "harvests", [{"run_id": self.clock.run_id, "harvested_at": self.clock.at,
                                       "as_of": self.clock.as_of, "loaded_at": self.clock.at}])
        except BaseException:
            release(con, self.shared)
            raise
        self._con = con
        return self

    def raw_hashes(self, sources: Iterable[str]) -> dict[str, dict[str, str]]:
        """``{source: {raw hash: call id}}`` of the stored calls of ``sources`` that have one (one query)."""
        found: dict[str, dict[str, str]] = {source: {} for source in sources}
        for source, digest, call_id in self._connection().execute(
                "SELECT source, raw_hash, id FROM calls WHERE raw_hash IS NOT NULL AND list_contains(?, source)",
                [list(found)]).fetchall():
            found[source][digest] = call_id
        return found

    def last_durations(self) -> dict[str, float]:
        """Each source's crawl duration in its latest harvest (seconds), for ordering the next crawls."""
        return dict(self._connection().execute(
            "SELECT source, duration_s FROM (SELECT source, duration_s, row_number() OVER (PARTITION BY source "
            "ORDER BY harvested_at DESC, rowid DESC) AS latest FROM harvest_runs WHERE duration_s IS NOT NULL) "
            "WHERE latest = 1").fetchall())

    def add(self, batch: SourceBatch) -> LoadStats:
        """Load one source's batch (once per source)."""
        if not str(batch.source or "").strip():
            raise ValueError("a batch has an empty source name")
        if batch.source in self.stats:
            raise ValueError(f"several batches for source(s) {batch.source}")
        with gcpause.paused():
            stats = _load_source(self._connection(), batch, self.clock, self.limit, self._changed,
                                 self._deferred)
        self.stats[batch.source] = stats
        return stats

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("HarvestLoad is used outside its `with` block")
        return self._con

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        con, self._con = self._connection(), None
        try:
            if exc_type is None:
                try:
                    with only_around(self._changed), gcpause.paused():
                        self._deferred.write(con, self.clock)
                        recluster(con)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            else:
                con.execute("ROLLBACK")
        finally:
            # for other connections to the same database or instance; never masks the load's own error
            with suppress(duckdb.Error):
                con.execute("RESET checkpoint_threshold")
                con.execute("RESET memory_limit")
            release(con, self.shared)


def _local_date(now: datetime) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(settings.TIMEZONE).date()


# --- one source -------------------------------------------------------------------------------------

#: the calls a source writes go to DuckDB this many at a time: their columns and Arrow table are built for
#: each part only (at N = 10 000, 3 500 calls made a 9 MB table, held with their columns while DuckDB
#: copied them)
WRITE_CHUNK = 1000


def _load_source(con: duckdb.DuckDBPyConnection, batch: SourceBatch, clock: _Clock, limit: int,
                 changed: set[str], deferred: _Deferred) -> LoadStats:
    """Load one source; adds to ``changed`` the calls whose clustering inputs may have changed and to
    ``deferred`` the writes made at the harvest's end."""
    stats = LoadStats()
    if not clock.first:  # the same run loaded again: its rows are replaced
        con.execute("DELETE FROM quarantine WHERE run_id = ? AND source = ?", [clock.run_id, batch.source])
    rejected = [_rejected_row(item, batch.source, clock) for item in batch.rejected]
    if batch.ok:
        accepted, invalid = _split_valid(batch)
        rejected += [_rejected_row(item, batch.source, clock) for item in invalid]
        existing = _existing(con, batch.source)
        versioned, seen = _plan(accepted, existing, stats)
        differing = _differing(con, seen, clock)
        written = versioned + differing
        for start in range(0, len(written), WRITE_CHUNK):  # (the versioned calls come first)
            part = written[start:start + WRITE_CHUNK]
            olds = [existing.get(rec["id"]) for rec in part]
            columns = _call_columns(part, olds, clock)
            columns["raw_hash"] = [batch.raw_hashes.get(i) for i in columns["id"]]
            calls = _arrow(con, "calls", columns)
            _insert(con, "calls", calls, replace=("id",))
            opened = max(0, min(len(part), len(versioned) - start))
            _write_versions(con, calls.slice(0, opened), olds[:opened], clock)
        ids = {rec["id"] for rec in written}
        restamped = _call_columns([rec for rec in seen if rec["id"] not in ids], [], clock,
                                  ("status", "next_deadline", "record_status"))
        restamped["raw_hash"] = [batch.raw_hashes.get(i) for i in restamped["id"]]
        stored = {r["id"] for r in accepted}
        unchanged = {i: h for i, h in batch.unchanged.items() if i not in stored}
        again = _unchanged_columns(batch.source, unchanged, existing, clock, stats)
        for name, values in again.items():
            restamped[name] += values
        for name, values in restamped.items():
            deferred.restamped[name] += values
        _write_sources(con, accepted, clock)
        deferred.again += again["id"]
        listed = _listed_ids(batch.source, [*batch.rejected, *invalid]) - stored - set(unchanged)
        _touch_listed(con, batch.source, listed, clock)
        vanished = _withdraw_vanished(con, batch.source, stored | listed | set(unchanged), existing, clock, limit)
        stats.withdrawn = len(vanished)
        changed.update(ids)
        changed.update(i for i in [*(rec["id"] for rec in seen), *unchanged] if existing[i]["status"] == "withdrawn")
        changed.update(vanished)
    _write_quarantine(con, rejected)
    stats.rejected = len(rejected)
    deferred.runs.append(_run_row(batch, clock, stats))
    return stats


def _split_valid(batch: SourceBatch) -> tuple[list[dict], list[dict]]:
    """Records that can be stored, and quarantine items for the others (first occurrence of an id wins)."""
    accepted: list[dict] = []
    invalid: list[dict] = []
    seen: set[str] = set()
    for rec in batch.records:
        reason = record_problem(rec, batch.source, checked=batch.checked)
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


def record_problem(rec: Any, source: str, *, checked: bool = False) -> str | None:
    """Why a record cannot be stored in the batch of ``source``, or None: :func:`schema.record_problem`
    (skipped when ``checked``: the record was made by ``to_record``, which checks it) and its source."""
    if not isinstance(rec, dict):
        return f"record is {type(rec).__name__}, not an object"
    problem = None if checked else schema.record_problem(rec)
    if problem is None and rec.get("source") != source:
        return f"record of source {rec.get('source')!r} in the batch of {source!r}"
    return problem


def _existing(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, dict[str, Any]]:
    rows = dict_rows(con, "SELECT id, content_hash, calendar_hash, version, first_seen_at, content_changed_at, "
                          "calendar_changed_at, status, cluster_id, is_preferred, raw_hash, deadline_kind, deadlines, "
                          "opens_on, record_status FROM calls WHERE source = ?", [source])
    return {row["id"]: row for row in rows}


def _plan(records: list[dict], existing: dict[str, dict], stats: LoadStats) -> tuple[list[dict], list[dict]]:
    """The records that open a version (new calls, content or calendar hash changed), and those whose
    hashes did not change (``seen``)."""
    versioned: list[dict] = []
    seen: list[dict] = []
    for rec in records:
        old = existing.get(rec["id"])
        if old is None:
            stats.new += 1
            versioned.append(rec)
        elif rec["content_hash"] == old["content_hash"] and rec["calendar_hash"] == old["calendar_hash"]:
            if old["status"] == "withdrawn":
                stats.updated += 1
            else:
                stats.unchanged += 1
            seen.append(rec)
        else:
            stats.updated += 1
            versioned.append(rec)
    return versioned, seen


#: record fields stored as they are
_PLAIN = tuple(f for f in schema.RECORD_FIELDS if f not in LIST_FIELDS + JSON_FIELDS
               + ("native_id", "opens_on", "amount_min", "amount_max", "status", "next_deadline"))


class StoredJSON(bytes):
    """A record's JSON field already as the load stores it (:func:`stored_json`, UTF-8). A harvest makes
    each record's ``raw`` one as soon as the record is made: the text takes about half the memory of the
    parsed item, which the harvest would otherwise hold until its source's load (13 MB less for the
    7 000 records of two sources at N = 10 000), and the load then has nothing left to serialise."""

    def __str__(self) -> str:  # the text itself where a quarantine row's JSON meets it (``default=str``)
        return self.decode()


def _json_bytes(value: Any) -> bytes:
    """A JSON field as stored, in UTF-8: keys sorted, compact, by orjson (0.08 s of CPU for the ``raw`` and
    ``theme_evidence`` of 10 000 calls, against 0.26 s with ``json``). What orjson refuses (an integer
    beyond 64 bits, text with a lone surrogate) goes through ``json``, so such a value is stored, not a
    failure (a lone surrogate as "?")."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8", "replace")


def stored_json(value: Any) -> StoredJSON | None:
    """``value`` (a record's ``raw``) in the form the load stores it."""
    return None if value is None else StoredJSON(_json_bytes(value))


def _json(value: Any) -> bytes | None:
    """A record's JSON field as stored, in UTF-8 (Arrow reads it as text), a :class:`StoredJSON` as it is."""
    if value is None:
        return None
    return value if type(value) is StoredJSON else _json_bytes(value)


def _call_columns(recs: list[dict], olds: list[dict | None], clock: _Clock,
                  fields: Iterable[str] | None = None) -> dict[str, list]:
    """The ``calls`` columns of ``recs`` (``olds``: their stored state, None for new calls), column by
    column; ``fields`` limits them to those columns (plus ``id``)."""
    want = None if fields is None else {"id", *fields}

    def wanted(f: str) -> bool:
        return want is None or f in want

    cols: dict[str, list] = {f: [r[f] for r in recs] for f in _PLAIN if wanted(f)}
    for f in LIST_FIELDS:
        if wanted(f) or (f == "deadlines" and wanted("next_deadline")):
            cols[f] = [r[f] or [] for r in recs]  # shared with the record: nothing here changes them
    if "deadlines" in cols:
        cols["deadlines"] = [sorted({date.fromisoformat(str(d)) for d in ds}) for ds in cols["deadlines"]]
    if wanted("opens_on"):
        cols["opens_on"] = [date.fromisoformat(str(r["opens_on"])) if r["opens_on"] else None for r in recs]
    for f in JSON_FIELDS:
        if wanted(f):
            cols[f] = [_json(r[f]) for r in recs]
    for f in ("amount_min", "amount_max"):
        if wanted(f):
            cols[f] = [None if r[f] is None else float(r[f]) for r in recs]
    if wanted("canonical_url"):
        cols["canonical_url"] = [schema.canonical_url(r["url"]) for r in recs]
    if wanted("native_id"):
        cols["native_id"] = [None if r["native_id"] is None else str(r["native_id"]) for r in recs]
    if wanted("record_status"):
        cols["record_status"] = [r["status"] for r in recs]
    if wanted("status"):
        cols["status"] = [current_status(r, clock.as_of) for r in recs]
    if wanted("next_deadline"):
        as_of = clock.as_of
        cols["next_deadline"] = [next((d for d in ds if d >= as_of), None) for ds in cols["deadlines"]]
    if want is not None:
        return {f: v for f, v in cols.items() if f in want}
    n = len(recs)
    cols.update(last_seen_at=[clock.at] * n, last_seen_run=[clock.run_id] * n, withdrawn_at=[None] * n)
    version, first, content_at, calendar_at, cluster, preferred = [], [], [], [], [], []
    for rec, old in zip(recs, olds, strict=True):
        if old is None:
            version.append(1)
            first.append(clock.at)
            content_at.append(None)
            calendar_at.append(None)
            cluster.append(None)
            preferred.append(None)
            continue
        content = old["content_hash"] != rec["content_hash"]
        calendar = old["calendar_hash"] != rec["calendar_hash"]
        version.append(old["version"] + (content or calendar))
        first.append(old["first_seen_at"])
        content_at.append(clock.at if content else old["content_changed_at"])
        calendar_at.append(clock.at if calendar else old["calendar_changed_at"])
        cluster.append(old["cluster_id"])
        preferred.append(old["is_preferred"])
    cols.update(version=version, first_seen_at=first, content_changed_at=content_at,
                calendar_changed_at=calendar_at, cluster_id=cluster, is_preferred=preferred)
    return cols


#: stored columns of a call that its hashes do not cover and that come from the record alone
_UNHASHED = ("source_level", "native_id", "record_status", "deadline_flags", "ccas_evidence", "ccas_rule",
             "theme_evidence", "unmapped_labels", "raw")


def _differing(con: duckdb.DuckDBPyConnection, seen: list[dict], clock: _Clock) -> list[dict]:
    """The records among ``seen`` whose unhashed columns differ from the stored ones: they are written
    whole."""
    if not seen:
        return []
    test = " OR ".join(f"c.{f} IS DISTINCT FROM s.{f}" for f in _UNHASHED)
    columns = _call_columns(seen, [], clock, _UNHASHED)
    with staged(con, "_seen_calls", _arrow(con, "calls", columns)):
        ids = {i for (i,) in con.execute(f"SELECT s.id FROM _seen_calls s JOIN calls c USING (id) "
                                         f"WHERE {test}").fetchall()}
    return [rec for rec in seen if rec["id"] in ids]


def _unchanged_columns(source: str, unchanged: dict[str, str], existing: dict[str, dict], clock: _Clock,
                       stats: LoadStats) -> dict[str, list]:
    """The restamp columns (``id``, ``status``, ``record_status``, ``next_deadline``, ``raw_hash``) of the
    calls a harvest saw unchanged (not transformed again), from their stored record (``existing``, read in
    this load's transaction); each must still be stored with the raw hash the harvest read, or the load
    fails (another load changed the warehouse meanwhile)."""
    if not unchanged:
        return _restamp_columns()
    lost = sorted(i for i, digest in unchanged.items() if i not in existing or existing[i]["raw_hash"] != digest)
    if lost:
        raise WarehouseError(f"{len(lost)} call(s) of {source} seen unchanged are no longer stored as read "
                             f"(e.g. {lost[0]}): the warehouse changed during the harvest")
    stored = [{"id": i, "deadline_kind": existing[i]["deadline_kind"], "deadlines": existing[i]["deadlines"],
               "opens_on": existing[i]["opens_on"], "status": existing[i]["record_status"]} for i in unchanged]
    columns = _call_columns(stored, [], clock, ("status", "next_deadline"))
    # what a transform on this day would give (the harvest transforms again any call whose record
    # depends on the date in another way: ``transforms.deadlines.depends_on_run_date``)
    columns["record_status"] = list(columns["status"])
    columns["raw_hash"] = [unchanged[i] for i in columns["id"]]
    for call_id in columns["id"]:
        if existing[call_id]["status"] == "withdrawn":
            stats.updated += 1
        else:
            stats.unchanged += 1
    return columns


def _restamp(con: duckdb.DuckDBPyConnection, columns: dict[str, list], clock: _Clock) -> None:
    """Unchanged calls: only their last sighting, status, record status, next deadline and raw hash move."""
    if not columns["id"]:
        return
    with staged(con, "_restamped", columns):
        con.execute("UPDATE calls SET last_seen_at = ?, last_seen_run = ?, status = s.status, "
                    "record_status = s.record_status, next_deadline = s.next_deadline, withdrawn_at = NULL, "
                    "raw_hash = s.raw_hash FROM _restamped s WHERE calls.id = s.id "
                    "AND (calls.last_seen_at IS DISTINCT FROM ? OR calls.last_seen_run IS DISTINCT FROM ? "
                    "OR calls.status IS DISTINCT FROM s.status OR calls.record_status IS DISTINCT FROM s.record_status "
                    "OR calls.next_deadline IS DISTINCT FROM s.next_deadline OR calls.withdrawn_at IS NOT NULL "
                    "OR calls.raw_hash IS DISTINCT FROM s.raw_hash)",
                    [clock.at, clock.run_id, clock.at, clock.run_id])


def _restamp_sources(con: duckdb.DuckDBPyConnection, ids: list[str], clock: _Clock) -> None:
    """Provenance of calls seen unchanged: their stored URL was seen again."""
    if not ids:
        return
    with staged(con, "_again", {"id": ids}):
        con.execute("UPDATE call_sources SET last_seen_at = ?, last_run_id = ? FROM calls c "
                    "WHERE call_sources.call_id = c.id AND call_sources.url = c.url "
                    "AND c.id IN (SELECT id FROM _again)", [clock.at, clock.run_id])


def current_status(rec: dict, as_of: date) -> str:
    """The status of a record on ``as_of``, from its deadlines; the record's own status is kept only when
    the dates say nothing (``unknown``), e.g. a portal's "Clôturé" with no date."""
    status = schema.compute_status(rec["deadline_kind"], list(rec["deadlines"] or []), rec["opens_on"], as_of)
    return rec["status"] if status == "unknown" else status


# --- writes -----------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _arrow_types() -> dict[str, pa.DataType]:
    """The Arrow type of each DuckDB column type the tables use."""
    import pyarrow as pa

    return {"VARCHAR": pa.string(), "JSON": pa.string(), "VARCHAR[]": pa.list_(pa.string()),
            "DATE": pa.date32(), "DATE[]": pa.list_(pa.date32()), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(),
            "INTEGER": pa.int32(), "BIGINT": pa.int64(), "TIMESTAMP": pa.timestamp("us")}


#: per connection (a load's own, opened after the migrations): ``{table: its column types}``
_TYPES: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict[str, list[tuple[str, str]]]] = (
    weakref.WeakKeyDictionary())


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    known = _TYPES.setdefault(con, {})
    if table not in known:
        known[table] = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = current_schema() AND table_name = ? ORDER BY column_index", [table]).fetchall()
    return known[table]


def _arrow(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, list]) -> pa.Table:
    """Python columns as an Arrow table typed from the table's own columns (those given), in the C
    library's memory pool: Arrow's default one (mimalloc) keeps far more memory than these short-lived
    tables need (about 4× at 3 500 calls)."""
    import pyarrow as pa

    types, pool = _arrow_types(), pa.system_memory_pool()
    return pa.table({c: pa.array(columns[c], type=types[t], memory_pool=pool)
                     for c, t in _column_types(con, table) if c in columns})


#: at most this many rows given as dicts are bound as a statement's parameters (not bytes: DuckDB would take
#: them for a BLOB): staging even one row as an Arrow table costs 2–3 ms, the statements about 1 ms
FEW_ROWS = 8


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict] | dict[str, list] | pa.Table, *,
            replace: tuple[str, ...] = ()) -> None:
    """Insert rows (dicts, columns, or an Arrow table) through an Arrow table typed from the table's own
    columns, or, for up to :data:`FEW_ROWS` dicts of plain values, as parameters; first delete the rows
    with the same ``replace`` key (a plain delete and insert is much faster than DuckDB's upsert: 1.6 ms
    against 5 ms for one row)."""
    if isinstance(rows, list):
        if not rows:
            return
        if len(rows) <= FEW_ROWS and not any(isinstance(v, bytes) for r in rows for v in r.values()):
            names = list(rows[0])
            if replace:
                match = " OR ".join(["(" + " AND ".join(f"{k} = ?" for k in replace) + ")"] * len(rows))
                con.execute(f"DELETE FROM {table} WHERE {match}", [r[k] for r in rows for k in replace])
            values = ", ".join(["(" + ", ".join(["?"] * len(names)) + ")"] * len(rows))
            con.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES {values}",
                        [r[n] for r in rows for n in names])
            return
        rows = {k: [r[k] for r in rows] for k in rows[0]}
    if isinstance(rows, dict):
        if not next(iter(rows.values()), None):
            return
        rows = _arrow(con, table, rows)
    if not rows.num_rows:
        return
    with staged(con, "_staging", rows):
        if replace:
            match = " AND ".join(f"{table}.{k} = s.{k}" for k in replace)
            con.execute(f"DELETE FROM {table} USING _staging s WHERE {match}")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _staging")


def _write_versions(con: duckdb.DuckDBPyConnection, calls: pa.Table, olds: list[dict | None],
                    clock: _Clock) -> None:
    """A version for each call of ``calls`` (as inserted; ``olds``: their stored state, None for new
    calls). The version records are built by DuckDB from the inserted columns; a changed call's change is
    described from its previous version record."""
    if not olds:
        return
    ids = calls.column("id").to_pylist()
    replaced = [i for i, old in zip(ids, olds, strict=True) if old]
    changes: dict[str, list] = {"id": [], "change_kind": [], "changes": []}
    with staged(con, "_versioned", calls):
        if replaced:
            previous = _previous_records(con, [(i, old["version"]) for i, old in zip(ids, olds, strict=True)
                                               if old])
            with staged(con, "_closing", {"id": replaced}):
                con.execute("UPDATE call_versions SET valid_to = ? WHERE valid_to IS NULL "
                            "AND call_id IN (SELECT id FROM _closing)", [clock.at])
                records = dict(con.execute(f"SELECT v.id, {record_sql('v')} FROM _versioned v "
                                           "JOIN _closing USING (id)").fetchall())
            for call_id in replaced:
                kind, text = describe_changes(previous.get(call_id), json.loads(records[call_id]))
                changes["id"].append(call_id)
                changes["change_kind"].append(kind)
                changes["changes"].append(text)
        with staged(con, "_changes", changes):
            con.execute("DELETE FROM call_versions USING _versioned v "
                        "WHERE call_versions.call_id = v.id AND call_versions.version = v.version")
            con.execute(
                "INSERT INTO call_versions (call_id, version, valid_from, valid_to, run_id, change_kind, changes, "
                "content_hash, calendar_hash, record) "
                "SELECT v.id, v.version, ?, NULL, ?, coalesce(c.change_kind, 'new'), "
                f"coalesce(c.changes, 'first seen'), v.content_hash, v.calendar_hash, {record_sql('v')} "
                "FROM _versioned v LEFT JOIN _changes c USING (id)", [clock.at, clock.run_id])


def _previous_records(con: duckdb.DuckDBPyConnection, keys: list[tuple[str, int]]) -> dict[str, dict]:
    if not keys:
        return {}
    with staged(con, "_wanted", {"call_id": [k for k, _ in keys], "version": [v for _, v in keys]}):
        found = con.execute("SELECT v.call_id, v.record FROM call_versions v JOIN _wanted w "
                            "USING (call_id, version)").fetchall()
    return {call_id: json.loads(record) for call_id, record in found}


def _write_sources(con: duckdb.DuckDBPyConnection, records: list[dict], clock: _Clock) -> None:
    if not records:
        return
    native_ids = [None if r["native_id"] is None else str(r["native_id"]) for r in records]
    with staged(con, "_seen", {"call_id": [r["id"] for r in records], "source": [r["source"] for r in records],
                               "native_id": native_ids, "url": [r["url"] for r in records]}):
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


def _withdraw_vanished(con: duckdb.DuckDBPyConnection, source: str, seen: set[str],
                       existing: dict[str, dict[str, Any]], clock: _Clock, limit: int) -> list[str]:
    """Withdraw the calls of ``source`` missing from ``limit`` successful harvests in a row (this one
    included). Counting harvests rather than incrementing a counter keeps a re-run of the same harvest
    from counting twice. When every call the source had stored (``existing``, read at the start of its
    load) and not withdrawn is ``seen``, none can have vanished and the harvests are not counted (a
    statement of 1.5–2 ms for 250 calls: most harvests of a source list all its calls)."""
    if all(call_id in seen or row["status"] == "withdrawn" for call_id, row in existing.items()):
        return []
    candidates = con.execute(
        "SELECT c.id FROM calls c LEFT JOIN harvest_runs r ON r.source = c.source AND r.ok AND r.run_id <> ? "
        "AND r.harvested_at > c.last_seen_at AND r.harvested_at < ? WHERE c.source = ? AND c.status <> 'withdrawn' "
        "GROUP BY c.id HAVING 1 + count(r.run_id) >= ?", [clock.run_id, clock.at, source, limit]).fetchall()
    vanished = sorted(call_id for (call_id,) in candidates if call_id not in seen)
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


def _run_row(batch: SourceBatch, clock: _Clock, stats: LoadStats) -> dict[str, Any]:
    """A source's ``harvest_runs`` row."""
    crawl = batch.crawl or {}
    row: dict[str, Any] = {"run_id": clock.run_id, "source": batch.source, "ok": bool(batch.ok),
                           "harvested_at": clock.at}
    for key in _CRAWL_COLUMNS:
        row[key] = _crawl_value(key, crawl.get(key))
    for key in ("responses", "errors", "failed_urls"):
        row[key] = json.dumps(crawl.get(key), ensure_ascii=False, sort_keys=True, default=str)
    row.update(new=stats.new, updated=stats.updated, unchanged=stats.unchanged, withdrawn=stats.withdrawn,
               rejected=stats.rejected)
    return row
