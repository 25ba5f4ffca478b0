"""The definitions load as ``make dagster`` loads them, and match the committed snapshot.

After an intended change of the asset graph, checks, jobs, schedules or sensors, regenerate the snapshot
with ``.venv/bin/python -m dagster_project.graph_snapshot --write`` and review the diff.
"""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from dagster_project.defs.schedules import BATCH_TAG, daily_harvest
from dagster_project.graph_snapshot import SNAPSHOT_PATH, current
from spiders.registry import all_spiders


def test_definitions_match_the_committed_snapshot():
    committed = json.loads(SNAPSHOT_PATH.read_text(encoding="utf-8"))
    assert current() == committed, ("definitions changed: if intended, run "
                                    "`.venv/bin/python -m dagster_project.graph_snapshot --write`")


def test_partitions_are_the_registered_sources():
    from dagster_project.definitions import defs

    graph = defs().resolve_asset_graph()
    for key in ("raw_calls", "staged_records", "warehouse_calls"):
        assert graph.get(dg.AssetKey(key)).partitions_def.get_partition_keys() == list(all_spiders())


def test_every_source_has_a_freshness_check():
    from dagster_project.definitions import defs

    names = {k.name for k in defs().resolve_asset_graph().asset_check_keys
             if k.asset_key == dg.AssetKey("calls_snapshot")}
    assert names == {f"{s}_harvested_recently" for s in all_spiders()}


def test_daily_harvest_requests_one_run_per_source_in_one_batch():
    tick = datetime(2026, 11, 26, 6, 0, tzinfo=ZoneInfo("Europe/Paris"))
    ctx = dg.build_schedule_context(scheduled_execution_time=tick)
    requests = daily_harvest(ctx)
    assert [r.partition_key for r in requests] == list(all_spiders())
    assert {r.tags[BATCH_TAG] for r in requests} == {"daily-2026-11-26"}
    assert len({r.run_key for r in requests}) == len(requests)


def test_instance_settings_give_the_duckdb_pool_one_slot(tmp_path):
    from dagster_project.serve import prepare_home

    home = prepare_home(tmp_path / "data")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        config = instance.get_concurrency_config()
    assert config.pool_config.default_pool_limit == 1
    assert config.pool_config.pool_granularity.value == "op"
    # every step that opens the warehouse file is in that pool
    committed = json.loads(SNAPSHOT_PATH.read_text(encoding="utf-8"))
    assert committed["assets"]["warehouse_calls"]["pools"] == ["duckdb_writer"]
    assert committed["assets"]["calls_snapshot"]["pools"] == ["duckdb_writer"]
