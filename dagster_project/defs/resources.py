"""Resources, configured by environment so that asset code never changes between a laptop and production.

| variable | default | meaning |
| --- | --- | --- |
| AAP_DATA_DIR, AAP_WAREHOUSE, AAP_SNAPSHOT | see ``pipeline.settings`` | data folder, DuckDB file, read-only copy |
| AAP_PORTAL | demo | ``demo``: crawl the local fixture portal; ``live``: crawl the real portals |
| AAP_FIXTURE_OVERLAYS | (none) | demo only: fixture folders searched before ``spiders/fixtures`` (``os.pathsep``-separated) |
| AAP_AT_TOKEN | (none) | Aides-territoires token, passed to live crawls only, never logged |
"""


import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dagster as dg

from pipeline import settings
from pipeline.settings import Paths


class AapPaths(dg.ConfigurableResource):
    """The data folder and the warehouse files. Empty values fall back to the ``AAP_*`` environment."""

    data_dir: str | None = None
    warehouse: str | None = None

    def paths(self) -> Paths:
        return settings.paths(self.data_dir, self.warehouse).ensure()


@dataclass(frozen=True)
class CrawlTarget:
    """Where and how to crawl: a base URL per source (None = the live portal), Scrapy setting overrides
    and extra environment for the crawl process."""

    portal_url: str | None
    settings: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def base_url(self, source: str) -> str | None:
        return f"{self.portal_url}/{source}" if self.portal_url else None


class PortalResource(dg.ConfigurableResource):
    """Live portals or the local fixture portal.

    In ``demo`` mode :meth:`crawl_target` starts a :class:`pipeline.portal.FixturePortal` on a free
    127.0.0.1 port for the duration of the crawl step; ``overlay_dirs`` are fixture folders searched
    before ``spiders/fixtures`` (a changed or emptied source, for tests and rehearsals).
    """

    mode: Literal["demo", "live"] = "demo"
    at_token: str | None = None
    overlay_dirs: list[str] = []

    @contextmanager
    def crawl_target(self) -> Iterator[CrawlTarget]:
        if self.mode == "live":
            yield CrawlTarget(None, env={"AAP_AT_TOKEN": self.at_token} if self.at_token else {})
            return
        from pipeline.portal import FixturePortal
        from pipeline.run import demo_env
        from spiders.demo import DEMO_SETTINGS

        with FixturePortal(overlay_dirs=[Path(d) for d in self.overlay_dirs]) as portal:
            yield CrawlTarget(portal.url, settings=dict(DEMO_SETTINGS), env=demo_env())


def portal_from_env() -> PortalResource:
    """The portal resource as the environment asks: ``AAP_PORTAL``, ``AAP_FIXTURE_OVERLAYS`` and the
    ``AAP_AT_TOKEN`` secret."""
    mode = os.environ.get("AAP_PORTAL", "demo").strip().lower() or "demo"
    if mode not in ("demo", "live"):
        raise ValueError(f"AAP_PORTAL must be 'demo' or 'live', not {mode!r}")
    # EnvVar keeps the token out of the run config shown in the UI; it is only read when set.
    token = dg.EnvVar("AAP_AT_TOKEN") if os.environ.get("AAP_AT_TOKEN") else None
    overlays = [d for d in os.environ.get("AAP_FIXTURE_OVERLAYS", "").split(os.pathsep) if d.strip()]
    return PortalResource(mode=mode, at_token=token, overlay_dirs=overlays)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(resources={"aap_paths": AapPaths(), "portal": portal_from_env()})
