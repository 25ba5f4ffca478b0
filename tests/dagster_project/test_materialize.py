"""Every source materialized through the Dagster jobs against the local fixture portal, into a temporary
data folder and DuckDB file; then one source whose listing is emptied."""

from pathlib import Path

import dagster as dg
import pytest

from dagster_project.alerts import FAILURE_LOG, read_failures
from dagster_project.defs.sensors import run_failure_alert
from spiders.registry import all_spiders
from tests.dagster_project.helpers import (
    RunSummary,
    demo_environment,
    emptied_fixture_copy,
    harvest_source,
    json_listing_source,
    publish,
    run_harvest,
    summarize,
)
from warehouse.db import connect


@pytest.fixture(scope="module")
def full_harvest(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("dagster_full") / "data"
    instance = dg.DagsterInstance.ephemeral()
    with demo_environment(data) as defs:
        runs = {source: harvest_source(defs, source, instance) for source in all_spiders()}
        published = publish(defs, instance)
    return data, instance, runs, published


def _failures(runs: dict[str, RunSummary]) -> dict[str, dict[str, str]]:
    """Failed checks and step errors of each source that did not fully succeed."""
    return {s: r.failed_checks() | {f"error {i}": e for i, e in enumerate(r.errors)}
            for s, r in runs.items() if r.failed_checks() or not r.success}


def test_every_source_loads_and_every_check_passes(full_harvest):
    data, _, runs, published = full_harvest
    assert _failures(runs) == {}
    for source, run in runs.items():
        assert run.success, source
        assert len(run.checks) == 6, (source, sorted(run.checks))
    assert published.success, published.errors
    assert set(published.checks) == {f"{s}_harvested_recently" for s in all_spiders()}
    assert {k: e.description for k, e in published.checks.items() if not e.passed} == {}

    con = connect(data / "warehouse.duckdb", read_only=True)
    try:
        stored = dict(con.execute("SELECT source, count(*) FROM calls GROUP BY source").fetchall())
        runs_ok = dict(con.execute("SELECT source, bool_and(ok) FROM harvest_runs GROUP BY source").fetchall())
    finally:
        con.close()
    expected = {s for s, cls in all_spiders().items() if not cls.empty_ok}
    assert expected <= {s for s, n in stored.items() if n > 0}
    assert runs_ok == dict.fromkeys(all_spiders(), True)


def test_materialization_metadata_tells_what_happened(full_harvest):
    data, _, runs, published = full_harvest
    for source, run in runs.items():
        raw, staged, load = (run.metadata[k] for k in ("raw_calls", "staged_records", "warehouse_calls"))
        assert raw["ok"] is True and raw["items"] == load["items"] and raw["finish_reason"] == "finished"
        assert Path(raw["raw_path"]).is_file()
        assert staged["records"] + staged["rejected"] <= raw["items"] + staged["rejected"]
        # first harvest into an empty warehouse: every stored call is new
        assert load["new"] == load["loaded"] and load["updated"] == 0 and load["withdrawn"] == 0
        con = connect(data / "warehouse.duckdb", read_only=True)
        try:
            first = con.execute("SELECT title FROM calls WHERE source = ? ORDER BY id LIMIT 1", [source]).fetchone()
        finally:
            con.close()
        if first:
            assert " ".join(first[0].split()).replace("|", "\\|")[:40] in load["preview"]
    digest = published.metadata["weekly_digest"]
    assert digest["errors"] == 0
    paths = [Path(line.strip("- `")) for line in digest["exports"].splitlines()]
    assert paths and all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert published.metadata["calls_snapshot"]["calls"] == sum(r.metadata["warehouse_calls"]["loaded"]
                                                                for r in runs.values())


def test_a_second_harvest_of_a_source_changes_nothing(full_harvest):
    data, instance, runs, _ = full_harvest
    source = next(iter(all_spiders()))
    with demo_environment(data) as defs:
        again = harvest_source(defs, source, instance)
    assert again.success, again.failed_checks()
    load = again.metadata["warehouse_calls"]
    assert load["new"] == 0 and load["updated"] == 0
    assert load["unchanged"] == runs[source].metadata["warehouse_calls"]["loaded"]
    assert again.checks["item_count_drop"].passed


def test_an_emptied_source_fails_its_checks_keeps_its_calls_and_others_load(tmp_path):
    empty_source = json_listing_source()
    other = next(s for s in all_spiders() if s != empty_source)
    data = tmp_path / "data"
    instance = dg.DagsterInstance.ephemeral()

    with demo_environment(data) as clean:
        first = {s: harvest_source(clean, s, instance) for s in (empty_source, other)}
    assert _failures(first) == {}
    con = connect(data / "warehouse.duckdb", read_only=True)
    try:
        before = con.execute("SELECT id FROM calls WHERE source = ? ORDER BY id", [empty_source]).fetchall()
    finally:
        con.close()
    assert before

    overlay = emptied_fixture_copy(empty_source, tmp_path / "overlay")
    with demo_environment(data, overlays=[overlay]) as emptied:
        result = run_harvest(emptied, empty_source, instance)
        fine = harvest_source(emptied, other, instance)
    broken = summarize(result, empty_source)
    assert not broken.success
    assert {"zero_items", "crawl_succeeded"} <= set(broken.failed_checks())
    assert broken.checks["zero_items"].partition == empty_source
    assert fine.success and fine.failed_checks() == {}
    assert broken.metadata["warehouse_calls"]["loaded"] == 0

    con = connect(data / "warehouse.duckdb", read_only=True)
    try:
        after = con.execute("SELECT id FROM calls WHERE source = ? AND withdrawn_at IS NULL ORDER BY id",
                            [empty_source]).fetchall()
        last = con.execute("SELECT ok, reason FROM harvest_runs WHERE source = ? ORDER BY harvested_at DESC "
                           "LIMIT 1", [empty_source]).fetchone()
    finally:
        con.close()
    assert after == before                      # a failed source never deletes nor withdraws its calls
    assert last[0] is False and last[1]         # recorded as a failed harvest, with the reason

    # the failure sensor records the failed run (and posts it when a webhook is configured)
    ctx = dg.build_run_status_sensor_context(
        sensor_name=run_failure_alert.name, dagster_instance=instance, dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event()).for_run_failure()
    with demo_environment(data):
        run_failure_alert(ctx)
    logged = read_failures(data / "logs" / FAILURE_LOG)
    assert [f["run_id"] for f in logged] == [result.run_id]
    assert logged[0]["partition"] == empty_source and "warehouse_calls" in logged[0]["failed_steps"]
