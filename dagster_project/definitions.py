"""Entry point of the Dagster code location: every module of ``dagster_project/defs`` (one per area)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

import dagster_project.defs


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_defs(defs_root=dagster_project.defs, project_root=Path(__file__).resolve().parent.parent)
