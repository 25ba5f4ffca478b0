"""Read queries over the warehouse tables that the Dagster checks and metadata need.

They take an open DuckDB connection (the warehouse inside the writer pool, or the read-only snapshot) and
return plain rows, which the pure rules of :mod:`dagster_project.quality` judge.
"""

from __future__ import annotations

from typing import Any

import duckdb

#: columns of ``calls`` the checks and the preview read
RUN_COLUMNS = ("id", "title", "url", "deadline_kind", "deadlines", "next_deadline", "status", "funder",
               "perimeter_scale", "perimeter_regions", "perimeter_departments", "ccas_eligibility")


def _dicts(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [table]).fetchone()[0])


def calls_seen_in_run(con: duckdb.DuckDBPyConnection, source: str, run_id: str) -> list[dict[str, Any]]:
    """The source's calls that the load ``run_id`` saw (stored or refreshed), in id order."""
    return _dicts(con.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM calls WHERE source = ? AND last_seen_run = ? "
                              "ORDER BY id", [source, run_id]))


def stored_deadline_kinds(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """``deadline_kind`` of the source's calls currently stored and not withdrawn."""
    if not table_exists(con, "calls"):
        return []
    return [r[0] for r in con.execute("SELECT deadline_kind FROM calls WHERE source = ? AND withdrawn_at IS NULL",
                                      [source]).fetchall()]


def harvest_history(con: duckdb.DuckDBPyConnection, source: str) -> list[dict[str, Any]]:
    """Every ``harvest_runs`` row of the source (run_id, ok, items, harvested_at UTC naive, reason), oldest first."""
    if not table_exists(con, "harvest_runs"):
        return []
    return _dicts(con.execute("SELECT run_id, ok, items, harvested_at, reason FROM harvest_runs WHERE source = ? "
                              "ORDER BY harvested_at", [source]))


def quarantine_reasons(con: duckdb.DuckDBPyConnection, source: str, run_id: str) -> list[dict[str, Any]]:
    """The source's quarantined items of the load ``run_id`` (native_id, url, reason)."""
    return _dicts(con.execute("SELECT native_id, url, reason FROM quarantine WHERE source = ? AND run_id = ?",
                              [source, run_id]))


def calls_by_status(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("SELECT status, count(*) FROM calls GROUP BY status ORDER BY status").fetchall())


def calls_by_source(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("SELECT source, count(*) FROM calls WHERE withdrawn_at IS NULL GROUP BY source "
                            "ORDER BY source").fetchall())
