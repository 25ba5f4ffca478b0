"""Raw crawl of one source per partition. The crawl runs in its own OS process (``pipeline.crawl``):
Scrapy cannot run twice in one process, nor off the main thread, so never in the Dagster process."""


import dagster as dg

from dagster_project.defs.resources import AapPaths, PortalResource
from dagster_project.staging import SOURCES, SourceFiles, write_json
from pipeline.crawl import run_crawl

#: a crawl that takes longer than this is stopped and recorded as failed
CRAWL_TIMEOUT_S = 1800


@dg.asset(partitions_def=SOURCES, group_name="ingest", kinds={"scrapy"},
          description="Raw items of one source (JSON Lines under <data>/raw/), crawled in a child process. "
                      "A failed crawl is recorded (ok = false, reason), not raised: the load records it "
                      "and the checks fail for that source only.")
def raw_calls(context: dg.AssetExecutionContext, aap_paths: AapPaths, portal: PortalResource
              ) -> dg.MaterializeResult:
    source = context.partition_key
    files = SourceFiles.of(aap_paths.paths(), source)
    with portal.crawl_target() as target:
        result = run_crawl(source, files.raw, base_url=target.base_url(source), settings=target.settings,
                           env=target.env, timeout=CRAWL_TIMEOUT_S)
    write_json(files.crawl, result.to_json())
    if result.ok:
        context.log.info(f"{source}: {result.items} items in {result.duration_s:.1f}s")
    else:
        context.log.warning(f"{source}: crawl failed: {result.reason}")
    metadata: dict[str, object] = {
        "ok": result.ok, "items": result.items, "requests": result.requests,
        "responses": dg.MetadataValue.json(result.responses), "errors": len(result.errors),
        "seconds": result.duration_s, "portal": portal.mode,
        # "revalidated": every page unchanged (304), no Scrapy crawl was needed (pipeline.revalidate)
        "finish_reason": result.finish_reason,
        "raw_path": dg.MetadataValue.path(str(files.raw)),
    }
    if result.reason:
        metadata["reason"] = result.reason
    if result.failed_urls:
        metadata["failed_urls"] = dg.MetadataValue.md("\n".join(f"- {u}" for u in result.failed_urls[:20]))
    return dg.MaterializeResult(metadata=metadata)
