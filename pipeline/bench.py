"""``aap bench``: how fast aap is at scale, with numbers anyone can reproduce (127.0.0.1 only).

For each size N the bench serves a :mod:`pipeline.synthetic` portal of N calls (in its own process) and
measures, in this order:

1. **bare crawl** — the same spiders, requests and concurrency as a harvest, items discarded (no feed,
   no page store): what Scrapy alone costs;
2. **full pipeline** — :func:`pipeline.run.harvest` (crawl + transforms + load + snapshot + weekly
   exports) in a child process (:mod:`pipeline.bench_child`, which imports what ``aap harvest`` does);
3. **rerun, nothing changed** — the same harvest again: requests made, 304s, bytes the portal sent,
   rows the load wrote (each source whose pages all answer 304 is revalidated by the harvest itself,
   without a Scrapy crawl: :mod:`pipeline.revalidate`); then the rerun's crawls alone (on a copy of the
   page store, no transforms between them, as the bare crawl: revalidations too); then the same pages the next day (the records transformed again are those
   whose reading depends on the date);

   The bare crawl, the full pipeline and the rerun run ``--pairs`` times (3) in a row, since a shared
   machine's speed drifts by a third within minutes: the pair with the median full / bare ratio gives the
   table's figures, with the range over all pairs for the ratio and the rerun's share. The rerun's crawls
   alone and the next day follow the last pair;
4. **memory** — ``--memory-runs`` (2) more full harvests, their peak memory sampled over the whole
   process tree (crawls included); the highest is reported. They are not the timed runs: reading the
   memory of every process 20 times a second costs CPU and made a timed harvest 3 s slower at N = 10 000;
5. **transforms alone** on 10 000 raw items (one thread, so one core) and the **DuckDB load** of those
   10 000 calls into an empty warehouse.

The table is printed and written into BENCHMARKS.md between the ``bench`` markers (text outside them is
kept), with the machine, the date and the command, and cProfile summaries of one crawl, of the rerun's
harvest process and of the transforms (``--no-profile`` leaves them out).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.settings import PROJECT_ROOT, TIMEZONE, paths

#: the synthetic portal's "today": deadlines are drawn around it
ANCHOR = date(2026, 10, 1)
DEFAULT_SIZES = (1000, 5000, 10000, 20000)
MARK_START = "<!-- bench:start (written by `aap bench`; edit outside the markers) -->"
MARK_END = "<!-- bench:end -->"
#: the bare crawl: no feed export, no page store (so no conditional request, nothing re-emitted), no HTTP
#: cache; everything else as in a harvest
#: passes of the single-stage measures (transforms alone, load alone); the best is reported
REPEATS = 3
BARE_SETTINGS = {"FEEDS": {}, "AAP_PAGE_STORE": "", "HTTPCACHE_ENABLED": False}


# --- memory of a process tree ----------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def _rss_parts(pid: int) -> tuple[int, int]:
    """(resident memory, of which pages mapped from files: the code of Python, its extensions and
    libraries, and other files), in bytes; zeros for a process gone."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            fields = fh.read().split()
        page = os.sysconf("SC_PAGE_SIZE")
        return int(fields[1]) * page, int(fields[2]) * page
    except (OSError, ValueError, IndexError):
        return 0, 0


def _rss_bytes(pid: int) -> int:
    return _rss_parts(pid)[0]


def _pss_bytes(pid: int) -> int:
    """Proportional set size: resident memory with each page shared by n processes counted 1/n."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(_children(p))
    return out


def tree_rss_parts(pid: int, procs: list[int] | None = None) -> tuple[int, int]:
    """(resident memory, of which pages mapped from files) of ``pid`` and all its descendants (``procs``,
    when the tree was already walked), in bytes (Linux ``/proc``). Pages that forked processes share are
    counted once per process."""
    parts = [_rss_parts(p) for p in procs or _tree(pid)]
    return sum(r for r, _ in parts), sum(f for _, f in parts)


def tree_rss(pid: int, procs: list[int] | None = None) -> int:
    """The resident memory of :func:`tree_rss_parts`."""
    return tree_rss_parts(pid, procs)[0]


def tree_pss(pid: int, procs: list[int] | None = None) -> int:
    """Physical memory of ``pid`` and all its descendants (``procs``, as :func:`tree_rss`), in bytes: the
    sum of their proportional set sizes, so that a page shared after a fork is counted once."""
    return sum(_pss_bytes(p) for p in procs or _tree(pid))


class PeakSampler:
    """Samples the memory of a process tree every ``interval`` seconds: ``peak`` (resident memory of the
    whole tree) and ``peak_files`` (how much of it was mapped from files at that moment), ``peak_pss`` (its
    physical memory, shared pages counted once) and ``peak_root`` (resident memory of the root process
    alone), in bytes."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval, self.peak, self.peak_root, self.peak_pss = pid, interval, 0, 0, 0
        self.peak_files = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            procs = _tree(self.pid)  # walked once per sample
            resident, files = tree_rss_parts(self.pid, procs)
            if resident > self.peak:
                self.peak, self.peak_files = resident, files
            self.peak_pss = max(self.peak_pss, tree_pss(self.pid, procs))
            self.peak_root = max(self.peak_root, _rss_bytes(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- the portal in its own process -----------------------------------------------------------------

@dataclass
class PortalProcess:
    """``python -m pipeline.synthetic`` in a child process, driven through its control routes."""

    n: int
    seed: int
    url: str = ""
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def __enter__(self) -> PortalProcess:
        cmd = [sys.executable, "-m", "pipeline.synthetic", "--n", str(self.n), "--seed", str(self.seed)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError(f"the synthetic portal did not start: {line!r}")
        self.url = line.split()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def _call(self, method: str, route: str) -> dict[str, Any]:
        req = urllib.request.Request(f"{self.url}/_portal/{route}", method=method, data=b"" if method == "POST"
                                     else None)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "stats")

    def reset(self) -> None:
        self._call("POST", "reset-stats")

    def sources(self) -> list[str]:
        return [s for s, n in self.stats()["sizes"].items() if n]

    def base_url(self, source: str) -> str:
        return f"{self.url}/{source}"


def _served(stats: dict[str, Any]) -> dict[str, int]:
    """Requests, 304s and bytes the portal answered, over every source."""
    per = stats["stats"].values()
    return {"requests": sum(s["requests"] for s in per), "bytes": sum(s["bytes_sent"] for s in per),
            "not_modified": sum(s["statuses"].get("304", 0) for s in per),
            "errors": sum(v for s in per for k, v in s["statuses"].items() if int(k) >= 400)}


# --- one harvest in a child process ----------------------------------------------------------------

def run_child_harvest(portal_url: str, sources: list[str], data_dir: Path, now: datetime,
                      *, profile: Path | None = None,
                      sampled: bool = False) -> tuple[dict[str, Any], PeakSampler | None, float]:
    """Run ``harvest`` in a child process; returns (its JSON summary, its memory sampler when ``sampled``,
    wall seconds)."""
    out = data_dir / "child-result.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pipeline.bench_child", "--portal", portal_url, "--data-dir", str(data_dir),
           "--now", now.isoformat(), "--out", str(out), *(f"--source={s}" for s in sources)]
    if profile:
        cmd[1:1] = ["-m", "cProfile", "-o", str(profile)]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = PeakSampler(proc.pid) if sampled else None
    with sampler or nullcontext():
        _, err = proc.communicate()
    wall = time.monotonic() - t0
    if proc.returncode != 0 or not out.is_file():
        raise RuntimeError(f"harvest child failed ({proc.returncode}): {err.strip()[-2000:]}")
    result = json.loads(out.read_text(encoding="utf-8"))
    result["written"] = rows_written(paths(data_dir).warehouse, result["run_id"])  # not part of the timed run
    return result, sampler, wall


def rows_written(db: Path, run_id: str) -> dict[str, int]:
    """Rows the load of ``run_id`` wrote, by table (calls rows are rewritten whenever seen, to stamp
    ``last_seen_at``; versions only on a content or calendar change)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        one = lambda sql: int(con.execute(sql, [run_id]).fetchone()[0])  # noqa: E731
        return {"calls": one("SELECT count(*) FROM calls WHERE last_seen_run = ?"),
                "call_versions": one("SELECT count(*) FROM call_versions WHERE run_id = ?"),
                "call_sources": one("SELECT count(*) FROM call_sources WHERE last_run_id = ?"),
                "quarantine": one("SELECT count(*) FROM quarantine WHERE run_id = ?"),
                "harvest_runs": one("SELECT count(*) FROM harvest_runs WHERE run_id = ?")}
    finally:
        con.close()


# --- bare crawl ------------------------------------------------------------------------------------

def bare_crawl(portal: PortalProcess, sources: list[str], work: Path, parallel: int,
               settings: dict[str, Any] | None = None) -> tuple[float, int]:
    """The spiders alone, items discarded; returns (wall seconds, items scraped). With ``settings``, the
    crawls run with those instead of the bare ones."""
    from pipeline.crawl import run_crawl
    from spiders.demo import DEMO_SETTINGS

    def one(source: str) -> Any:
        return run_crawl(source, work / f"{source}.jsonl", base_url=portal.base_url(source),
                         settings={**DEMO_SETTINGS, **(BARE_SETTINGS if settings is None else settings)})

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        results = list(pool.map(one, sources))
    wall = time.monotonic() - t0
    failed = [r.source + ": " + r.reason for r in results if not r.ok]
    if failed:
        raise RuntimeError("bare crawl failed: " + "; ".join(failed))
    return wall, sum(r.items for r in results)


def rerun_crawls(portal: PortalProcess, sources: list[str], harvest_raw: Path, work: Path,
                 parallel: int) -> float:
    """The rerun's crawls alone (no transforms between them), on a copy of the harvest's page store, so
    the harvest's own store and raw files are left as they are; returns wall seconds."""
    import shutil

    shutil.copytree(harvest_raw / "pages", work / "pages")
    return bare_crawl(portal, sources, work, parallel, settings={})[0]


# --- transforms and load alone ---------------------------------------------------------------------

def raw_items(raw_dir: Path, sources: list[str], count: int) -> dict[str, list[tuple[int, Any, None]]]:
    """``count`` raw items from a harvest's JSONL, by source; repeated under new ids when fewer."""
    from pipeline.run import read_jsonl

    pools = {s: [item for _, item, err in read_jsonl(raw_dir / f"{s}.jsonl") if err is None] for s in sources}
    pools = {s: items for s, items in pools.items() if items}
    total = sum(len(v) for v in pools.values())
    if not total:
        raise RuntimeError(f"no raw items in {raw_dir}")
    out: dict[str, list[tuple[int, Any, None]]] = {s: [] for s in pools}
    n = 0
    while n < count:
        for s, items in pools.items():
            for item in items:
                if n >= count:
                    break
                copy = dict(item)
                rnd = n // total
                if rnd:
                    copy["native_id"] = f"{item.get('native_id')}-r{rnd}"
                    copy["url"] = f"{item['url'].rstrip('/')}-r{rnd}"
                out[s].append((len(out[s]) + 1, copy, None))
                n += 1
    return out


def time_transforms(items: dict[str, list], as_of: date) -> tuple[float, int, dict[str, tuple[list, list]]]:
    """Transform ``items`` in this thread; (CPU seconds, records, per-source results)."""
    from pipeline.run import transform_items

    seconds = float("inf")
    results: dict[str, tuple[list, list]] = {}
    for _ in range(REPEATS):  # the best pass: a shared machine only ever makes a pass slower
        results = {}  # the previous pass's records are freed before the clock starts, not inside the pass
        t0 = time.process_time()
        results = {s: transform_items(s, rows, as_of) for s, rows in items.items()}
        seconds = min(seconds, time.process_time() - t0)
    records = sum(len(r) for r, _ in results.values())
    return seconds, records, results


#: the transforms profile's child: a warm-up, then ``PROFILED`` items under cProfile
_PROFILE_CHILD = """
import cProfile, sys
from datetime import date
from pathlib import Path
from pipeline.bench import PROFILED, profile_text, raw_items
from pipeline.run import transform_items
warm_up = 100
items = raw_items(Path(sys.argv[1]), sys.argv[2].split(","), warm_up + PROFILED)
as_of = date.fromisoformat(sys.argv[3])
profiled = {}
for s, rows in items.items():
    k = min(warm_up, len(rows))
    warm_up -= k
    transform_items(s, rows[:k], as_of)
    profiled[s] = rows[k:]
prof = cProfile.Profile()
prof.enable()
for s, rows in profiled.items():
    transform_items(s, rows, as_of)
prof.disable()
print(profile_text(prof))
"""
#: items in the transforms profile
PROFILED = 2000


def profile_transforms(raw_dir: Path, sources: list[str], as_of: date) -> str:
    """cProfile of the transforms of ``PROFILED`` raw items, in a child process that runs their pure-Python
    build: the profiler sees a compiled module's functions as one opaque call."""
    done = subprocess.run([sys.executable, "-c", _PROFILE_CHILD, str(raw_dir), ",".join(sources), as_of.isoformat()],
                          cwd=PROJECT_ROOT, env={**os.environ, "AAP_PURE_PYTHON": "1"}, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        return f"profile failed: {done.stderr.strip()[-500:]}"
    return done.stdout.strip()


def time_load(results: dict[str, tuple[list, list]], work: Path, now: datetime) -> tuple[float, int]:
    """Load transformed records into an empty warehouse; (seconds, calls stored)."""
    import duckdb

    from warehouse.db import connect
    from warehouse.load import SourceBatch, load_harvest

    db = work / "load-bench.duckdb"
    # records made by to_record in this process, as in a harvest (checked there, not again by the loader)
    batches = [SourceBatch(source=s, ok=True, records=r, rejected=rej, crawl={}, checked=True)
               for s, (r, rej) in results.items()]
    seconds = float("inf")
    for _ in range(REPEATS):  # each pass into a new empty warehouse; the best one
        for stale in (db, db.with_name(db.name + ".wal")):
            stale.unlink(missing_ok=True)
        connect(db).close()  # migrations are not the load
        t0 = time.monotonic()
        load_harvest(db, batches, now=now, run_id="bench-load")
        seconds = min(seconds, time.monotonic() - t0)
    con = duckdb.connect(str(db), read_only=True)
    stored = int(con.execute("SELECT count(*) FROM calls").fetchone()[0])
    con.close()
    return seconds, stored


def profile_text(prof: cProfile.Profile | pstats.Stats, top: int = 14) -> str:
    """The top functions by own time, then own time grouped by package."""
    stats = prof if isinstance(prof, pstats.Stats) else pstats.Stats(prof)
    buf = io.StringIO()
    stats.stream = buf
    stats.sort_stats("tottime").print_stats(top)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip() and not ln.startswith(("   Ordered", "   List"))]
    groups: dict[str, float] = {}
    total = 0.0
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        groups[_package(filename)] = groups.get(_package(filename), 0.0) + tottime
    share = sorted(groups.items(), key=lambda kv: -kv[1])[:10]
    head = "own time by package: " + ", ".join(f"{k} {v / total:.0%}" for k, v in share) if total else ""
    buf = io.StringIO()
    stats.stream = buf
    stats.sort_stats("cumulative").print_stats(r"/(pipeline|spiders|transforms|warehouse)/", top)
    ours = [ln for ln in buf.getvalue().splitlines() if ln.strip()[:1].isdigit()]
    return (head + "\n" + "\n".join(lines[-(top + 1):]) + "\n\naap functions by cumulative time:\n"
            + "\n".join(ours[:top]))


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0].split(".")[0]
    for ours in ("pipeline", "spiders", "transforms", "warehouse"):
        if f"/{ours}/" in filename:
            return f"aap.{ours}"
    if filename == "~":
        return "builtins (C)"
    if filename.startswith("<") or "/lib/python" in filename:
        return "python stdlib"
    return "other"


# --- one size --------------------------------------------------------------------------------------

@dataclass
class SizeResult:
    n: int
    sizes: dict[str, int]
    bare_s: float
    full_s: float
    stages: dict[str, float]
    peak_rss: int
    peak_rss_files: int
    peak_rss_root: int
    peak_pss: int
    full_served: dict[str, int]
    rerun_s: float
    rerun_crawls_s: float
    rerun_stages: dict[str, float]
    rerun_served: dict[str, int]
    rerun_written: dict[str, int]
    full_written: dict[str, int]
    next_day_s: float
    next_day_records: int
    items: int
    records: int
    transform_rps: float
    failed: list[str]
    #: every pair's full / bare ratio and rerun / full share (the figures above are the median pair's)
    ratios: list[float] = field(default_factory=list)
    rerun_shares: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.full_s / self.bare_s if self.bare_s else float("nan")


@dataclass
class _Pair:
    """One bare crawl, the full harvest after it and the rerun after that, at one size."""

    bare_s: float
    full_s: float
    rerun_s: float
    full: dict[str, Any]
    rerun: dict[str, Any]
    full_served: dict[str, int]
    rerun_served: dict[str, int]

    @property
    def ratio(self) -> float:
        return self.full_s / self.bare_s if self.bare_s else float("nan")


def median_pair(pairs: list[_Pair]) -> _Pair:
    """The pair whose full / bare ratio is the median (the lower middle one of an even count): every figure
    of the table comes from that one pair, so they stay consistent with each other."""
    if not pairs:
        raise ValueError("no pair was measured")
    return sorted(pairs, key=lambda p: p.ratio)[(len(pairs) - 1) // 2]


def bench_size(n: int, seed: int, work: Path, now: datetime, parallel: int, say: Callable[[str], None],
               profile_dir: Path | None = None, pairs: int = 1, memory_runs: int = 1) -> SizeResult:
    """Bare crawl, full harvest and rerun at one size, ``pairs`` times in a row (the machine's speed
    drifts: the median pair is reported, with the range of all); then, after the last pair, the rerun's
    crawls alone, the next day's rerun, and ``memory_runs`` full harvests whose memory is sampled (never
    the timed ones: the sampling slows them)."""
    import shutil

    data = work / f"n{n}"
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    measured: list[_Pair] = []
    with PortalProcess(n, seed) as portal:
        sources = portal.sources()
        sizes = {s: v for s, v in portal.stats()["sizes"].items() if v}
        say(f"N={n}: portal {portal.url} serving {sizes}")
        for k in range(1, max(1, pairs) + 1):
            for stale in (data / "bare", data / "harvest"):
                shutil.rmtree(stale, ignore_errors=True)
            bare_s, bare_items = bare_crawl(portal, sources, data / "bare", parallel)
            say(f"N={n} pair {k}: bare crawl {bare_s:.1f}s ({bare_items} items)")
            portal.reset()
            full, _, full_s = run_child_harvest(portal.url, sources, data / "harvest", now)
            full_served = _served(portal.stats())
            say(f"N={n} pair {k}: full pipeline {full_s:.1f}s")
            portal.reset()
            rerun, _, rerun_s = run_child_harvest(portal.url, sources, data / "harvest", now)
            rerun_served = _served(portal.stats())
            say(f"N={n} pair {k}: rerun {rerun_s:.1f}s, {rerun_served['not_modified']} × 304")
            measured.append(_Pair(bare_s, full_s, rerun_s, full, rerun, full_served, rerun_served))
        rerun_crawls_s = rerun_crawls(portal, sources, data / "harvest" / "raw", data / "recrawl", parallel)
        say(f"N={n}: rerun's crawls alone {rerun_crawls_s:.1f}s")
        if profile_dir:  # one more rerun under cProfile, apart from the measured ones
            run_child_harvest(portal.url, sources, data / "harvest", now, profile=profile_dir / f"rerun-n{n}.prof")
        # the daily case: the same pages the next morning (only calls whose reading depends on the date
        # are transformed again)
        portal.reset()
        next_day, _, next_day_s = run_child_harvest(portal.url, sources, data / "harvest", now + timedelta(days=1))
        say(f"N={n}: rerun the next day {next_day_s:.1f}s, {next_day['records']} records transformed again")
        memory: list[PeakSampler] = []
        for k in range(1, max(1, memory_runs) + 1):
            shutil.rmtree(data / "memory", ignore_errors=True)
            portal.reset()
            _, sampler, _ = run_child_harvest(portal.url, sources, data / "memory", now, sampled=True)
            assert sampler is not None
            memory.append(sampler)
            say(f"N={n} memory run {k}: peak RSS {sampler.peak / 2**20:.0f} MB ({sampler.peak_files / 2**20:.0f} MB "
                f"of it mapped from files; harvest process alone "
                f"{sampler.peak_root / 2**20:.0f} MB), peak PSS {sampler.peak_pss / 2**20:.0f} MB")
    pick = median_pair(measured)
    full, rerun = pick.full, pick.rerun
    highest = max(memory, key=lambda m: m.peak)
    stages = {k: round(v, 2) for k, v in full["seconds"].items()}
    transform_rps = full["records"] / full["seconds"]["transform"] if full["seconds"].get("transform") else 0.0
    return SizeResult(n=n, sizes=sizes, bare_s=pick.bare_s, full_s=pick.full_s, stages=stages,
                      peak_rss=highest.peak, peak_rss_files=highest.peak_files,
                      peak_rss_root=max(m.peak_root for m in memory),
                      peak_pss=max(m.peak_pss for m in memory),
                      full_served=pick.full_served, rerun_s=pick.rerun_s, rerun_crawls_s=rerun_crawls_s,
                      rerun_stages={k: round(v, 2) for k, v in rerun["seconds"].items()},
                      rerun_served=pick.rerun_served, rerun_written=rerun["written"], full_written=full["written"],
                      next_day_s=next_day_s, next_day_records=next_day["records"], items=full["items"],
                      records=full["records"], transform_rps=transform_rps,
                      failed=sorted({s for p in measured for s in p.full["failed"]})
                      + [f"rerun {s}" for s in sorted({s for p in measured for s in p.rerun["failed"]})]
                      + [f"next day {s}" for s in next_day["failed"]],
                      ratios=[p.ratio for p in measured],
                      rerun_shares=[p.rerun_s / p.full_s for p in measured if p.full_s])


# --- report ----------------------------------------------------------------------------------------

def revision() -> str:
    """The commit measured (``+`` when the working tree has uncommitted changes)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + ("+" if dirty else "")


def machine() -> dict[str, str]:
    """Cores, memory, CPU model, versions."""
    import duckdb
    import scrapy

    ram = "?"
    model = platform.processor() or platform.machine()
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kb = int(next(ln for ln in meminfo.splitlines() if ln.startswith("MemTotal")).split()[1])
        ram = f"{kb / 2**20:.1f} GiB"
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")),
                     model)
    except (OSError, StopIteration, ValueError):
        pass
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {"cores": str(os.cpu_count()), "ram": ram, "cpu": model, "load": load,
            "python": platform.python_version(), "scrapy": scrapy.__version__, "duckdb": duckdb.__version__,
            "os": f"{platform.system()} {platform.release()}"}


def _mb(b: float) -> str:
    return f"{b / 2**20:.0f} MB"


def table(results: list[SizeResult], transform: tuple[int, float, float], load: tuple[int, float]) -> str:
    """The benchmark table in Markdown."""
    import transforms  # (not at the top: the timed harvest child imports this module)

    cols = [f"N = {r.n:,}".replace(",", " ") for r in results]

    def row(name: str, goal: str, values: list[str]) -> str:
        return f"| {name} | {goal} | " + " | ".join(values) + " |"

    def num(x: float) -> str:
        return f"{x:,.0f}".replace(",", " ")

    def spread(values: list[float], fmt: str) -> str:
        return f" ({fmt.format(min(values))}–{fmt.format(max(values))})" if len(values) > 1 else ""

    out = ["| measure | goal | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    out.append(row("calls served (IDF / PdL / NA / GE)", "", [
        " / ".join(str(r.sizes.get(s, 0)) for s in ("ile_de_france", "pays_de_la_loire", "nouvelle_aquitaine",
                                                     "grand_est")) for r in results]))
    out.append(row("bare Scrapy crawl, items discarded", "", [f"{r.bare_s:.1f} s" for r in results]))
    out.append(row("full pipeline (crawl + transforms + load + snapshot + exports)", "",
                   [f"{r.full_s:.1f} s" for r in results]))
    def split(stages: dict[str, float]) -> str:
        return " / ".join(f"{stages.get(k, 0):.1f}" for k in ("crawl", "transform", "load", "snapshot", "export"))

    out.append(row("… of which crawl / transform / load / snapshot / export (s)", "",
                   [split(r.stages) for r in results]))
    out.append(row("ratio full / bare (all pairs)", "≤ 1.25", [
        f"{r.ratio:.2f}" + spread(r.ratios, "{:.2f}") for r in results]))
    out.append(row("rerun, nothing changed: time (share of full) (all pairs' shares)", "≤ 10 % of full", [
        # (to a tenth of a percent: at N = 1 000 the share sits near its goal, which whole percents hide)
        f"{r.rerun_s:.2f} s ({r.rerun_s / r.full_s:.1%})" + spread(r.rerun_shares, "{:.1%}") for r in results]))
    out.append(row("… rerun crawl / transform / load / snapshot / export (s)", "",
                   [split(r.rerun_stages) for r in results]))
    out.append(row("… rerun's crawls (or revalidations) alone, 2 at a time, no transforms between them", "",
                   [f"{r.rerun_crawls_s:.1f} s" for r in results]))
    out.append(row("rerun requests (304s)", "", [
        f"{r.rerun_served['requests']} ({r.rerun_served['not_modified']})" for r in results]))
    out.append(row("rerun body bytes downloaded (vs full)", "", [
        f"{r.rerun_served['bytes'] / 1e6:.2f} MB ({r.rerun_served['bytes'] / max(1, r.full_served['bytes']):.1%}"
        f" of {r.full_served['bytes'] / 1e6:.1f} MB)" for r in results]))
    out.append(row("rerun rows written: calls restamped / versions / quarantine / runs", "", [
        f"{w['calls']} / {w['call_versions']} / {w['quarantine']} / {w['harvest_runs']}"
        for w in (r.rerun_written for r in results)]))
    out.append(row("rerun the next day, nothing changed (records transformed again)", "", [
        f"{r.next_day_s:.1f} s ({r.next_day_s / r.full_s:.0%}), {num(r.next_day_records)}" for r in results]))
    out.append(row("transforms inside the harvest (CPU time of its thread)", "", [f"{r.transform_rps:,.0f} records/s".replace(",", " ")
                                                         for r in results]))
    out.append(row("DuckDB load inside the harvest", "", [f"{r.stages.get('load', 0):.2f} s" for r in results]))
    out.append(row("peak RSS, whole run incl. crawl processes (highest of the memory runs)", "< 500 MB at 10 000",
                   [_mb(r.peak_rss) for r in results]))
    out.append(row("… of which pages mapped from files (the code of Python and its libraries, in every "
                   "process), at that peak", "", [_mb(r.peak_rss_files) for r in results]))
    out.append(row("… of which the harvest process alone (its peak)", "", [_mb(r.peak_rss_root) for r in results]))
    out.append(row("peak PSS, whole run (pages shared by forked processes counted once)", "",
                   [_mb(r.peak_pss) for r in results]))
    tn, ts, ref = transform
    ln, ls = load
    out += ["", "| single-stage measure | goal | result |", "|---|---|---|",
            f"| transforms alone, {num(tn)} raw items, one thread ({transforms.IMPLEMENTATION}; CPU time, best of "
            f"{REPEATS}) | ≥ 5 000 records/s | "
            f"{num(tn / ts)} records/s ({ts:.2f} s; meanwhile the machine's reference loop, as printed by "
            f"`aap classify --benchmark`, took {ref:.1f} µs) |",
            f"| DuckDB load of {num(ln)} calls into an empty warehouse (best of {REPEATS}) | < 2 s | {ls:.2f} s |"]
    return "\n".join(out)


def write_benchmarks(path: Path, body: str) -> None:
    """Replace the generated block of ``path`` (between the markers), keeping the rest."""
    block = f"{MARK_START}\n{body.rstrip()}\n{MARK_END}"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n\n"
    if MARK_START in text and MARK_END in text:
        before, rest = text.split(MARK_START, 1)
        after = rest.split(MARK_END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


@contextmanager
def _workdir(given: str | None) -> Iterator[Path]:
    if given:
        p = Path(given).resolve()
        p.mkdir(parents=True, exist_ok=True)
        yield p
    else:
        with tempfile.TemporaryDirectory(prefix="aap-bench-") as tmp:
            yield Path(tmp)


#: aap's own packages, byte-compiled before the timed runs (:func:`compile_sources`)
PACKAGES = ("pipeline", "spiders", "transforms", "warehouse")


def compile_sources(root: Path = PROJECT_ROOT, packages: tuple[str, ...] = PACKAGES) -> None:
    """Byte-compile aap's modules where they lack an up-to-date cached file, as installing a package does:
    the timed processes then import them as an installed aap does. Where ``PYTHONDONTWRITEBYTECODE`` is
    set, an editable checkout never gets those files, and each harvest process compiled its modules again
    (23 ms of a 0.38 s rerun at N = 1 000)."""
    import compileall

    for package in packages:
        compileall.compile_dir(root / package, quiet=1)


def cmd_bench(args: argparse.Namespace) -> int:
    sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    if args.pairs < 1 or args.memory_runs < 1:
        print("aap bench: --pairs and --memory-runs must be at least 1", file=sys.stderr)
        return 2
    say = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    now = datetime.combine(ANCHOR, datetime.min.time(), TIMEZONE).replace(hour=8)
    compile_sources()
    started = datetime.now(TIMEZONE)
    load_start = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    results: list[SizeResult] = []
    with _workdir(args.work_dir) as work:
        profile_dir = work / "profiles" if args.profile else None
        if profile_dir:
            profile_dir.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            results.append(bench_size(n, args.seed, work, now, args.parallel, say,
                                      profile_dir if n == max(sizes) else None, pairs=args.pairs,
                                      memory_runs=args.memory_runs))
        biggest = results[-1]
        sources = list(biggest.sizes)
        items = raw_items(work / f"n{biggest.n}" / "harvest" / "raw", sources, args.transform_n)
        t_s, t_n, transformed = time_transforms(items, ANCHOR)
        from transforms.classify import reference_loop_us

        reference = reference_loop_us()
        say(f"transforms alone: {t_n} records in {t_s:.2f}s CPU")
        l_s, l_n = time_load(transformed, work, now)
        say(f"load alone: {l_n} calls in {l_s:.2f}s")
        profiles = ""
        if profile_dir:
            rerun_prof = profile_dir / f"rerun-n{biggest.n}.prof"
            if rerun_prof.is_file():
                profiles += (f"\n### Profile: harvest process of the N = {biggest.n} rerun (crawls run in child "
                             "processes)\n\n```\n" + profile_text(pstats.Stats(str(rerun_prof))) + "\n```\n")
            crawl_prof = profile_crawl(sources, work, args.seed, min(biggest.n, args.profile_n))
            profiles += crawl_prof
            t_prof = profile_transforms(work / f"n{biggest.n}" / "harvest" / "raw", sources, ANCHOR)
            profiles += (f"\n### Profile: transforms of {PROFILED} raw items, their pure-Python build (the profiler "
                         f"cannot see inside the compiled modules)\n\n```\n{t_prof}\n```\n")
    m = machine()
    command = "aap bench " + " ".join(shlex.quote(a) for a in (args.argv or []))
    failed = [f"N={r.n}: {', '.join(r.failed)}" for r in results if r.failed]
    body = "\n".join([
        f"Measured {started:%Y-%m-%d %H:%M %Z} at commit {revision()} with `{command.strip()}` (seed {args.seed}, "
        f"{args.parallel} crawls at once, synthetic portal on 127.0.0.1 in its own process). Each size ran "
        f"{args.pairs} pair{'s' if args.pairs > 1 else ''} of bare crawl, full pipeline and rerun in a row; the "
        "table shows the pair with the median ratio, and in brackets the range over all pairs. Memory comes from "
        f"{args.memory_runs} more full harvest{'s' if args.memory_runs > 1 else ''} per size, sampled 20 times a "
        "second (the timed runs are not sampled: the sampling slows them).",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['ram']} RAM, {m['os']}; Python {m['python']}, "
        f"Scrapy {m['scrapy']}, DuckDB {m['duckdb']}. Load average at the start: {load_start}; at the end "
        f"(1/5/15 min): {m['load']}.",
        "",
        table(results, (t_n, t_s, reference), (l_n, l_s)),
        "",
        *(["Sources that failed: " + "; ".join(failed), ""] if failed else []),
        profiles,
    ])
    print(body)
    if args.output:
        write_benchmarks(Path(args.output), body)
        say(f"written to {args.output}")
    return 0


def profile_crawl(sources: list[str], work: Path, seed: int, n: int) -> str:
    """cProfile of the biggest detail-page crawl (the crawl is the slowest stage) on its own portal."""
    from pipeline.synthetic import RssShape, split_sizes
    from spiders.demo import DEMO_SETTINGS

    detail = [s for s in sources if s != RssShape.source and has_detail_pages(s)] or sources
    source = max(detail, key=lambda s: split_sizes(n, sources).get(s, 0))
    count = split_sizes(n, sources)[source]
    out_dir = work / "profile-crawl"
    out_dir.mkdir(parents=True, exist_ok=True)
    prof = out_dir / "crawl.prof"
    with PortalProcess(n, seed) as portal:
        cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "pipeline.crawl", "--source", source,
               "--out", str(out_dir / f"{source}.jsonl"), "--stats", str(out_dir / "stats.json"),
               "--log", str(out_dir / "crawl.log"), "--base-url", portal.base_url(source)]
        for k, v in DEMO_SETTINGS.items():
            cmd += ["--set", f"{k}={json.dumps(v)}"]
        subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, timeout=3600, check=False)
    if not prof.is_file():
        return ""
    return (f"\n### Profile: one crawl process, `{source}` ({count} calls: list pages + one detail page each)\n\n"
            "```\n" + profile_text(pstats.Stats(str(prof))) + "\n```\n")


def has_detail_pages(source: str) -> bool:
    """Whether the synthetic shape of ``source`` has one detail page per call."""
    from pipeline.synthetic import SHAPES, OdsShape

    return not issubclass(SHAPES[source], OdsShape)


def register(sub: Any) -> None:
    p = sub.add_parser("bench", help="benchmark crawl, pipeline, rerun, transforms and load on a synthetic "
                                     "local portal; writes BENCHMARKS.md")
    add_arguments(p)
    p.set_defaults(func=lambda a: cmd_bench(_with_argv(a)))


def _with_argv(args: argparse.Namespace) -> argparse.Namespace:
    argv = sys.argv[sys.argv.index("bench") + 1:] if "bench" in sys.argv else []
    args.argv = argv
    return args


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                   help="comma-separated numbers of calls (default 1000,5000,10000,20000)")
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic portal (default 1)")
    p.add_argument("--parallel", type=int, default=2, help="crawls at once, as in a harvest (default 2)")
    p.add_argument("--pairs", type=int, default=3,
                   help="bare crawl + full pipeline + rerun rounds per size; the median one is reported (default 3)")
    p.add_argument("--memory-runs", type=int, default=2,
                   help="full harvests per size whose memory is sampled, apart from the timed ones (default 2)")
    p.add_argument("--transform-n", type=int, default=10_000, help="raw items for the transforms/load measures")
    p.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True,
                   help="add cProfile summaries of a crawl, the rerun's harvest process and the transforms "
                        "(default on)")
    p.add_argument("--profile-n", type=int, default=5000, help="portal size of the profiled crawl")
    p.add_argument("--output", default="BENCHMARKS.md", help="file to update ('' to only print)")
    p.add_argument("--work-dir", default=None, help="keep the runs' data here (default: a temporary folder)")
    p.add_argument("--quiet", "-q", action="store_true")


def main(argv: list[str] | None = None) -> int:
    """``python -m pipeline.bench``: the bench (its timed harvests run ``pipeline.bench_child``)."""
    ap = argparse.ArgumentParser(prog="python -m pipeline.bench")
    add_arguments(ap)
    args = ap.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    return cmd_bench(args)


if __name__ == "__main__":
    from pipeline import gcpause

    gcpause.exit_with(main())
