"""Properties of the loader over random harvest sequences: idempotent, nothing deleted, one open version
per call, the version numbers count the changes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.warehouse.factory import at, batch, record
from tests.warehouse.test_load import dump, one
from warehouse.load import load_harvest

SRC = "region_nouvelle_aquitaine"
IDS = [f"aap-{i}" for i in range(6)]
DEADLINES = ["2027-01-15", "2027-02-01", "2027-03-31"]

harvest = st.tuples(
    st.booleans(),                                                    # did the source succeed?
    st.dictionaries(st.sampled_from(IDS),
                    st.tuples(st.sampled_from(DEADLINES), st.sampled_from(["explicit", "likely"])),
                    max_size=len(IDS)),
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(harvest, min_size=2, max_size=3))
def test_random_harvest_sequences_keep_the_invariants(harvests):
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "w.duckdb"
        seen: set[str] = set()
        for n, (ok, calls) in enumerate(harvests):
            records = [record(native_id=i, deadlines=[d], ccas_eligibility=c) for i, (d, c) in sorted(calls.items())]
            now, run = at(f"2026-11-{2 + 7 * n:02d}"), f"r{n}"
            load_harvest(db, [batch(SRC, records, ok=ok)], now=now, run_id=run)
            before = dump(db)
            again = load_harvest(db, [batch(SRC, records, ok=ok)], now=now, run_id=run)[SRC]
            assert (again.new, again.updated) == (0, 0)
            after = dump(db)
            assert {t: v for t, v in after.items() if t != "harvest_runs"} == {
                t: v for t, v in before.items() if t != "harvest_runs"}
            if ok:
                seen |= {r["id"] for r in records}
            assert one(db, "SELECT count(*) FROM calls") == [(len(seen),)]
            assert one(db, "SELECT count(*) FROM (SELECT call_id FROM call_versions WHERE valid_to IS NULL "
                           "GROUP BY call_id HAVING count(*) = 1)") == [(len(seen),)]
            assert one(db, "SELECT count(*) FROM calls c WHERE version <> "
                           "(SELECT count(*) FROM call_versions v WHERE v.call_id = c.id)") == [(0,)]
