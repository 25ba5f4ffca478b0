"""Shared helpers of the Dagster tests: definitions loaded as ``make dagster`` loads them, configured by
environment for a temporary data folder and the local fixture portal."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from pipeline.settings import FIXTURES_DIR

LISTING_KEYS = ("results", "aides", "records", "items")
COUNT_KEYS = ("count", "total_count", "totalResults", "total")


def demo_defs(monkeypatch: pytest.MonkeyPatch, data_dir: Path, overlays: list[Path] | None = None
              ) -> dg.Definitions:
    """The project's definitions, with the environment pointing at ``data_dir`` and the fixture portal."""
    from dagster_project.definitions import defs

    monkeypatch.setenv("AAP_DATA_DIR", str(data_dir))
    monkeypatch.delenv("AAP_WAREHOUSE", raising=False)
    monkeypatch.delenv("AAP_SNAPSHOT", raising=False)
    monkeypatch.delenv("AAP_ALERT_WEBHOOK", raising=False)
    monkeypatch.setenv("AAP_PORTAL", "demo")
    monkeypatch.setenv("AAP_FIXTURE_OVERLAYS", ":".join(str(p) for p in overlays or []))
    return defs()


@dataclass
class RunSummary:
    source: str | None
    success: bool
    checks: dict[str, dg.AssetCheckEvaluation] = field(default_factory=dict)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)

    def failed_checks(self) -> dict[str, str]:
        return {k: e.description or "" for k, e in self.checks.items() if not e.passed}


def summarize(result: dg.ExecuteInProcessResult, source: str | None = None) -> RunSummary:
    summary = RunSummary(source, result.success)
    for ev in result.get_asset_check_evaluations():
        summary.checks[ev.check_name] = ev
    for mat in result.get_asset_materialization_events():
        md = mat.materialization.metadata
        summary.metadata[mat.asset_key.to_user_string()] = {k: v.value for k, v in md.items()}
    return summary


def harvest_source(defs: dg.Definitions, source: str, instance: dg.DagsterInstance) -> RunSummary:
    job = defs.resolve_job_def("harvest_source_job")
    return summarize(job.execute_in_process(partition_key=source, instance=instance, raise_on_error=False),
                     source)


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
