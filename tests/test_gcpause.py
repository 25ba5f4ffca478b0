"""The collector pause (pipeline.gcpause) and what it relies on: the transforms leave no reference cycles."""

import gc
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline import gcpause

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_pause_nests_and_restores(collector_on):
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_pause_restores_after_an_exception(collector_on):
    with pytest.raises(KeyError), gcpause.paused():
        raise KeyError("x")
    assert gc.isenabled()


def test_collector_stays_off_when_it_was_off_before(collector_on):
    gc.disable()
    with gcpause.paused():
        pass
    assert not gc.isenabled()


def test_what_a_pause_built_is_old_when_it_ends(collector_on):
    """The objects built during a pause go to the oldest generation when it ends: the next young
    collection does not walk them."""
    with gcpause.paused():
        built = [[i] for i in range(5000)]
        assert gc.get_count()[0] >= len(built)
    assert gc.get_count()[0] < 100
    assert gc.get_freeze_count() == 0
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(built) in oldest and id(built[-1]) in oldest


def test_a_pause_leaves_frozen_objects_frozen(collector_on):
    kept = [[i] for i in range(100)]
    gc.freeze()
    try:
        with gcpause.paused():
            pass
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()


def test_overlapping_pauses_from_two_threads(collector_on):
    """Thread A pauses, B pauses, A resumes: still paused until B ends too."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def a():
        with gcpause.paused():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b():
        a_in.wait(5)
        with gcpause.paused():
            b_in.set()
            a_out.wait(5)
            seen["after A left"] = gc.isenabled()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"after A left": False}
    assert gc.isenabled()


_CYCLES = """
import gc, json
from collections import Counter
from datetime import date
from transforms.classify import benchmark_records, classify_line
from transforms.evaluate import DEFAULT_CORPUS, load_corpus
inputs = [c["input"] for c in load_corpus(DEFAULT_CORPUS)]
objs = inputs + benchmark_records(inputs, 300)
for o in objs[:50]:  # caches and lazily compiled patterns filled first
    classify_line(o, default_as_of=date(2026, 11, 25))
gc.collect()
gc.disable()
gc.set_debug(gc.DEBUG_SAVEALL)
for as_of in (date(2026, 11, 25), date(2025, 3, 1)):
    for o in objs:
        classify_line(o, default_as_of=as_of)
gc.collect()
print(json.dumps(Counter(type(o).__qualname__ for o in gc.garbage).most_common(8)))
"""


def test_classifiers_leave_no_reference_cycles():
    """Pausing the collector around the transforms is only harmless if they create no cyclic garbage (a
    nested function kept in a local makes a cycle in the compiled build, for instance). Checked in a
    fresh interpreter: other tests leave threads whose garbage would be counted here."""
    done = subprocess.run([sys.executable, "-c", _CYCLES], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


_EXIT = """
import atexit, gc
from pipeline import gcpause
kept = [[i] for i in range(1000)]
atexit.register(lambda: print("frozen", gc.get_freeze_count() >= len(kept), flush=True))
gcpause.exit_with(3)
"""


def test_exit_with_freezes_the_objects_and_keeps_the_exit_code():
    """The last collection of an exiting command skips what was frozen; the command's code is its exit
    status."""
    done = subprocess.run([sys.executable, "-c", _EXIT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stdout.strip() == "frozen True"


def test_the_aap_command_exits_with_the_status_its_command_returns(tmp_path):
    """A command that fails returns its status from ``main``; ``aap`` exits with it."""
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "export", "weekly", "--data-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no warehouse" in done.stderr
