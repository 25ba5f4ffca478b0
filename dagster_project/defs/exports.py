"""This week's digest, in every export format, written from the published snapshot."""


from datetime import UTC, datetime

import dagster as dg

from dagster_project.defs.resources import AapPaths
from dagster_project.defs.warehouse import calls_snapshot
from pipeline.run import DEFAULT_EXPORTS, write_exports
from pipeline.settings import TIMEZONE


@dg.asset(deps=[calls_snapshot], group_name="exports", kinds={"html", "csv"},
          description=f"This week's digest ({', '.join(DEFAULT_EXPORTS)}) under <data>/exports/, from the "
                      "read-only snapshot. A failing format is reported; the step fails only if none is written.")
def weekly_digest(context: dg.AssetExecutionContext, aap_paths: AapPaths) -> dg.MaterializeResult:
    paths = aap_paths.paths()
    now = datetime.now(UTC)
    written, errors = write_exports(paths, now, DEFAULT_EXPORTS)
    for err in errors:
        context.log.error(f"export failed: {err}")
    if not written:
        raise dg.Failure("no export written", metadata={"errors": dg.MetadataValue.md(
            "\n".join(f"- {e}" for e in errors))})
    return dg.MaterializeResult(metadata={
        "week": now.astimezone(TIMEZONE).strftime("%G-W%V"), "formats": len(written), "errors": len(errors),
        "exports": dg.MetadataValue.md("\n".join(f"- `{p}`" for p in written)),
        "html": dg.MetadataValue.path(str(next((p for p in written if p.suffix == ".html"), written[0]))),
        **({"export_errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in errors))} if errors else {}),
    })
