"""``aap export weekly``: the digest of the week in one of the export formats."""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson

from pipeline import settings
from warehouse.db import SharedInstance, connect, release
from warehouse.exports.digest import Digest, build_digest, inputs_key

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
    if csv_delimiter not in (",", ";"):
        raise ValueError(f"CSV delimiter must be ',' or ';', not {csv_delimiter!r}")
    writer = _writer(fmt)
    digest = read_digest(db_path, now=now, week=week, region=region, departement=departement, themes=themes,
                         ccas=ccas)
    path = Path(output) if output else settings.paths().exports_dir / f"weekly-{digest.week}.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"delimiter": csv_delimiter} if fmt == "csv" else {}
    return _write_atomically(writer.write, digest, path, options)


def _writer(fmt: str):
    """The module that writes ``fmt`` (``write(digest, path, **options)``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; formats are {', '.join(FORMATS)}")
    return importlib.import_module(f"warehouse.exports.{FORMATS[fmt]}")


def read_digest(db_path: str | Path, *, now: datetime, **options) -> Digest:
    """The digest read from ``db_path`` (opened read-only); ``options`` as :func:`build_digest`'s."""
    con = connect(db_path, read_only=True)
    try:
        return build_digest(con, now=now, **options)
    finally:
        con.close()


#: raise when a writer's output changes for the same digest, so files written before are regenerated
EXPORTS_VERSION = 2


@dataclass
class DigestFiles:
    """What :func:`write_weekly_files` did: the current file of each format (written or already up to
    date), the formats that failed, and the files left as they were."""

    paths: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)


def digest_key(digest: Digest) -> str:
    """A hash of everything a digest shows except the time it was generated: its week, window dates,
    reference day, filters and every item of every section."""
    parts = [EXPORTS_VERSION, digest.title, digest.week, digest.start.date().isoformat(),
             digest.end.date().isoformat(), digest.reference.isoformat(), repr(sorted(digest.filters.items()))]
    for section in digest.sections:
        parts.append(section.key)
        # every field of every item (orjson writes a dataclass's fields, dates as ISO text: 0.01 s for a
        # digest of 10 000 calls, against 0.1 s for their repr)
        parts += (orjson.dumps(item).decode() for item in section.items)
    return hashlib.sha256("\n".join(map(str, parts)).encode("utf-8")).hexdigest()


def write_weekly_files(db_path: str | Path, *, now: datetime, formats: list[str] | tuple[str, ...],
                       directory: Path, workers: int | None = None,
                       shared: SharedInstance | None = None) -> DigestFiles:
    """This week's digest, read once, in each of ``formats`` as ``directory/weekly-<week>.<fmt>``.

    A file whose format was last written from the same digest (same :func:`digest_key`, recorded in
    ``directory/.weekly-<week>.state.json``) and that still exists is left untouched, so a harvest that
    changed nothing the digest shows writes nothing. When the digest's inputs are the ones recorded too
    (:func:`digest.inputs_key`: its query's rows, window and code), the digest is not even built. A
    failing format is reported, not raised. With ``workers`` > 1 (default: :func:`export_workers`, which
    forks only for a digest large enough to gain from it) the formats are shared between this process and
    a forked one, which gets its own copy of the digest (nothing is pickled but the results). The
    snapshot is opened in ``shared`` when given; that instance is closed before a fork (the child must not
    inherit DuckDB's threads)."""
    out = DigestFiles()
    try:
        con = connect(db_path, read_only=True, shared=shared)
        try:
            week, inputs = inputs_key(con, now=now)
            state_path = directory / f".weekly-{week}.state.json"
            state = _read_state(state_path)
            paths = {fmt: directory / f"weekly-{week}.{fmt}" for fmt in formats}
            if state.get("inputs") == inputs and state.get("digest") and all(
                    state.get(fmt) == state["digest"] and path.is_file() for fmt, path in paths.items()):
                out.paths, out.unchanged = list(paths.values()), list(paths.values())
                return out
            digest = build_digest(con, now=now)
        finally:
            release(con, shared)
    except Exception as exc:
        out.errors += [f"{fmt}: {type(exc).__name__}: {exc}" for fmt in formats]
        return out
    key = digest_key(digest)
    directory.mkdir(parents=True, exist_ok=True)
    before = dict(state)
    todo = []
    for fmt in formats:
        if state.get(fmt) == key and paths[fmt].is_file():
            out.unchanged.append(paths[fmt])
        else:
            todo.append(fmt)
    if workers is None:
        workers = export_workers(sum(len(section.items) for section in digest.sections), todo)
    if workers > 1 and shared is not None:
        shared.close()
    written = _write_in_parallel(digest, todo, directory, workers)
    for fmt in formats:
        if fmt not in written:
            out.paths.append(paths[fmt])
            continue
        path, error = written[fmt]
        if error is None:
            out.paths.append(path)
            state[fmt] = key
        else:
            state.pop(fmt, None)
            out.errors.append(error)
    state.update(digest=key, inputs=inputs)
    if state != before:
        tmp = state_path.with_name(state_path.name + ".tmp")
        tmp.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
        tmp.replace(state_path)
    return out


#: relative CPU cost of writing each format (for sharing them between processes), as measured on the digest
#: of a warehouse of 10 000 calls (3 137 items; CSV = 1: 0.095 s; Atom measured again once written directly:
#: 1.2 against 2.65 through feedgen)
_COST = {"json": 1.15, "xlsx": 11.7, "html": 1.1, "atom": 1.2, "md": 1.05, "ics": 1.4, "csv": 1.0, "parquet": 0.6}
#: seconds per digest item of a format of cost 1 (from the measure of :data:`_COST`)
_SECONDS_PER_ITEM = 0.095 / 3137
#: below this estimated writing time, the formats are written by this process alone: the child takes no
#: time off a small digest (at N = 1 000, 595 items: 0.26-0.32 s with a child, 0.23-0.26 s without, outside
#: a harvest; 0.25-0.42 s either way inside harvests, alternated), and it costs a fork of the harvest's
#: process, its CPU, and a second copy of that process's pages in the memory a machine counts
PARALLEL_MIN_S = 0.3


def export_workers(items: int, formats: list[str] | tuple[str, ...]) -> int:
    """Processes that write ``formats`` of a digest of ``items`` items: two where there are two cores and
    writing them is estimated to take at least :data:`PARALLEL_MIN_S` seconds, one otherwise (and without
    ``fork``, see :func:`_write_in_parallel`)."""
    estimate = items * _SECONDS_PER_ITEM * sum(_COST.get(fmt, 1.0) for fmt in formats)
    return min(2, settings.available_cores()) if estimate >= PARALLEL_MIN_S else 1


def _write_formats(digest: Digest, formats: list[str], directory: Path) -> dict[str, tuple[Path | None, str | None]]:
    """Write each format; format → (file, None) or (None, the error)."""
    done: dict[str, tuple[Path | None, str | None]] = {}
    for fmt in formats:
        try:
            done[fmt] = (_write_atomically(_writer(fmt).write, digest, directory / f"weekly-{digest.week}.{fmt}", {}),
                         None)
        except Exception as exc:
            done[fmt] = (None, f"{fmt}: {type(exc).__name__}: {exc}")
    return done


def _write_in_parallel(digest: Digest, formats: list[str], directory: Path, workers: int
                       ) -> dict[str, tuple[Path | None, str | None]]:
    """:func:`_write_formats`, the formats shared (by cost) between this process and a forked child."""
    if workers < 2 or len(formats) < 2:
        return _write_formats(digest, formats, directory)
    import multiprocessing  # (1.5 ms: only for a fork)

    if "fork" not in multiprocessing.get_all_start_methods():
        return _write_formats(digest, formats, directory)
    mine: list[str] = []
    theirs: list[str] = []
    for fmt in sorted(formats, key=lambda f: -_COST.get(f, 1.0)):
        (mine if sum(_COST.get(f, 1.0) for f in mine) <= sum(_COST.get(f, 1.0) for f in theirs)
         else theirs).append(fmt)
    for fmt in formats:  # imported once, before the fork, rather than in both processes
        if fmt in FORMATS:
            _writer(fmt)
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child_writes, args=(digest, theirs, directory, send), daemon=True)
    child.start()
    send.close()
    done = _write_formats(digest, mine, directory)
    try:
        done.update(receive.recv())
    except EOFError:  # the child died before answering: its formats failed, with the reason
        child.join()
        done.update({fmt: (None, f"{fmt}: export process ended with exit code {child.exitcode}")
                     for fmt in theirs})
    finally:
        receive.close()
        child.join()
    return done


def _child_writes(digest: Digest, formats: list[str], directory: Path, send) -> None:
    send.send(_write_formats(digest, formats, directory))
    send.close()


def _read_state(path: Path) -> dict[str, str]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in state.items() if isinstance(v, str)} if isinstance(state, dict) else {}


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
