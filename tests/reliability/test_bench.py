"""Pieces of ``aap bench`` that can be checked without running a benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.bench import (
    MARK_END,
    MARK_START,
    PeakSampler,
    SizeResult,
    _children,
    _Pair,
    compile_sources,
    median_pair,
    raw_items,
    table,
    time_transforms,
    tree_pss,
    tree_rss,
    write_benchmarks,
)


def test_benchmarks_block_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    write_benchmarks(path, "first table")
    text = path.read_text(encoding="utf-8")
    assert "first table" in text and text.count(MARK_START) == 1
    path.write_text("# Benchmarks\n\nHand-written analysis.\n\n" + text[text.index(MARK_START):]
                    + "\nMore notes.\n", encoding="utf-8")
    write_benchmarks(path, "second table")
    text = path.read_text(encoding="utf-8")
    assert "second table" in text and "first table" not in text
    assert "Hand-written analysis." in text and "More notes." in text
    assert text.count(MARK_START) == text.count(MARK_END) == 1


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_tree_rss_counts_children() -> None:
    code = "x = bytearray(60 * 1024 * 1024); print('ready', flush=True); import time; time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        alone = tree_rss(child.pid)
        with PeakSampler(os.getpid(), interval=0.02) as sampler:
            time.sleep(0.5)
        whole = tree_rss(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert alone > 50 * 1024 * 1024
    assert whole > alone
    assert sampler.peak >= alone


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_the_peak_says_how_much_of_it_was_mapped_from_files(tmp_path: Path) -> None:
    data = tmp_path / "blob"
    data.write_bytes(os.urandom(48 * 1024 * 1024))
    mapped = ("import mmap, sys, time; f = open(sys.argv[1], 'rb'); m = mmap.mmap(f.fileno(), 0, "
              "access=mmap.ACCESS_READ); s = sum(m[i] for i in range(0, len(m), 4096)); "
              "print('ready', flush=True); time.sleep(30)")
    anonymous = "x = bytearray(48 * 1024 * 1024); print('ready', flush=True); import time; time.sleep(30)"
    seen = {}
    for name, code in (("mapped", mapped), ("anonymous", anonymous)):
        child = subprocess.Popen([sys.executable, "-c", code, str(data)], stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
            with PeakSampler(child.pid, interval=0.02) as sampler:
                time.sleep(0.3)
        finally:
            child.kill()
            child.wait()
        seen[name] = sampler
    mb = 1024 * 1024
    assert seen["mapped"].peak_files > 44 * mb and seen["mapped"].peak > seen["mapped"].peak_files
    assert seen["anonymous"].peak > 48 * mb and seen["anonymous"].peak - seen["anonymous"].peak_files > 44 * mb


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="needs Linux /proc smaps_rollup")
def test_tree_pss_counts_pages_shared_after_a_fork_once() -> None:
    """A process that fills 60 MB then forks: both hold the pages (RSS counts them twice), one copy exists."""
    code = ("import os, sys, time\nx = bytearray(60 * 1024 * 1024)\nx[::4096] = b'x' * len(x[::4096])\n"
            "pid = os.fork()\nif pid == 0:\n    time.sleep(30)\n    os._exit(0)\n"
            "print('ready', flush=True)\ntime.sleep(30)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        rss, pss = tree_rss(parent.pid), tree_pss(parent.pid)
        with PeakSampler(parent.pid, interval=0.02) as sampler:
            time.sleep(0.3)
    finally:
        for pid in _children(parent.pid):
            os.kill(pid, signal.SIGKILL)
        parent.kill()
        parent.wait()
    mb = 1024 * 1024
    assert rss > 120 * mb  # the 60 MB buffer, resident in both processes
    assert 60 * mb < pss < rss - 50 * mb  # counted once
    assert 60 * mb < sampler.peak_pss < sampler.peak


def test_raw_items_repeat_under_new_ids(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "grand_est.jsonl").write_text(
        '{"native_id": "a", "url": "https://x.fr/a", "title": "A"}\n'
        '{"native_id": "b", "url": "https://x.fr/b", "title": "B"}\nnot json\n', encoding="utf-8")
    items = raw_items(raw, ["grand_est"], 5)["grand_est"]
    assert len(items) == 5
    ids = [item["native_id"] for _, item, _ in items]
    assert len(set(ids)) == 5 and ids[:2] == ["a", "b"]
    assert len({item["url"] for _, item, _ in items}) == 5


def _pair(bare_s: float, full_s: float) -> _Pair:
    return _Pair(bare_s=bare_s, full_s=full_s, rerun_s=full_s / 10, full={}, rerun={},
                 full_served={}, rerun_served={})


def test_a_timed_transforms_pass_does_not_include_freeing_the_previous_ones(monkeypatch) -> None:
    """Each pass's clock runs while it transforms, not while the records of the pass before are freed."""
    from pipeline import bench, run

    events: list[str] = []

    class Record:
        def __del__(self) -> None:
            events.append("freed")

    monkeypatch.setattr(run, "transform_items", lambda source, rows, as_of: ([Record() for _ in rows], []))
    monkeypatch.setattr(bench.time, "process_time", lambda: events.append("clock") or 0.0)
    _, records, _ = time_transforms({"a": [1, 2], "b": [3]}, None)
    assert records == 3
    clocks = [i for i, e in enumerate(events) if e == "clock"]
    assert len(clocks) == 2 * bench.REPEATS and events.count("freed") == 3 * (bench.REPEATS - 1)
    for start, stop in zip(clocks[::2], clocks[1::2], strict=True):
        assert "freed" not in events[start:stop]


def test_the_median_pair_is_chosen_by_its_ratio() -> None:
    pairs = [_pair(10.0, 15.0), _pair(20.0, 22.0), _pair(10.0, 12.5)]  # ratios 1.5, 1.1, 1.25
    assert median_pair(pairs).ratio == 1.25
    assert median_pair(pairs[:2]).ratio == 1.1  # an even count: the lower middle one
    assert median_pair(pairs[:1]) is pairs[0]
    with pytest.raises(ValueError):
        median_pair([])


def test_the_timed_harvest_child_harvests_then_revalidates(tmp_path: Path) -> None:
    """The process the bench times (``pipeline.bench_child``) against a small synthetic portal: a full
    harvest, then a rerun that transforms nothing, with their JSON summaries as the bench reads them."""
    from datetime import datetime

    from pipeline.bench import ANCHOR, PortalProcess, run_child_harvest
    from pipeline.settings import TIMEZONE

    now = datetime.combine(ANCHOR, datetime.min.time(), TIMEZONE).replace(hour=8)
    with PortalProcess(40, 1) as portal:
        sources = portal.sources()
        full, sampler, _ = run_child_harvest(portal.url, sources, tmp_path / "harvest", now)
        rerun, _, _ = run_child_harvest(portal.url, sources, tmp_path / "harvest", now)
    assert sampler is None
    assert full["items"] == 40 and full["records"] == 40 and not full["failed"]
    assert full["written"]["calls"] == 40 and not full["export_errors"]
    assert rerun["items"] == 40 and rerun["records"] == 0 and rerun["skipped"] == 40
    assert rerun["written"]["call_versions"] == 0


def test_the_bench_byte_compiles_the_packages_it_times(tmp_path: Path) -> None:
    import importlib.util

    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    modules = [package / "__init__.py", package / "mod.py", package / "sub" / "deep.py"]
    for module in modules:
        module.write_text("VALUE = 1\n", encoding="utf-8")
    compile_sources(tmp_path, ("pkg",))
    for module in modules:
        cached = Path(importlib.util.cache_from_source(str(module)))
        assert cached.is_file(), module
    # an edited module gets a new cached file
    before = Path(importlib.util.cache_from_source(str(modules[1]))).read_bytes()
    modules[1].write_text("VALUE = 22\n", encoding="utf-8")
    os.utime(modules[1], (time.time() + 5, time.time() + 5))
    compile_sources(tmp_path, ("pkg",))
    assert Path(importlib.util.cache_from_source(str(modules[1]))).read_bytes() != before


def test_the_rerun_share_is_printed_to_a_tenth_of_a_percent() -> None:
    """Near its goal (≤ 10 %), a share of 10.4 % must not read as 10 %."""
    served = {"requests": 10, "not_modified": 10, "bytes": 0}
    written = {"calls": 0, "call_versions": 0, "quarantine": 0, "harvest_runs": 4}
    result = SizeResult(
        n=1000, sizes={"grand_est": 1000}, bare_s=2.0, full_s=2.5, stages={}, peak_rss=1 << 28,
        peak_rss_files=1 << 27, peak_rss_root=1 << 27, peak_pss=1 << 28, full_served={**served, "bytes": 1},
        rerun_s=0.26, rerun_crawls_s=0.05, rerun_stages={}, rerun_served=served, rerun_written=written,
        full_written=written, next_day_s=0.4, next_day_records=83, items=1000, records=1000,
        transform_rps=7000.0, failed=[], ratios=[1.25, 1.1], rerun_shares=[0.104, 0.096])
    row = next(line for line in table([result], (10000, 0.9, 9.0), (10000, 1.0)).splitlines()
               if line.startswith("| rerun, nothing changed"))
    assert "0.26 s (10.4%) (9.6%–10.4%)" in row
