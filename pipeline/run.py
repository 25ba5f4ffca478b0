"""A harvest, end to end: crawl every source (one OS process each) → raw JSONL → transforms →
one warehouse transaction → read-only snapshot → weekly exports.

A failing source never stops the others: its crawl is recorded as failed in ``harvest_runs``, its stored
calls are left untouched, and it does not count toward making calls ``withdrawn``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import gcpause
from pipeline.crawl import REVALIDATED, CrawlResult, run_crawl
from pipeline.schema import ValidationError
from pipeline.settings import TIMEZONE, Paths

if TYPE_CHECKING:  # the warehouse is imported by the harvest itself, after the crawl server starts
    from warehouse.db import SharedInstance

#: default export formats written at the end of every harvest
DEFAULT_EXPORTS = ("html", "md", "csv", "json", "ics", "atom")
#: how often the harvest reads what the running crawls have written, to transform it meanwhile
STREAM_POLL_S = 0.5
#: a demo value for the Aides-territoires token; the fixture portal only checks that one is sent
DEMO_AT_TOKEN = "demo-token-not-a-secret"


@dataclass
class SourceOutcome:
    """Everything one source did in one harvest."""

    source: str
    crawl: CrawlResult
    rejected: list[dict[str, Any]] = field(default_factory=list, repr=False)
    load: Any = None  # warehouse.load.LoadStats
    transform_s: float = 0.0
    load_s: float = 0.0
    #: records the transforms produced, and items skipped because identical to the stored ones
    transformed: int = 0
    skipped: int = 0


@dataclass
class HarvestReport:
    run_id: str
    now: datetime
    outcomes: dict[str, SourceOutcome]
    paths: Paths
    exports: list[Path] = field(default_factory=list)
    export_errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(o.crawl.ok for o in self.outcomes.values())

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for name, o in self.outcomes.items():
            ld = o.load
            out.append({
                "source": name, "status": "ok" if o.crawl.ok else "FAILED",
                "items": o.crawl.items, "new": getattr(ld, "new", 0), "updated": getattr(ld, "updated", 0),
                "unchanged": getattr(ld, "unchanged", 0), "withdrawn": getattr(ld, "withdrawn", 0),
                "rejected": len(o.rejected), "errors": len(o.crawl.errors) + (0 if o.crawl.ok else 1 if
                                                                                not o.crawl.errors else 0),
                "seconds": round(o.crawl.duration_s + o.transform_s, 1),
                "reason": o.crawl.reason,
            })
        return out

    def table(self) -> str:
        cols = ("source", "status", "items", "new", "updated", "unchanged", "withdrawn", "rejected", "errors",
                "seconds")
        rows = self.rows()
        widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) if rows else len(c) for c in cols}
        line = "  ".join(c.ljust(widths[c]) if c in ("source", "status") else c.rjust(widths[c]) for c in cols)
        out = [line, "-" * len(line)]
        for r in rows:
            out.append("  ".join(str(r[c]).ljust(widths[c]) if c in ("source", "status")
                                 else str(r[c]).rjust(widths[c]) for c in cols))
        total = {c: sum(r[c] for r in rows) for c in cols[2:]}
        out.append("-" * len(line))
        out.append("  ".join(("TOTAL".ljust(widths["source"]), "".ljust(widths["status"]),
                              *(str(round(total[c], 1)).rjust(widths[c]) for c in cols[2:]))))
        for r in rows:
            if r["reason"]:
                out.append(f"  ! {r['source']}: {r['reason']}")
        return "\n".join(out)


# --- transforms stage ----------------------------------------------------------------------------

#: sources' metadata already known to this process (a harvest fills it from the crawl server's catalogue)
_SOURCE_META: dict[str, dict[str, Any]] = {}


def source_meta(source: str) -> dict[str, Any]:
    """The metadata of ``source`` (``spiders.registry.meta``)."""
    meta = _SOURCE_META.get(source)
    if meta is None:
        from spiders.registry import get_spider
        from spiders.registry import meta as spider_meta

        meta = _SOURCE_META[source] = spider_meta(get_spider(source))
    return meta


def read_jsonl(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """Yield (line number, parsed object or None, error) for each non-empty line; never raises on bad JSON."""
    for n, line in read_jsonl_lines(path):
        yield parse_line(n, line)


def read_jsonl_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-empty line, not parsed (see :func:`parse_line`)."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                yield n, line


def parse_line(n: int, line: str) -> tuple[int, Any, str | None]:
    """(line number, parsed object or None, error) of one non-empty JSONL line."""
    try:
        return n, json.loads(line), None
    except json.JSONDecodeError as exc:
        return n, None, f"line {n}: invalid JSON ({exc.msg})"


class JsonlTail:
    """Reads a JSONL file while another process is still appending to it: each call returns the complete
    lines written since the last one (numbered as :func:`read_jsonl_lines` numbers them); ``final=True``
    also returns a last line without its newline. The file is opened when it first exists."""

    def __init__(self, path: Path):
        self.path = path
        self._fh: Any = None
        self._rest = b""
        self._n = 0

    def read(self, *, final: bool = False) -> list[tuple[int, str]]:
        if self._fh is None:
            try:
                self._fh = self.path.open("rb")
            except FileNotFoundError:
                return []
        data = self._rest + self._fh.read()
        cut = len(data) if final else data.rfind(b"\n") + 1
        self._rest = data[cut:]
        out = []
        for raw in data[:cut].split(b"\n") if cut else ():
            self._n += 1
            line = raw.decode("utf-8", errors="replace")
            if line.strip():
                out.append((self._n, line + "\n"))
        if data[:cut].endswith(b"\n"):
            self._n -= 1  # the empty piece after the last newline is not a line
        if final:
            self.close()
        return out

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


# --- skipping unchanged raw items ------------------------------------------------------------------

@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """A hash of the transforms' code and data and of the record schema: records depend on them."""
    import transforms
    from pipeline import schema

    root = Path(transforms.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in [*sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts),
                 Path(schema.__file__).resolve()]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def transform_key(source: str, as_of: date | None) -> str:
    """Everything a source's records depend on besides the raw item itself (transforms are pure
    functions of the raw item, the source's metadata and the harvest date): the transforms' code and data,
    the source's metadata and, for a record that depends on it (``transforms.deadlines.depends_on_run_date``:
    a date written without its year…), the date; ``as_of=None`` gives the key of the other records, whose
    raw item is then skipped on any later day while it is unchanged."""
    parts = [_code_fingerprint(), source, source_meta(source)] + ([as_of.isoformat()] if as_of else [])
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@lru_cache(maxsize=64)
def _line_head(source: str) -> str:
    """How the crawl's JSON line of an item of ``source`` begins."""
    return '{"source": ' + json.dumps(source, ensure_ascii=False) + ", "


def stamp_free_hash(key: str, source: str, line: str) -> str | None:
    """:func:`raw_item_hash` of a line whose item carries ``raw``, from its text alone (no JSON parsing):
    the line as the crawl writes it, ``{"source": …, "fetched_at": "…", …}``, without the stamp. None when
    the line does not start that way. A stored hash equal to it can only come from an item with this very
    text (the stamp aside), so a rerun recognises unchanged items without parsing them."""
    head = _line_head(source)
    if not line.startswith(head + '"fetched_at": "'):
        return None
    start = len(head) + len('"fetched_at": "')
    end = line.find('", ', start)
    if end == -1 or "\\" in line[start:end]:
        return None
    return _line_hash(key, head + line[end + 3:].rstrip("\r\n"))


def raw_item_hash(key: str, line: str, item: Any) -> str:
    """The hash of one JSONL line under ``key`` (:func:`transform_key`). The crawl time ``fetched_at``
    is left out when the item carries its source record in ``raw`` (the record then never contains it),
    so the same item crawled again hashes the same; any other difference in the line changes the hash."""
    if isinstance(item, dict) and item.get("raw") is not None and isinstance(item.get("fetched_at"), str) \
            and isinstance(item.get("source"), str):
        digest = stamp_free_hash(key, item["source"], line)
        if digest is not None:
            return digest
    return _line_hash(key, line.rstrip("\r\n"))


def _line_hash(key: str, text: str) -> str:
    return hashlib.sha256((key + "\n" + text).encode("utf-8")).hexdigest()[:32]


@dataclass
class Transformed:
    """One source's raw JSONL after the transforms: records and rejected items as
    :func:`transform_items` gives them, ``raw_hashes`` (record id → raw item hash) and ``unchanged``
    (call id → raw item hash) for the items identical to the stored ones, not transformed again."""

    records: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    raw_hashes: dict[str, str]
    unchanged: dict[str, str]


class SourceTransform:
    """The transforms of one source's raw items, fed in batches as the crawl writes them
    (:meth:`feed`), then :meth:`finish`: the same result as transforming the whole file at once. An item
    whose hash is the one a stored call was transformed from (``known``: raw hash → call id) is not
    transformed again. Each record keeps the hash under the key without the date
    (:func:`transform_key` with ``as_of=None``) unless it depends on the date, so that an unchanged item
    is skipped on later days too, and a date-dependent one only on the same day.

    The parsed items are not kept: ``raw_file`` is the JSONL the lines come from, from which :meth:`finish`
    reads again the few items it quarantines as duplicates of a call seen unchanged. With ``raw_as``, each
    record's ``raw`` item is replaced by ``raw_as(raw)`` as soon as the record is made (a harvest passes
    ``warehouse.load.stored_json``: the text its load stores, in half the memory)."""

    def __init__(self, source: str, as_of: date, known: dict[str, str] | None = None, *, raw_file: Path,
                 raw_as: Callable[[Any], Any] | None = None):
        self.source, self.as_of, self.known, self.raw_file = source, as_of, known or {}, raw_file
        self.raw_as = raw_as
        #: (key without the date, key of this day)
        self.keys = (transform_key(source, None), transform_key(source, as_of))
        self.records: dict[str, dict[str, Any]] = {}
        self.rejected: list[dict[str, Any]] = []
        self.lines: dict[str, int] = {}
        self.hashes: dict[int, tuple[str, str]] = {}
        self.unchanged: dict[str, str] = {}
        #: CPU seconds spent transforming (the thread's own: the crawl phase yields the CPU to the crawls)
        self.seconds = 0.0

    def _known(self, digests: Iterable[str | None]) -> tuple[str, str] | None:
        """(call id, hash) of the stored call one of ``digests`` was transformed from, unless already seen;
        ``digests`` is read lazily (the key without the date first: most calls do not depend on it)."""
        for digest in digests:
            call_id = self.known.get(digest) if digest else None
            if call_id is not None and call_id not in self.unchanged:
                return call_id, digest
        return None

    def feed(self, lines: Iterable[tuple[int, str]]) -> None:
        """Transform (numbered) raw lines; an unchanged one is recognised from its text, unparsed."""
        started = time.thread_time()
        fresh: list[tuple[int, Any, str | None]] = []
        for n, line in lines:
            hit = self._known(stamp_free_hash(k, self.source, line) for k in self.keys) if self.known else None
            if hit is None:
                n, item, error = parse_line(n, line)
                if error is None:
                    self.hashes[n] = digests = (raw_item_hash(self.keys[0], line, item),
                                                raw_item_hash(self.keys[1], line, item))
                    hit = self._known(digests)
                if hit is None:
                    fresh.append((n, item, error))
            if hit is not None:
                call_id, digest = hit
                self.unchanged[call_id] = digest
        # nothing new (a rerun): the classifiers and their compiled patterns are not even loaded
        if fresh:
            made = len(self.records)
            _transform_into(self.source, fresh, self.as_of, self.records, self.rejected, self.lines)
            if self.raw_as is not None:
                for rec in islice(self.records.values(), made, None):
                    rec["raw"] = self.raw_as(rec["raw"])
        self.seconds += time.thread_time() - started

    def finish(self) -> Transformed:
        started = time.thread_time()
        records = list(self.records.values())
        rejected = self.rejected
        if self.unchanged:  # a record of a call already seen unchanged is a duplicate, as transform_items says
            duplicates = {self.lines.pop(r["id"]): r["id"] for r in records if r["id"] in self.unchanged}
            for n, item, _ in self._items_again(duplicates):
                reason = f"duplicate id {duplicates[n]} in this harvest (line {n})"
                rejected.append(_rejected(self.source, item, reason))
            records = [r for r in records if r["id"] not in self.unchanged]
        raw_hashes = {}
        if records:  # (a rerun with nothing new does not need it)
            from transforms.deadlines import depends_on_run_date
        for rec in records:
            undated, dated = self.hashes[self.lines[rec["id"]]]
            raw_hashes[rec["id"]] = dated if depends_on_run_date(
                rec["deadline_flags"], rec["status"], rec["deadlines"], rec["deadline_kind"]) else undated
        done = Transformed(records, rejected, raw_hashes, self.unchanged)
        self.records = {}
        self.seconds += time.thread_time() - started
        return done

    def _items_again(self, wanted: dict[int, str]) -> list[tuple[int, Any, str | None]]:
        """The items of the numbered lines ``wanted``, parsed again from the raw file (in file order)."""
        if not wanted:
            return []
        return [parse_line(n, line) for n, line in read_jsonl_lines(self.raw_file) if n in wanted]


def transform_file(source: str, path: Path, as_of: date, known: dict[str, str] | None = None) -> Transformed:
    """Transform the raw JSONL of ``source`` (see :class:`SourceTransform`)."""
    work = SourceTransform(source, as_of, known, raw_file=path)
    work.feed(read_jsonl_lines(path))
    return work.finish()


def transform_items(source: str, items: Iterable[tuple[int, Any, str | None]], as_of: date,
                    lines: dict[str, int] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Raw items → (records, rejected). Every failure is kept with its reason, never raised. ``lines``,
    when given, receives the line number of each record's item."""
    records: dict[str, dict[str, Any]] = {}
    rejected: list[dict[str, Any]] = []
    _transform_into(source, items, as_of, records, rejected, {} if lines is None else lines)
    return list(records.values()), rejected


#: items transformed together: each extractor runs over the batch before the next one starts (10 000
#: bench items: 2.3-2.5 s one at a time, mostly 1.8-2.0 s from 32 items on)
TRANSFORM_BATCH = 256


def _transform_into(source: str, items: Iterable[tuple[int, Any, str | None]], as_of: date,
                    records: dict[str, dict[str, Any]], rejected: list[dict[str, Any]],
                    lines: dict[str, int]) -> None:
    """Add the records of ``items`` to ``records`` (by id, the first wins), failures to ``rejected``, in
    the items' order. The items go to the transforms ``TRANSFORM_BATCH`` at a time (see
    ``normalize.to_records``)."""
    meta = source_meta(source)
    batch: list[tuple[int, Any, str | None]] = []
    with gcpause.paused():  # the records are kept: collections would walk them for nothing
        for entry in items:
            batch.append(entry)
            if len(batch) == TRANSFORM_BATCH:
                _add_batch(source, batch, meta, as_of, records, rejected, lines)
                batch = []
        if batch:
            _add_batch(source, batch, meta, as_of, records, rejected, lines)


def _add_batch(source: str, batch: list[tuple[int, Any, str | None]], meta: Any, as_of: date,
               records: dict[str, dict[str, Any]], rejected: list[dict[str, Any]],
               lines: dict[str, int]) -> None:
    from transforms.normalize import to_records

    results = iter(to_records([item for _, item, error in batch if error is None], meta, as_of))
    for n, item, error in batch:
        if error is not None:
            rejected.append({"source": source, "native_id": None, "url": None, "reason": error, "raw": None})
            continue
        rec = next(results)
        if isinstance(rec, ValidationError):
            rejected.append(_rejected(source, item, f"invalid: {rec}"))
        elif isinstance(rec, Exception):  # a transform bug must not lose the item nor stop the harvest
            rejected.append(_rejected(source, item, f"transform error: {type(rec).__name__}: {rec}"))
        elif rec["id"] in records:
            rejected.append(_rejected(source, item, f"duplicate id {rec['id']} in this harvest (line {n})"))
        else:
            records[rec["id"]] = rec
            lines[rec["id"]] = n


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else None


def _rejected(source: str, item: Any, reason: str) -> dict[str, Any]:
    """The quarantine entry of a raw item that gave no record."""
    return {"source": source, "native_id": _get(item, "native_id"), "url": _get(item, "url"), "raw": item,
            "reason": reason}


# --- the harvest ---------------------------------------------------------------------------------

#: how far below its crawls a harvest's own work runs during the crawl phase (added thread niceness; 19,
#: the most, gave the shortest harvests: 10 left the crawls about 1.5 s slower at N = 10 000)
BELOW_CRAWLS_NICENESS = 19
#: and, where the system has it, the idle scheduling class: the thread runs only when no other thread
#: wants the CPU, and a crawl waking up always takes the CPU back from it at once (at niceness 19 alone it
#: may wait for the thread's time slice): harvests at N = 10 000 were 0.6–2.1 s shorter, 1.3 s on average
#: over four alternated pairs
BELOW_CRAWLS_POLICY = getattr(os, "SCHED_IDLE", None)


def below_crawls(fn: Callable[[threading.Event], None]) -> None:
    """Run ``fn`` (a harvest's crawl phase: the transforms and loads done while its crawls run) in a thread
    whose niceness is raised by :data:`BELOW_CRAWLS_NICENESS` and whose scheduling class is
    :data:`BELOW_CRAWLS_POLICY`, and wait for it.

    Linux gives each thread its own niceness and class, so only that thread is lowered (and the threads
    it starts: start the crawls' threads before); the crawl processes, the caller's other threads and
    DuckDB's threads keep theirs. When the CPU is short the crawls get it first and the transforms take
    what they leave, rather than slowing the crawls the harvest waits for; on an idle CPU nothing
    changes. Other systems run ``fn`` at the same priority. ``fn``'s exception is raised here. ``fn``
    gets an event that Ctrl-C here (or any exception a signal handler raises while this thread waits)
    sets: ``fn`` must then raise KeyboardInterrupt at its next check, and the interrupt is raised again
    once the thread has unwound, so nothing is torn down under it."""
    failure: list[BaseException] = []
    stop = threading.Event()
    done = threading.Event()

    def target() -> None:
        try:
            if sys.platform.startswith("linux"):
                tid = threading.get_native_id()
                try:
                    os.setpriority(os.PRIO_PROCESS, tid,
                                   os.getpriority(os.PRIO_PROCESS, tid) + BELOW_CRAWLS_NICENESS)
                except OSError:  # not allowed here: the same work at the same priority
                    pass
                if BELOW_CRAWLS_POLICY is not None:
                    try:
                        os.sched_setscheduler(tid, BELOW_CRAWLS_POLICY, os.sched_param(0))
                    except OSError:  # not allowed here: the niceness alone
                        pass
            fn(stop)
        except BaseException as exc:
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=target, name="harvest-crawl-phase")
    thread.start()
    interrupt: BaseException | None = None
    # waited for on an event: a join() interrupted by Ctrl-C can leave the thread marked as ended (3.11)
    while True:
        try:  # the interrupt may be raised at any line of the wait
            while not done.wait(0.2):
                pass
            break
        except BaseException as exc:  # Ctrl-C, or a signal handler's exception (SIGTERM → SystemExit)
            interrupt = interrupt or exc
            stop.set()
    thread.join()
    if interrupt is not None:
        raise interrupt
    if failure:
        raise failure[0]


def harvest(sources: Iterable[str] | None, *, paths: Paths, now: datetime,
            base_url_for: Callable[[str], str | None] = lambda s: None,
            crawl_settings: dict[str, Any] | None = None, parallel: int = 2,
            export_formats: Iterable[str] = DEFAULT_EXPORTS, crawl_env: dict[str, str] | None = None,
            progress: Callable[[str], None] | None = None) -> HarvestReport:
    """Run the whole pipeline for ``sources`` (all when None) and return the report."""
    from pipeline import crawlserver

    sources = list(sources) if sources else None
    # the server imports Scrapy and the spiders while this process imports the warehouse, unless every
    # source may be revalidated without a crawl
    crawlserver.start_unless_planned(paths.raw_dir, sources)
    from warehouse.db import SharedInstance

    # one DuckDB instance for the files the harvest opens in turn (warehouse.db.SharedInstance); it starts
    # in a thread while the rest of the warehouse is imported
    with SharedInstance() as shared:
        from pipeline import revalidate  # noqa: F401 — for the crawls' first walks, while DuckDB starts
        from warehouse.load import HarvestLoad, SourceBatch, stored_json
        from warehouse.snapshot import publish

        say = progress or (lambda msg: None)
        # from the server, or the copy it gave last time: this process never imports Scrapy
        known = crawlserver.catalogue(crawlserver.catalogue_cache(paths.raw_dir))
        _SOURCE_META.update(known)
        names = list(dict.fromkeys(sources or known))  # (a source named twice is harvested once)
        for name in names:
            if name not in known:
                raise KeyError(f"unknown source {name!r}; `aap sources` lists them")
        paths.ensure()
        run_id = now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        report = HarvestReport(run_id=run_id, now=now, outcomes={}, paths=paths)

        t0 = time.monotonic()
        as_of = now.astimezone(TIMEZONE).date()

        def crawl(name: str) -> CrawlResult:
            """Crawl in a child process; the crawl slot is free again as soon as the crawl ends."""
            res = run_crawl(name, raw_file(name), base_url=base_url_for(name), settings=crawl_settings, env=crawl_env)
            done = "revalidated (every page unchanged, no crawl)" if res.finish_reason == REVALIDATED else "crawled"
            say(f"{done} {name}: {res.items} items{'' if res.ok else ' — FAILED: ' + res.reason}")
            return res

        def raw_file(name: str) -> Path:
            return paths.raw_dir / f"{name}.jsonl"

        # One warehouse transaction for the whole harvest, opened before the crawls. The crawls run
        # ``parallel`` at a time in their own processes. This thread transforms each source's raw items while
        # its crawl writes them (items identical to the stored ones are not transformed again), loads the
        # source as soon as its crawl ends, then drops its records: the harvest never holds every source's
        # records at once and a crawl never waits for a transform. Any error rolls the whole harvest back.
        with HarvestLoad(paths.warehouse, now=now, run_id=run_id, shared=shared) as load:
            known_hashes = load.raw_hashes(names)
            work = {name: SourceTransform(name, as_of, known_hashes.pop(name), raw_file=raw_file(name),
                                          raw_as=stored_json) for name in names}
            tails = {}
            for name in names:  # a raw file read from now on was written by this harvest's crawl
                raw_file(name).unlink(missing_ok=True)
                tails[name] = JsonlTail(raw_file(name))
            # the longest crawls of the last harvest first: the crawl slots end closer together
            durations = load.last_durations()
            order = sorted(names, key=lambda name: -durations.get(name, float("inf")))

            def settle(name: str, future: Future[CrawlResult]) -> None:
                """A source whose crawl has ended: its last raw lines transformed, then its load."""
                res = future.result()
                source_work = work.pop(name)
                source_work.feed(tails[name].read(final=True))
                done = source_work.finish()
                tl = time.monotonic()
                outcome = SourceOutcome(name, res, transform_s=source_work.seconds, transformed=len(done.records),
                                        skipped=len(done.unchanged), rejected=done.rejected)
                outcome.load = load.add(SourceBatch(
                    source=name, ok=res.ok, records=done.records, rejected=done.rejected, crawl=res.to_json(),
                    raw_hashes=done.raw_hashes, unchanged=done.unchanged, checked=True))
                done.records = []
                outcome.load_s = time.monotonic() - tl
                report.outcomes[name] = outcome

            def crawl_phase(pending: dict[Future[CrawlResult], str], stop: threading.Event,
                            last: list[tuple[str, Future[CrawlResult]]]) -> None:
                """While crawls run: each source settled as soon as its crawl ends, and the running crawls' raw
                lines transformed as they come. The sources whose crawls end last go to ``last``, settled
                once this thread has returned, so that nothing runs below priority when nothing is left to
                yield to."""
                try:
                    while pending:
                        if stop.is_set():  # Ctrl-C
                            raise KeyboardInterrupt
                        finished, _ = wait(pending, timeout=STREAM_POLL_S, return_when=FIRST_COMPLETED)
                        ended = [(pending.pop(future), future) for future in finished]
                        if not pending:  # every crawl is done: free the server before the last load and exports
                            crawlserver.stop()
                            last.extend(ended)
                            return
                        for name, future in ended:
                            settle(name, future)
                        for name in pending.values():  # what the running crawls wrote meanwhile
                            work[name].feed(tails[name].read())
                except BaseException:  # the harvest fails or is stopped: the crawls not started yet never start
                    for future in pending:
                        future.cancel()
                    raise

            last: list[tuple[str, Future[CrawlResult]]] = []
            try:
                # the crawls' threads start here, at this thread's priority: only the transforms and loads yield
                with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
                    pending = {pool.submit(crawl, name): name for name in order}
                    below_crawls(lambda stop: crawl_phase(pending, stop, last))
                for name, future in last:  # the crawls are over: at this thread's own priority
                    settle(name, future)
            finally:
                for tail in tails.values():
                    tail.close()
            report.seconds["crawl"] = time.monotonic() - t0
            t2 = time.monotonic()
        report.outcomes = {name: report.outcomes[name] for name in names}
        # transforms and loads ran inside the crawl phase; these are their own shares of it (the load's
        # includes the final reclustering and commit)
        report.seconds["transform"] = sum(o.transform_s for o in report.outcomes.values())
        report.seconds["load"] = sum(o.load_s for o in report.outcomes.values()) + time.monotonic() - t2

        t3 = time.monotonic()
        publish(paths.warehouse, paths.snapshot, checkpointed=True, shared=shared)  # the load's file is closed
        report.seconds["snapshot"] = time.monotonic() - t3

        t4 = time.monotonic()
        report.exports, report.export_errors = write_exports(paths, now, export_formats, shared=shared)
        report.seconds["export"] = time.monotonic() - t4
    report.seconds["total"] = time.monotonic() - t0
    return report


def write_exports(paths: Paths, now: datetime, formats: Iterable[str],
                  shared: SharedInstance | None = None) -> tuple[list[Path], list[str]]:
    """This week's digest in each format (read once from the snapshot, in ``shared`` when given); a
    failing format is reported, not raised. Formats whose file already holds the same digest are not
    rewritten."""
    from warehouse.exports.weekly import write_weekly_files

    files = write_weekly_files(paths.snapshot, now=now, formats=tuple(formats), directory=paths.exports_dir,
                               shared=shared)
    return files.paths, files.errors


def demo_env() -> dict[str, str]:
    """Environment for demo crawls: a demo AT token, so a real one is never sent to the local portal."""
    return {"AAP_AT_TOKEN": DEMO_AT_TOKEN}
