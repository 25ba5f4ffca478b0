"""Asset checks of every source after each load, and the freshness check of every source.

The rules themselves live in :mod:`dagster_project.quality` (pure functions). The load checks are
evaluated inside the load step, right after the load, on what the warehouse now holds for the run; they
are *blocking*: a failing one fails the source's run, which the failure sensor records and posts. The
stored calls are never touched by a failing check.
"""


import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from dagster_project import quality
from dagster_project.defs.resources import AapPaths
from dagster_project.queries import harvest_history
from dagster_project.staging import SOURCES

LOAD_ASSET = dg.AssetKey("warehouse_calls")

#: (name, severity, blocking, description) of the checks evaluated by the load step
_LOAD_CHECKS: tuple[tuple[str, dg.AssetCheckSeverity, bool, str], ...] = (
    ("crawl_succeeded", dg.AssetCheckSeverity.ERROR, True,
     "The crawl finished without download errors, spider errors or an early stop."),
    ("zero_items", dg.AssetCheckSeverity.ERROR, True,
     "At least one record was loaded, unless the source declares that an empty listing is possible."),
    ("item_count_drop", dg.AssetCheckSeverity.ERROR, True,
     f"The item count did not fall by more than {quality.MAX_DROP:.0%} versus the previous successful run."),
    ("field_validity", dg.AssetCheckSeverity.ERROR, True,
     f"title, url, deadline_kind (known), funder and perimeter are each valid in at least {quality.MIN_VALIDITY:.0%} "
     "of the loaded records, and as many items were stored rather than quarantined."),
    ("unknown_deadline_share", dg.AssetCheckSeverity.WARN, False,
     f"The share of unknown deadlines is at most {quality.UNKNOWN_DEADLINE_MARGIN:.0%} points above its usual "
     "level for the source."),
    ("duplicate_ids", dg.AssetCheckSeverity.ERROR, True, "No call id appears twice in the harvest."),
)
SEVERITY = {name: severity for name, severity, _, _ in _LOAD_CHECKS}
with warnings.catch_warnings():
    # partitioned checks (one result per source partition) are a preview feature of Dagster, used deliberately
    warnings.simplefilter("ignore", dg.PreviewWarning)
    LOAD_CHECK_SPECS = [dg.AssetCheckSpec(name, asset=LOAD_ASSET, blocking=blocking, description=description,
                                          partitions_def=SOURCES)
                        for name, _, blocking, description in _LOAD_CHECKS]


def evaluate_load_checks(*, crawl: Mapping[str, Any] | None, rows: Sequence[Mapping[str, Any]],
                         quarantined: Sequence[Mapping[str, Any]], history: Sequence[Mapping[str, Any]],
                         usual_kinds: Sequence[str], staged_ids: Sequence[str], run_id: str,
                         empty_ok: bool) -> dict[str, quality.Verdict]:
    """Every load check of one source, from what the warehouse holds after the load ``run_id``."""
    current_items = next((int(h["items"] or 0) for h in history if h["run_id"] == run_id), 0)
    dup_rejections = sum(1 for q in quarantined if str(q.get("reason") or "").startswith("duplicate id"))
    return {
        "crawl_succeeded": quality.crawl_succeeded(crawl),
        "zero_items": quality.zero_items(len(rows), empty_ok=empty_ok),
        "item_count_drop": quality.count_drop(current_items, quality.previous_success_items(history, run_id)),
        "field_validity": quality.field_validity(rows, rejected=len(quarantined)),
        "unknown_deadline_share": quality.unknown_deadline_share((r["deadline_kind"] for r in rows), usual_kinds),
        "duplicate_ids": quality.duplicate_ids(staged_ids, rejected_duplicates=dup_rejections),
    }


def to_check_result(name: str, verdict: quality.Verdict, *,
                    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(check_name=name, passed=verdict.passed, description=verdict.description,
                               metadata=verdict.metadata, severity=severity, asset_key=LOAD_ASSET)


SNAPSHOT_ASSET = dg.AssetKey("calls_snapshot")
FRESHNESS_SUFFIX = "_harvested_recently"
FRESHNESS_SPECS = [
    dg.AssetCheckSpec(f"{source}{FRESHNESS_SUFFIX}", asset=SNAPSHOT_ASSET,
                      description=f"{source} had a successful harvest within the last "
                                  f"{quality.MAX_HARVEST_AGE.days} days (harvest_runs of the snapshot).")
    for source in SOURCES.get_partition_keys()]


@dg.multi_asset_check(specs=FRESHNESS_SPECS, can_subset=True, name="sources_harvested_recently",
                      description="Freshness of every source, read from the published read-only snapshot "
                                  "(never blocks the writer). Runs after each publish and daily at noon.")
def sources_harvested_recently(context: dg.AssetCheckExecutionContext, aap_paths: AapPaths):
    from warehouse.db import connect

    paths = aap_paths.paths()
    histories: dict[str, list[dict[str, Any]]] = {}
    if paths.snapshot.exists():
        con = connect(paths.snapshot, read_only=True)
        try:
            histories = {s: harvest_history(con, s) for s in SOURCES.get_partition_keys()}
        finally:
            con.close()
    # harvest_runs stores UTC wall time without zone
    now = datetime.now(UTC).replace(tzinfo=None)
    for key in sorted(context.selected_asset_check_keys, key=lambda k: k.name):
        source = key.name.removesuffix(FRESHNESS_SUFFIX)
        verdict = quality.harvested_recently(quality.last_success(histories.get(source, [])), now)
        yield dg.AssetCheckResult(asset_key=SNAPSHOT_ASSET, check_name=key.name, passed=verdict.passed,
                                  description=verdict.description, metadata=verdict.metadata)
