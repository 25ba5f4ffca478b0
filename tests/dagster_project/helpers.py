"""Shared helpers of the Dagster tests: definitions loaded as ``make dagster`` loads them, configured by
environment for a temporary data folder and the local fixture portal."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from pipeline.settings import FIXTURES_DIR

LISTING_KEYS = ("results", "aides", "records", "items")
COUNT_KEYS = ("count", "total_count", "totalResults", "total")


@contextmanager
def demo_environment(data_dir: Path, overlays: list[Path] | None = None) -> Iterator[dg.Definitions]:
    """The project's definitions as ``make dagster`` loads them, with the environment pointing at
    ``data_dir`` and the fixture portal for the duration of the block (runs read it when they start)."""
    from dagster_project.definitions import defs

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AAP_DATA_DIR", str(data_dir))
        for var in ("AAP_WAREHOUSE", "AAP_SNAPSHOT", "AAP_ALERT_WEBHOOK"):
            mp.delenv(var, raising=False)
        mp.setenv("AAP_PORTAL", "demo")
        mp.setenv("AAP_FIXTURE_OVERLAYS", os.pathsep.join(str(p) for p in overlays or []))
        yield defs()


@dataclass
class RunSummary:
    source: str | None
    success: bool
    checks: dict[str, dg.AssetCheckEvaluation] = field(default_factory=dict)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def failed_checks(self) -> dict[str, str]:
        return {k: e.description or "" for k, e in self.checks.items() if not e.passed}


def summarize(result: dg.ExecuteInProcessResult, source: str | None = None) -> RunSummary:
    summary = RunSummary(source, result.success)
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            summary.errors.append(f"{event.step_key}: {event.step_failure_data.error.message.strip()}")
    for ev in result.get_asset_check_evaluations():
        summary.checks[ev.check_name] = ev
    for mat in result.get_asset_materialization_events():
        md = mat.materialization.metadata
        summary.metadata[mat.asset_key.to_user_string()] = {k: v.value for k, v in md.items()}
    return summary


def run_harvest(defs: dg.Definitions, source: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """The daily schedule's run for one source (``harvest_source_job``, one partition)."""
    job = defs.resolve_job_def("harvest_source_job")
    return job.execute_in_process(partition_key=source, instance=instance, raise_on_error=False)


def harvest_source(defs: dg.Definitions, source: str, instance: dg.DagsterInstance) -> RunSummary:
    return summarize(run_harvest(defs, source, instance), source)


def publish(defs: dg.Definitions, instance: dg.DagsterInstance) -> RunSummary:
    return summarize(defs.resolve_job_def("publish_job").execute_in_process(instance=instance,
                                                                             raise_on_error=False))


def emptied_fixture_copy(source: str, dest: Path) -> Path:
    """Copy ``source``'s fixtures under ``dest`` and make every JSON listing page list no call; returns
    the overlay folder (``dest``)."""
    target = dest / source
    shutil.copytree(FIXTURES_DIR / source, target)
    emptied = 0
    for path in sorted(target.glob("*.json")):
        if path.name == "portal.json":
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, list):
            data, emptied = [], emptied + 1
        elif isinstance(data, dict) and any(isinstance(data.get(k), list) for k in LISTING_KEYS):
            for k in LISTING_KEYS:
                if isinstance(data.get(k), list):
                    data[k] = []
                    emptied += 1
            for k in COUNT_KEYS:
                if k in data:
                    data[k] = 0
            if "next" in data:
                data["next"] = None
        path.write_text(json.dumps(data), encoding="utf-8")
    if not emptied:
        raise AssertionError(f"no JSON listing found to empty in the fixtures of {source}")
    return dest


def json_listing_source() -> str:
    """A source whose listing is JSON (so it can be emptied) and that may not legitimately be empty."""
    from spiders.registry import all_spiders

    for name, cls in all_spiders().items():
        if cls.platform in ("at_format", "opendatasoft", "json_api", "sedia") and not cls.empty_ok:
            return name
    pytest.skip("no JSON-listing source registered yet")
    raise AssertionError("unreachable")
