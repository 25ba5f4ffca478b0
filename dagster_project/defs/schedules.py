"""Jobs and schedules (Europe/Paris): the daily harvest of every source, the weekly digest, and a daily
freshness sweep that evaluates the freshness checks even when no harvest ran."""


import dagster as dg

from dagster_project.defs.checks import sources_harvested_recently
from dagster_project.defs.exports import weekly_digest
from dagster_project.defs.ingest import raw_calls
from dagster_project.defs.transform import staged_records
from dagster_project.defs.warehouse import calls_snapshot, warehouse_calls
from dagster_project.staging import SOURCES

TIMEZONE = "Europe/Paris"
#: run tag grouping the per-source runs of one harvest; the publish sensor waits for the whole group
BATCH_TAG = "aap/harvest_batch"

harvest_source_job = dg.define_asset_job(
    "harvest_source_job", selection=dg.AssetSelection.assets(raw_calls, staged_records, warehouse_calls),
    description="Crawl, transform and load one source (a partition), then run its checks.")

publish_job = dg.define_asset_job(
    "publish_job", selection=dg.AssetSelection.assets(calls_snapshot, weekly_digest),
    description="Publish the read-only snapshot and write this week's digest in every format.")

freshness_job = dg.define_asset_job(
    "freshness_job", selection=dg.AssetSelection.checks(sources_harvested_recently),
    description="Evaluate the freshness check of every source on the published snapshot.")


def harvest_requests(batch: str) -> list[dg.RunRequest]:
    """One run request per source, all tagged with the batch the publish sensor waits for."""
    return [dg.RunRequest(run_key=f"{batch}:{source}", partition_key=source, tags={BATCH_TAG: batch})
            for source in SOURCES.get_partition_keys()]


@dg.schedule(cron_schedule="0 6 * * *", job=harvest_source_job, execution_timezone=TIMEZONE,
             description="Every day at 06:00 Paris time: one run per source; the snapshot and the exports "
                         "are published once every run of the day has finished.")
def daily_harvest(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    return harvest_requests(f"daily-{context.scheduled_execution_time:%Y-%m-%d}")


weekly_digest_schedule = dg.ScheduleDefinition(
    name="weekly_digest_schedule", job=publish_job, cron_schedule="0 7 * * 1", execution_timezone=TIMEZONE,
    description="Mondays at 07:00 Paris time: publish the snapshot and write the week's digest.")


freshness_sweep = dg.ScheduleDefinition(
    name="freshness_sweep", job=freshness_job, cron_schedule="0 12 * * *", execution_timezone=TIMEZONE,
    description="Every day at 12:00 Paris time: check that every source was harvested successfully in the "
                "last 3 days, even when no harvest ran.")
