"""Sensors: publish once a harvest's per-source runs have all finished, and record every failed run
(a JSON Lines log under the data folder, plus a JSON POST to ``AAP_ALERT_WEBHOOK`` when set)."""


from collections import defaultdict
from datetime import UTC, datetime, timedelta

import dagster as dg

from dagster_project.alerts import FAILURE_LOG, post_webhook, record_failure
from dagster_project.defs.checks import LOAD_ASSET
from dagster_project.defs.schedules import BATCH_TAG, harvest_source_job, publish_job
from pipeline import settings

#: how far back the publish sensor looks for finished harvest runs
LOOKBACK = timedelta(days=2)
_FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def loads_calls(run: dg.DagsterRun) -> bool:
    """A run of the harvest job, or any run (a UI materialization, a backfill) that loads ``warehouse_calls``."""
    return run.job_name == harvest_source_job.name or LOAD_ASSET in (run.asset_selection or ())


def harvest_groups(runs: list[dg.DagsterRun]) -> dict[str, list[dg.DagsterRun]]:
    """Harvest runs grouped by batch: the schedule's batch tag, a backfill id, or the run itself."""
    groups: dict[str, list[dg.DagsterRun]] = defaultdict(list)
    for run in runs:
        key = (run.tags.get(BATCH_TAG) or
               (f"backfill-{run.tags['dagster/backfill']}" if "dagster/backfill" in run.tags else f"run-{run.run_id}"))
        groups[key].append(run)
    return dict(groups)


def _backfill_done(instance: dg.DagsterInstance, backfill_id: str) -> bool:
    """True when the backfill launched all its runs (or is gone: nothing more will come)."""
    from dagster._core.execution.backfill import BulkActionStatus

    backfill = instance.get_backfill(backfill_id)
    return backfill is None or backfill.status not in (BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING,
                                                       BulkActionStatus.FAILING)


@dg.sensor(job=publish_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Publishes the snapshot and this week's exports once every run of a harvest "
                       "(the daily batch, a backfill, or a single-source run) has finished, failed runs included: "
                       "a failing source must not hold back the others.")
def publish_after_harvest(context: dg.SensorEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
    since = datetime.now(UTC) - LOOKBACK
    runs = [r for r in context.instance.get_runs(filters=dg.RunsFilter(updated_after=since)) if loads_calls(r)]
    requests = []
    for batch, members in sorted(harvest_groups(runs).items()):
        if batch.startswith("backfill-") and not _backfill_done(context.instance, batch.removeprefix("backfill-")):
            continue  # a backfill may still have runs to launch
        if all(r.status in _FINISHED for r in members):
            failed = sum(r.status != dg.DagsterRunStatus.SUCCESS for r in members)
            requests.append(dg.RunRequest(run_key=f"publish:{batch}",
                                          tags={BATCH_TAG: batch, "aap/failed_sources": str(failed)}))
    return requests or dg.SkipReason("no finished harvest waiting to be published")


@dg.run_failure_sensor(name="run_failure_alert", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Records every failed run in <data>/logs/dagster_failures.jsonl and posts it "
                                   "as JSON to AAP_ALERT_WEBHOOK when that is set.")
def run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    failed_steps = [e.step_key for e in context.get_step_failure_events() if e.step_key]
    payload = {
        "event": "run_failure", "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "job": run.job_name, "run_id": run.run_id, "partition": run.tags.get("dagster/partition"),
        "batch": run.tags.get(BATCH_TAG), "failed_steps": failed_steps,
        "message": context.failure_event.message,
    }
    log = record_failure(settings.paths().logs_dir / FAILURE_LOG, payload)
    context.log.info(f"failure of run {run.run_id} recorded in {log}")
    url = settings.alert_webhook()
    if url:
        outcome = post_webhook(url, payload)
        context.log.info(f"alert posted to the webhook: {outcome}")
