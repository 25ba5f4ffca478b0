"""The warehouse load of one source (the only DuckDB writer, in a pool of 1) and the published snapshot."""


from datetime import UTC, datetime

import dagster as dg

from dagster_project.defs.checks import (
    LOAD_CHECK_SPECS,
    SEVERITY,
    evaluate_load_checks,
    to_check_result,
)
from dagster_project.defs.resources import AapPaths
from dagster_project.defs.transform import PREVIEW_COLUMNS, staged_records
from dagster_project.queries import (
    calls_by_source,
    calls_by_status,
    calls_seen_in_run,
    harvest_history,
    quarantine_reasons,
    stored_deadline_kinds,
)
from dagster_project.staging import (
    DUCKDB_POOL,
    SOURCES,
    SourceFiles,
    markdown_table,
    read_json,
    read_jsonl_rows,
    top_reasons,
)
from spiders.registry import get_spider


@dg.asset(partitions_def=SOURCES, deps=[staged_records], group_name="warehouse", kinds={"duckdb"},
          pool=DUCKDB_POOL, check_specs=LOAD_CHECK_SPECS,
          description="The source's calls in the DuckDB warehouse (calls, call_versions, call_sources, "
                      "harvest_runs, quarantine), loaded in one transaction. A failed crawl is recorded "
                      "in harvest_runs and leaves the stored calls untouched.")
def warehouse_calls(context: dg.AssetExecutionContext, aap_paths: AapPaths):
    from warehouse.db import connect
    from warehouse.load import SourceBatch, load_harvest

    source = context.partition_key
    paths = aap_paths.paths()
    files = SourceFiles.of(paths, source)
    crawl = read_json(files.crawl)
    records = list(read_jsonl_rows(files.records))
    rejected = list(read_jsonl_rows(files.rejected))
    ok = bool(crawl and crawl.get("ok"))
    run_id = context.run.run_id

    con = connect(paths.warehouse)
    try:
        usual_kinds = stored_deadline_kinds(con, source)
    finally:
        con.close()

    batch = SourceBatch(source=source, ok=ok, records=records if ok else [], rejected=rejected,
                        crawl=crawl or {"source": source, "ok": False, "reason": "no crawl result"})
    stats = load_harvest(paths.warehouse, [batch], now=datetime.now(UTC), run_id=run_id)[source]

    con = connect(paths.warehouse)
    try:
        rows = calls_seen_in_run(con, source, run_id)
        quarantined = quarantine_reasons(con, source, run_id)
        history = harvest_history(con, source)
    finally:
        con.close()

    if not ok:
        context.log.warning(f"{source}: crawl failed, recorded in harvest_runs; stored calls left untouched")
    reasons = top_reasons(quarantined)
    yield dg.MaterializeResult(metadata={
        "crawl_ok": ok, "items": int((crawl or {}).get("items") or 0), "loaded": len(rows),
        "new": stats.new, "updated": stats.updated, "unchanged": stats.unchanged,
        "withdrawn": stats.withdrawn, "rejected": stats.rejected,
        "top_rejection_reasons": dg.MetadataValue.md(
            "\n".join(f"- {n} × {reason}" for reason, n in reasons) or "none"),
        "preview": dg.MetadataValue.md(markdown_table(rows, PREVIEW_COLUMNS)),
        "warehouse_run_id": run_id, "warehouse": dg.MetadataValue.path(str(paths.warehouse)),
    })
    verdicts = evaluate_load_checks(crawl=crawl, rows=rows, quarantined=quarantined, history=history,
                                    usual_kinds=usual_kinds, staged_ids=[r.get("id") for r in records],
                                    run_id=run_id, empty_ok=get_spider(source).empty_ok)
    for name, verdict in verdicts.items():
        if not verdict.passed:
            context.log.warning(f"{source}: check {name} failed: {verdict.description}")
        yield to_check_result(name, verdict, severity=SEVERITY[name])


@dg.asset(deps=[warehouse_calls], group_name="warehouse", kinds={"duckdb"}, pool=DUCKDB_POOL,
          description="The read-only copy of the warehouse that analysts and exports open, published "
                      "atomically (temporary file + rename) after the loads.")
def calls_snapshot(aap_paths: AapPaths) -> dg.MaterializeResult:
    from warehouse.db import connect
    from warehouse.snapshot import publish

    paths = aap_paths.paths()
    published = publish(paths.warehouse, paths.snapshot)
    con = connect(published, read_only=True)
    try:
        by_status, by_source = calls_by_status(con), calls_by_source(con)
    finally:
        con.close()
    return dg.MaterializeResult(metadata={
        "calls": sum(by_status.values()), "by_status": dg.MetadataValue.json(by_status),
        "by_source": dg.MetadataValue.json(by_source), "snapshot": dg.MetadataValue.path(str(published)),
    })
