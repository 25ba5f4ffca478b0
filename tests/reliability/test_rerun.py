"""Reruns: an unchanged portal answers 304 to every page and the load changes no call; pages that change
between two harvests are fetched again and their new content is stored (the HTTP cache hides nothing)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb

from pipeline.run import harvest
from pipeline.settings import TIMEZONE, paths
from pipeline.synthetic import SyntheticPortal
from spiders.settings import DEMO_SETTINGS

NOW = datetime(2026, 10, 1, 8, 0, tzinfo=TIMEZONE)
SIZES = {"grand_est": 20, "nouvelle_aquitaine": 10}


def _titles(db: Any) -> dict[str, tuple[str, int]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0]: (r[1], r[2]) for r in con.execute("SELECT native_id, title, version FROM calls").fetchall()}
    finally:
        con.close()


def test_rerun_revalidates_and_changes_come_through(tmp_path: Any) -> None:
    p = paths(tmp_path)
    with SyntheticPortal(SIZES, seed=29, change_rate=0.3) as portal:
        def run(day: int) -> Any:
            portal.reset_stats()
            return harvest(list(SIZES), paths=p, now=NOW + timedelta(days=day), base_url_for=portal.base_url_for(),
                           crawl_settings=DEMO_SETTINGS, export_formats=(), parallel=2)

        first = run(0)
        full = portal.stats()
        stored = _titles(p.warehouse)
        assert len(stored) == sum(SIZES.values())

        second = run(1)
        rerun = portal.stats()
        for source in SIZES:
            assert rerun[source]["statuses"] == {"304": full[source]["requests"]}, source
            assert rerun[source]["bytes_sent"] == 0
            load = second.outcomes[source].load
            assert (load.new, load.updated, load.unchanged) == (0, 0, SIZES[source])
        assert _titles(p.warehouse) == stored

        changed = portal.advance()
        assert changed, "the seed must change some calls"
        third = run(2)
        after = portal.stats()
        for source in SIZES:
            n_changed = sum(1 for s, _ in changed if s == source)
            assert third.outcomes[source].load.updated == n_changed, source
            assert after[source]["statuses"].get("200", 0) >= n_changed
        titles = _titles(p.warehouse)
        fresh = {portal.call(s, i).title for s, i in changed}
        assert fresh <= {t for t, _ in titles.values()}
        assert sum(1 for native_id, (_, version) in titles.items() if version == 2) == len(changed)
    assert first.ok and second.ok and third.ok
