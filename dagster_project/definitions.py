"""Entry point of the Dagster code location: every module of ``dagster_project/defs`` (one per area),
found through ``dagster_project/dg.toml``."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent)
