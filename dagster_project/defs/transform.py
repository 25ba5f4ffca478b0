"""Records of one source: the raw JSONL through ``pipeline.run.transform_items``, staged as JSONL."""


from datetime import datetime

import dagster as dg

from dagster_project.defs.ingest import raw_calls
from dagster_project.defs.resources import AapPaths
from dagster_project.staging import SOURCES, SourceFiles, markdown_table, top_reasons, write_jsonl
from pipeline.run import read_jsonl, transform_items
from pipeline.settings import TIMEZONE

PREVIEW_COLUMNS = ("id", "title", "deadline_kind", "next_deadline", "status", "ccas_eligibility")


@dg.asset(partitions_def=SOURCES, deps=[raw_calls], group_name="transform", kinds={"python"},
          description="Records of one source after normalisation, deadlines, eligibility and themes "
                      "(<data>/staged/<source>.records.jsonl); rejected items with their reason beside them.")
def staged_records(context: dg.AssetExecutionContext, aap_paths: AapPaths) -> dg.MaterializeResult:
    source = context.partition_key
    files = SourceFiles.of(aap_paths.paths(), source)
    as_of = datetime.now(TIMEZONE).date()
    records, rejected = transform_items(source, read_jsonl(files.raw), as_of)
    write_jsonl(files.records, records)
    write_jsonl(files.rejected, rejected)
    reasons = top_reasons(rejected)
    if rejected:
        context.log.warning(f"{source}: {len(rejected)} item(s) rejected; top reason: {reasons[0][0]}")
    return dg.MaterializeResult(metadata={
        "records": len(records), "rejected": len(rejected), "as_of": as_of.isoformat(),
        "top_rejection_reasons": dg.MetadataValue.md(
            "\n".join(f"- {n} × {reason}" for reason, n in reasons) or "none"),
        "preview": dg.MetadataValue.md(markdown_table(records, PREVIEW_COLUMNS)),
        "records_path": dg.MetadataValue.path(str(files.records)),
    })
