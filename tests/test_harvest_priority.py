"""The harvest's crawl phase runs in a thread below its crawls (see ``pipeline.run.below_crawls``)."""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipeline.run import BELOW_CRAWLS_NICENESS, below_crawls


@pytest.fixture(autouse=True)
def _python_handles_sigint():
    """Ctrl-C as Python handles it by default, even when the test run was started with SIGINT ignored (a
    background job of a non-interactive shell), where ``_thread.interrupt_main`` does nothing."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_only_the_crawl_phase_thread_is_lowered() -> None:
    before = _niceness()
    policy = os.sched_getscheduler(0)
    seen: list[tuple[int, int, str]] = []
    below_crawls(lambda stop: seen.append((_niceness(), os.sched_getscheduler(0),
                                           threading.current_thread().name)))
    expected = min(before + BELOW_CRAWLS_NICENESS, 19)
    assert seen == [(expected, os.SCHED_IDLE, "harvest-crawl-phase")]
    assert (_niceness(), os.sched_getscheduler(0)) == (before, policy)  # the caller's thread keeps its priority


def test_the_crawl_phase_error_reaches_the_caller() -> None:
    def fails(stop: threading.Event) -> None:
        raise ValueError("a load failed")

    with pytest.raises(ValueError, match="a load failed"):
        below_crawls(fails)


class _Interrupted:
    """A crawl phase that interrupts its caller with ``signum`` (which is waiting for it), then waits for
    the stop event, as the harvest's does, and records that it unwound."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.stop: threading.Event | None = None
        self.unwound = threading.Event()

    def __call__(self, stop: threading.Event) -> None:
        self.stop = stop
        time.sleep(0.3)
        _thread.interrupt_main(self.signum)
        try:
            deadline = time.monotonic() + 10
            while not stop.is_set():
                assert time.monotonic() < deadline, "stop was never set"
                time.sleep(0.01)
            raise KeyboardInterrupt
        finally:
            self.unwound.set()


def test_ctrl_c_stops_the_crawl_phase_before_it_is_raised() -> None:
    crawl_phase = _Interrupted(signal.SIGINT)  # Ctrl-C
    with pytest.raises(KeyboardInterrupt):
        below_crawls(crawl_phase)
    assert crawl_phase.unwound.is_set() and crawl_phase.stop is not None and crawl_phase.stop.is_set()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_ctrl_c_during_a_harvest_cancels_the_waiting_crawls_and_stores_nothing(tmp_path: Path) -> None:
    from pipeline.portal import FixturePortal
    from pipeline.run import demo_env, harvest
    from pipeline.settings import paths
    from spiders.demo import DEMO_SETTINGS
    from spiders.registry import all_spiders

    crawled: list[str] = []
    niceness: list[int] = []

    def progress(message: str) -> None:  # called by the thread that ran the crawl
        niceness.append(_niceness())
        if message.startswith("crawled ") and not crawled:
            _thread.interrupt_main()  # Ctrl-C as soon as the first crawl has ended
        crawled.append(message)

    p = paths(tmp_path)
    with FixturePortal() as portal, pytest.raises(KeyboardInterrupt):
        harvest(None, paths=p, now=datetime(2026, 11, 25, 8, tzinfo=UTC), base_url_for=portal.base_url,
                crawl_settings=DEMO_SETTINGS, crawl_env=demo_env(), progress=progress)
    assert 1 <= len(crawled) < len(all_spiders()) // 2  # two crawls at a time: the rest never started
    assert set(niceness) == {_niceness()}  # the crawls' threads do not yield: only the transforms do
    con = duckdb.connect(str(p.warehouse), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM calls").fetchone() == (0,)  # rolled back
        assert con.execute("SELECT count(*) FROM harvest_runs").fetchone() == (0,)
    finally:
        con.close()


def test_a_signal_handlers_exception_also_waits_for_the_crawl_phase() -> None:
    def terminate(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    crawl_phase = _Interrupted(signal.SIGTERM)
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        with pytest.raises(SystemExit) as exit_info:
            below_crawls(crawl_phase)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert exit_info.value.code == 128 + signal.SIGTERM
    assert crawl_phase.unwound.is_set()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread scheduling is Linux's")
def test_sources_ending_after_the_last_crawl_are_loaded_at_the_harvests_own_priority(tmp_path: Path,
                                                                                    monkeypatch) -> None:
    """A source settled while other crawls run is loaded below them; the last ones, once every crawl has
    ended, at the caller's priority (nothing is left to yield to)."""
    from pipeline.portal import FixturePortal
    from pipeline.run import demo_env, harvest
    from pipeline.settings import paths
    from spiders.demo import DEMO_SETTINGS
    from warehouse.load import HarvestLoad

    adds: list[tuple[str, int]] = []
    add = HarvestLoad.add

    def spy(self, batch):
        adds.append((batch.source, os.sched_getscheduler(0)))
        return add(self, batch)

    monkeypatch.setattr(HarvestLoad, "add", spy)
    sources = ["grand_est", "pays_de_la_loire", "nouvelle_aquitaine", "fse_gouv"]
    with FixturePortal() as portal:
        report = harvest(sources, paths=paths(tmp_path), now=datetime(2026, 11, 25, 8, tzinfo=UTC),
                         base_url_for=portal.base_url, crawl_settings=DEMO_SETTINGS, crawl_env=demo_env())
    assert sorted(name for name, _ in adds) == sorted(sources) == sorted(report.outcomes)
    assert adds[-1][1] == os.sched_getscheduler(0) != os.SCHED_IDLE  # the last: after every crawl
    assert {policy for _, policy in adds[:-1]} <= {os.SCHED_IDLE, os.sched_getscheduler(0)}
    assert os.SCHED_IDLE in {policy for _, policy in adds}  # those settled while crawls ran yielded
