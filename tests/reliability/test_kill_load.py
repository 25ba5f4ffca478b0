"""A load killed with SIGKILL in the middle of its transaction leaves the previous state, and a rerun of
the same load reaches exactly the state of an uninterrupted one."""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from pipeline.run import transform_items
from pipeline.settings import PROJECT_ROOT, TIMEZONE
from pipeline.synthetic import SyntheticPortal
from tests.reliability.drive import spider_items, state_hash
from warehouse.db import connect
from warehouse.load import SourceBatch, load_harvest

NOW = datetime(2026, 10, 1, 8, 0, tzinfo=TIMEZONE)

#: the child: a real load whose last step before COMMIT announces itself, then waits to be killed
CHILD = """
import pickle, sys, time
from pathlib import Path
import warehouse.load as load

db, batches_file, marker, now, run_id = sys.argv[1:6]
batches = pickle.loads(Path(batches_file).read_bytes())
real_recluster = load.recluster

def recluster_then_hang(con):
    real_recluster(con)
    Path(marker).write_text("inside the transaction, every row written, not committed")
    time.sleep(120)

load.recluster = recluster_then_hang
from datetime import datetime
load.load_harvest(db, batches, now=datetime.fromisoformat(now), run_id=run_id)
"""


def _batches(portal: SyntheticPortal) -> list[SourceBatch]:
    as_of = NOW.astimezone(TIMEZONE).date()
    out = []
    for source in portal.sizes:
        items = spider_items(portal, source)
        records, rejected = transform_items(source, [(n, it, None) for n, it in enumerate(items, 1)], as_of)
        out.append(SourceBatch(source=source, ok=True, records=records, rejected=rejected,
                               crawl={"items": len(items)}))
    return out


def test_sigkill_mid_transaction_then_rerun(tmp_path: Path) -> None:
    portal = SyntheticPortal({"grand_est": 40, "ile_de_france": 40}, seed=13, change_rate=0.4)
    db = tmp_path / "warehouse.duckdb"
    load_harvest(db, _batches(portal), now=NOW, run_id="run-1")
    before = state_hash(db)

    portal.advance()
    second = _batches(portal)
    later = NOW + timedelta(days=7)
    reference = tmp_path / "reference.duckdb"
    shutil.copy(db, reference)
    load_harvest(reference, second, now=later, run_id="run-2")
    uninterrupted = state_hash(reference)
    assert uninterrupted != before, "the second harvest must change the warehouse for the test to mean anything"

    batches_file = tmp_path / "batches.pickle"
    batches_file.write_bytes(pickle.dumps(second))
    marker = tmp_path / "in-transaction"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(batches_file), str(marker),
                              later.isoformat(), "run-2"], cwd=PROJECT_ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), f"the load never reached its commit point: {child.stderr.read().decode()[-2000:]}"
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL

    connect(db).close()  # the warehouse opens for writing (recovery, migrations) …
    connect(db, read_only=True).close()  # … and for reading
    assert state_hash(db) == before, "a killed load must leave the previous state"

    load_harvest(db, second, now=later, run_id="run-2")
    assert state_hash(db) == uninterrupted
