"""A load killed in the middle of its transaction leaves the previous state, and a rerun converges."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pipeline.settings import PROJECT_ROOT
from tests.warehouse.factory import at, batch, record
from tests.warehouse.test_load import dump
from warehouse.load import load_harvest

SRC = "region_nouvelle_aquitaine"

CHILD = """
import pathlib, sys, time
from tests.warehouse.factory import at, batch, record
from warehouse import load

def stall(con):
    pathlib.Path(sys.argv[2]).write_text("inside the transaction")
    time.sleep(120)

load.recluster = stall
records = [record(native_id=f"aap-{i}", deadlines=["2027-02-01"]) for i in range(300)]
load.load_harvest(sys.argv[1], [load.SourceBatch("region_nouvelle_aquitaine", True, records, [], {})],
                  now=at("2026-11-09"), run_id="r2")
"""


def test_killed_load_leaves_previous_state_and_rerun_converges(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    load_harvest(db, [batch(SRC, [record(native_id="aap-0")])], now=at("2026-11-02"), run_id="r1")
    before = dump(db)
    marker = tmp_path / "inside"
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(marker)], cwd=PROJECT_ROOT, env=env)
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert child.poll() is None, "the loading process ended before being killed"
            assert time.monotonic() < deadline, "the loading process never reached its transaction"
            time.sleep(0.1)
        child.kill()
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert dump(db) == before

    records = [record(native_id=f"aap-{i}", deadlines=["2027-02-01"]) for i in range(300)]
    stats = load_harvest(db, [batch(SRC, records)], now=at("2026-11-09"), run_id="r2")
    assert (stats[SRC].new, stats[SRC].updated) == (299, 1)
    again = load_harvest(db, [batch(SRC, records)], now=at("2026-11-09"), run_id="r2")
    assert (again[SRC].new, again[SRC].updated, again[SRC].unchanged) == (0, 0, 300)
