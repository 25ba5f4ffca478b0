"""Connections to the aap warehouse and its numbered migrations.

Migrations are the files ``warehouse/migrations/NNN_name.sql``, applied in order, each in its own
transaction, and recorded in ``schema_migrations``. A writable :func:`connect` applies the missing ones;
a read-only connection never changes the file.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import pyarrow as pa

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


class WarehouseError(RuntimeError):
    """The warehouse file is missing, locked or in an unexpected state."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The packaged migrations, sorted by number; a malformed or duplicated number is an error."""
    found: dict[int, Migration] = {}
    for entry in resources.files("warehouse.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise WarehouseError(f"two migrations numbered {version:03d}: {found[version].name}, {entry.name}")
        found[version] = Migration(version, entry.name, entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The migrations applied to the database (none when it has no ``schema_migrations`` table). Asked
    directly: DuckDB's ``information_schema`` costs about 7 ms the first time a database instance reads it,
    and every harvest opens three."""
    try:
        rows = con.execute("SELECT version FROM schema_migrations").fetchall()
    except duckdb.CatalogException:
        return set()
    return {row[0] for row in rows}


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the missing migrations; returns the names applied. Each one commits or rolls back whole."""
    done = applied_versions(con)
    if not done:  # (asked first: creating a table that exists still costs 1–2 ms)
        con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)")
    applied: list[str] = []
    for migration in migrations():
        if migration.version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, current_timestamp AT TIME ZONE 'UTC')",
                        [migration.version, migration.name])
            con.execute("COMMIT")
        except Exception as exc:
            con.execute("ROLLBACK")
            raise WarehouseError(f"migration {migration.name} failed: {exc}") from exc
        applied.append(migration.name)
    return applied


def connect(path: str | Path, read_only: bool = False, *,
            shared: SharedInstance | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse. Writable connections create the file and apply pending migrations. With
    ``shared``, the file is attached to that instance instead of opening one of its own: close such a
    connection with :func:`release`."""
    path = Path(path)
    if read_only:
        if not path.exists():
            raise WarehouseError(f"no warehouse at {path}: run a harvest first")
        con = shared.attach(path, read_only=True) if shared else duckdb.connect(str(path), read_only=True)
        missing = {m.version for m in migrations()} - applied_versions(con)
        if missing:
            release(con, shared)
            raise WarehouseError(f"{path} lacks migrations {sorted(missing)}: open it writable once "
                                 "(`aap migrate`) to upgrade it")
        return con
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = shared.attach(path, read_only=False) if shared else duckdb.connect(str(path))
    except duckdb.IOException as exc:
        raise WarehouseError(f"cannot open {path} for writing: {exc}") from exc
    try:
        migrate(con)
    except BaseException:
        release(con, shared)
        raise
    return con


def release(con: duckdb.DuckDBPyConnection, shared: SharedInstance | None = None) -> None:
    """Close a connection of :func:`connect` (made with ``shared``, when given)."""
    if shared is None:
        con.close()
    else:
        shared.release(con)


class SharedInstance:
    """One DuckDB database instance for warehouse files a process opens one after the other: a harvest
    opens the warehouse its load writes, the copy of it :func:`warehouse.snapshot.publish` checks, then the
    snapshot its exports read. Each is attached to this instance for as long as its connection is in use
    (about 1 ms) and detached by :meth:`release`, which closes and unlocks the file as closing a
    connection does; an instance of its own costs about 10 ms to start and 2 ms to close (three of them
    were a tenth of a rerun at N = 1 000). Settings a connection makes for the whole instance (``SET
    memory_limit``…) outlive it: reset them before releasing it. Use as a context manager; closing twice
    is harmless.

    The instance starts in a thread of its own (DuckDB leaves Python's lock while it starts: 15–20 ms
    for the first instance of a process), so whatever the process does next (a harvest imports its
    warehouse modules) runs meanwhile; :meth:`attach` waits for it and raises what starting it raised."""

    def __init__(self) -> None:
        self._con: duckdb.DuckDBPyConnection | None = None
        self._failed: BaseException | None = None
        self._attached = 0
        self._starting = threading.Thread(target=self._start, name="duckdb-instance", daemon=True)
        self._starting.start()

    def _start(self) -> None:
        try:
            self._con = duckdb.connect(":memory:")
        except BaseException as exc:  # raised by attach()
            self._failed = exc

    def _instance(self) -> duckdb.DuckDBPyConnection:
        self._starting.join()
        if self._failed is not None:
            raise WarehouseError(f"DuckDB could not start: {self._failed}") from self._failed
        if self._con is None:
            raise WarehouseError("the shared DuckDB instance is closed")
        return self._con

    def attach(self, path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        """A new connection with ``path`` attached and in use (its tables are reached by their names)."""
        instance = self._instance()
        self._attached += 1
        alias = f"file{self._attached}"
        con = instance.cursor()
        try:
            text = str(path).replace("'", "''")
            con.execute(f"ATTACH '{text}' AS {alias}{' (READ_ONLY)' if read_only else ''}")
            con.execute(f"USE {alias}")
            if not read_only:  # where a load spills: next to its file, as for an instance opened on it
                con.execute("SET temp_directory = ?", [f"{path}.tmp"])
        except BaseException:
            with suppress(duckdb.Error):  # attached before the failure: the file is let go
                instance.execute(f"DETACH DATABASE IF EXISTS {alias}")
            con.close()
            raise
        return con

    def release(self, con: duckdb.DuckDBPyConnection) -> None:
        """Close a connection of :meth:`attach`, detaching its file."""
        try:
            with suppress(duckdb.Error):  # a transaction left open ends as closing a connection ends it
                con.execute("ROLLBACK")
            (alias,) = con.execute("SELECT current_database()").fetchone()
            con.execute("USE memory")
            con.execute(f"DETACH {alias}")
        finally:
            con.close()

    def close(self) -> None:
        self._starting.join()
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> SharedInstance:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def utc_naive(moment: datetime) -> datetime:
    """UTC wall time without zone, the form every warehouse TIMESTAMP uses (naive input is taken as UTC)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


@contextmanager
def staged(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list] | pa.Table) -> Iterator[str]:
    """Expose Python columns (or an Arrow table) to SQL as the relation ``name`` for a few statements.

    Python columns (of equal lengths) are bound as list parameters and unnested by DuckDB, which infers
    their types from the values: for the few narrow columns staged this way (ids, restamps, clusters) as
    fast as an Arrow table (5 ms for the 1 000 restamps of a rerun either way, 15 against 20 ms for
    10 000), and a harvest that writes nothing else (a rerun) never imports pyarrow (17 ms). The wide
    rows of ``calls`` go through Arrow tables typed from the table (``warehouse.load``)."""
    if not isinstance(columns, dict):
        con.register(name, columns)
        try:
            yield name
        finally:
            con.unregister(name)
        return
    select = ", ".join(f"unnest(?) AS {column}" for column in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select}", list(columns.values()))
    try:
        yield name
    finally:
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def dict_rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    """The result of ``sql`` as one dict per row, keyed by column name."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
