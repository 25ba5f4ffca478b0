"""Checks run over every source spider: declaration, first requests, fixtures, per-field validity."""

from __future__ import annotations

import json
from datetime import date

import pytest

from pipeline.quality import failing_fields
from pipeline.run import source_meta
from pipeline.settings import FIXTURES_DIR
from spiders.registry import all_spiders
from tests.offline import PORTAL, crawl_offline

SOURCES = list(all_spiders())
#: the as-of date the fixtures were written for
AS_OF = date(2026, 11, 25)


def test_at_least_seventeen_sources_on_every_level() -> None:
    spiders = all_spiders()
    assert len(spiders) >= 17, sorted(spiders)
    assert {cls.source_level for cls in spiders.values()} >= {"europe", "national", "regional", "departmental"}


@pytest.mark.parametrize("source", SOURCES)
def test_declaration(source: str) -> None:
    cls = all_spiders()[source]
    assert cls.check_declaration() == []
    assert cls.__doc__ and len(cls.__doc__.split()) > 15, "a structured docstring is required"


@pytest.mark.parametrize("source", SOURCES)
def test_first_requests_go_to_the_given_base_url(source: str) -> None:
    cls = all_spiders()[source]
    spider = cls(base_url=f"{PORTAL}/{source}")
    requests = list(spider.first_requests())
    assert requests, "a spider must yield at least one request"
    assert all(r.url.startswith(f"{PORTAL}/{source}/") for r in requests), [r.url for r in requests]
    live = list(cls().first_requests())
    assert all(r.url.startswith("https://") for r in live)


@pytest.mark.parametrize("source", SOURCES)
def test_fixture_routes_point_to_existing_files(source: str) -> None:
    folder = FIXTURES_DIR / source
    routes = json.loads((folder / "portal.json").read_text(encoding="utf-8"))["routes"]
    assert routes
    missing = [r["file"] for r in routes if not (folder / r["file"]).is_file()]
    assert missing == []


@pytest.mark.parametrize("source", SOURCES)
def test_fixtures_parse_into_valid_records(source: str) -> None:
    from transforms.normalize import to_record

    crawl = crawl_offline(all_spiders()[source])
    assert crawl.items, f"{source}: no item parsed from its fixtures"
    meta = source_meta(source)
    records = [to_record(item, meta, AS_OF) for item in crawl.items]
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "ids must be unique within a source"
    assert failing_fields(records) == {}, f"{source}: fields valid in < 90 % of items"
    assert all("portal.test" not in r["url"] for r in records), "records must carry live URLs"


def _callbacks(cls: type) -> dict[str, object]:
    """Every generator function a spider class has or inherits from aap's own code (its callbacks)."""
    import inspect

    found = {}
    for klass in cls.__mro__:
        if not klass.__module__.startswith("spiders."):
            continue
        for name, value in vars(klass).items():
            if inspect.isgeneratorfunction(value) and name not in found:
                found[name] = value
    return found


@pytest.mark.parametrize("source", SOURCES)
def test_no_callback_is_a_generator_that_returns_a_value(source: str) -> None:
    """Scrapy's own check (``WARN_ON_GENERATOR_RETURN_VALUE``, off in the crawls: it parsed a source file
    per page), run once over every callback."""
    from scrapy.utils.misc import is_generator_with_return_value

    callbacks = _callbacks(all_spiders()[source])
    assert callbacks, "no generator callback found"
    assert [name for name, fn in callbacks.items() if is_generator_with_return_value(fn)] == []
