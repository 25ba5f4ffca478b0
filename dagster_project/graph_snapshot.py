"""A stable, reviewable description of the Dagster definitions: assets (group, dependencies, pools,
partitioning), checks, jobs, schedules and sensors. A test compares it with the committed
``tests/dagster_project/definitions_snapshot.json``; after an intended change, regenerate it with::

    .venv/bin/python -m dagster_project.graph_snapshot --write

The source partition keys are left out on purpose (they grow as sources are added; a separate test
compares them with the spider registry).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import dagster as dg

SNAPSHOT_PATH = Path(__file__).resolve().parent.parent / "tests" / "dagster_project" / "definitions_snapshot.json"


def _partitioning(partitions_def: dg.PartitionsDefinition | None) -> str | None:
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.StaticPartitionsDefinition):
        return "static: one per source"
    return type(partitions_def).__name__


def _check_name(key: dg.AssetCheckKey) -> str:
    """``asset:check``, with a source slug in a per-source check name written ``{source}``."""
    from dagster_project.defs.checks import FRESHNESS_SUFFIX

    name = key.name
    if name.endswith(FRESHNESS_SUFFIX):
        name = "{source}" + FRESHNESS_SUFFIX
    return f"{key.asset_key.to_user_string()}:{name}"


def describe(defs: dg.Definitions) -> dict[str, Any]:
    """The description of ``defs`` as plain, sorted JSON-able data."""
    graph = defs.resolve_asset_graph()
    repo = defs.get_repository_def()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name, "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitions": _partitioning(node.partitions_def), "pools": sorted(node.pools or []),
            "kinds": sorted(node.kinds),
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        node = graph.get(check_key)
        checks[_check_name(check_key)] = {
            "blocking": bool(node.blocking), "partitions": _partitioning(node.partitions_def),
        }
    jobs = {}
    for job in sorted(repo.get_all_jobs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        jobs[job.name] = {
            "assets": sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys),
            "checks": sorted({_check_name(k) for k in job.asset_layer.asset_graph.asset_check_keys}),
            "partitions": _partitioning(job.partitions_def),
        }
    schedules = {s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone, "job": s.job_name,
                          "default_status": s.default_status.value}
                 for s in sorted(repo.schedule_defs, key=lambda s: s.name)}
    sensors = {s.name: {"type": type(s).__name__, "jobs": sorted(t.job_name for t in s.targets),
                        "default_status": s.default_status.value}
               for s in sorted(repo.sensor_defs, key=lambda s: s.name)}
    return {"assets": assets, "checks": checks, "jobs": jobs, "schedules": schedules, "sensors": sensors,
            "resources": sorted(defs.resources or {})}


def current() -> dict[str, Any]:
    from dagster_project.definitions import defs

    return describe(defs())


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dagster_project.graph_snapshot", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help=f"write {SNAPSHOT_PATH} instead of printing")
    args = ap.parse_args(argv)
    text = render(current())
    if args.write:
        SNAPSHOT_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {SNAPSHOT_PATH}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
