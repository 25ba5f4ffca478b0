"""Entry point of the Dagster code location: every module of ``dagster_project/defs`` (one per area),
found through ``dagster_project/dg.toml``."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    # Steps run in the run's own process, one after another: each source's crawl is already a child process,
    # and a process per step would only add start-up time on a small machine.
    return dg.Definitions.merge(dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent),
                                dg.Definitions(executor=dg.in_process_executor))
