"""Hauts-de-France: guide des aides listing + aid pages, parsed from the saved fixtures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spiders.base import LayoutError
from spiders.sources.hauts_de_france import HautsDeFranceSpider
from tests.offline import crawl_offline
from tests.spiders.html_helpers import HtmlSourceTests, broken_overlay


class TestHautsDeFrance(HtmlSourceTests):
    spider = HautsDeFranceSpider
    broken = ('class="aide-details"', 'class="aide-infos"', "dl.aide-details")

    def test_numeric_id_from_the_url_is_the_native_id(self) -> None:
        for it in crawl_offline(self.spider).items:
            assert re.fullmatch(r"\d+", it["native_id"])
            assert f"/aide/{it['native_id']}/" in it["url"]

    def test_url_outside_the_id_scheme_fails_loudly(self, tmp_path: Path) -> None:
        overlay = broken_overlay(tmp_path, self.spider.name, 'href="/aide/2384/', 'href="/dispositif/2384/',
                                 prefix="list-")
        fixture = overlay / self.spider.name / "portal.json"
        fixture.write_text(fixture.read_text(encoding="utf-8").replace("/aide/2384/", "/dispositif/2384/"),
                           encoding="utf-8")
        with pytest.raises(LayoutError, match="native_id_regex"):
            crawl_offline(self.spider, overlay_dirs=[overlay])
