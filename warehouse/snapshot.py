"""The read-only copy of the warehouse that analysts and exports open.

:func:`publish` checkpoints the warehouse, copies it to a temporary file in the snapshot's folder, makes
the copy read-only and renames it over the snapshot with ``os.replace`` (atomic on one file system).
A reader with the old snapshot open keeps reading the old file until it reconnects; it never sees a
half-written copy and never blocks the load, which only ever writes ``warehouse.duckdb``.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from warehouse.db import SharedInstance, WarehouseError, connect, release


def publish(db_path: str | Path, snapshot_path: str | Path, *, checkpointed: bool = False,
            shared: SharedInstance | None = None) -> Path:
    """Publish ``db_path`` as ``snapshot_path``; returns the snapshot path.

    ``checkpointed`` says the caller has just closed its own writable connection, migrated and without a
    pending transaction (a harvest's load): when the file then has no write-ahead log either, it is copied
    as it is, without opening it once more to fold a log that does not exist (30–50 ms). The files are
    opened in ``shared`` when given."""
    db_path, snapshot_path = Path(db_path), Path(snapshot_path)
    if db_path.resolve() == snapshot_path.resolve():
        raise WarehouseError("the snapshot must be another file than the warehouse")
    if not db_path.exists():
        raise WarehouseError(f"no warehouse at {db_path}: run a harvest first")
    if not checkpointed or db_path.with_name(db_path.name + ".wal").exists():
        con = connect(db_path, shared=shared)  # applies pending migrations, then folds the WAL into the file
        try:
            con.execute("CHECKPOINT")
        finally:
            release(con, shared)
    snapshot_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in snapshot_path.parent.glob(f".{snapshot_path.name}.*.tmp"):
        stale.unlink(missing_ok=True)     # left by a publish that was killed; there is one writer
    fd, tmp_name = tempfile.mkstemp(prefix=f".{snapshot_path.name}.", suffix=".tmp", dir=snapshot_path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, db_path.open("rb") as src:
            shutil.copyfileobj(src, out, length=1 << 20)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        _check_readable(tmp, shared)
        os.replace(tmp, snapshot_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(snapshot_path.parent)
    return snapshot_path


def _check_readable(path: Path, shared: SharedInstance | None) -> None:
    """Open the copy read-only and count the calls, so a broken copy is never published."""
    con = connect(path, read_only=True, shared=shared)
    try:
        con.execute("SELECT count(*) FROM calls").fetchone()
    finally:
        release(con, shared)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
