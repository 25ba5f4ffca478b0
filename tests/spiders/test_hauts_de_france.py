"""Hauts-de-France: guide des aides listing + aid pages, parsed from the saved fixtures."""

from __future__ import annotations

import re

from spiders.sources.hauts_de_france import HautsDeFranceSpider
from tests.offline import crawl_offline
from tests.spiders.html_helpers import HtmlSourceTests


class TestHautsDeFrance(HtmlSourceTests):
    spider = HautsDeFranceSpider
    broken = ('class="aide-details"', 'class="aide-infos"', "dl.aide-details")

    def test_numeric_id_from_the_url_is_the_native_id(self) -> None:
        for it in crawl_offline(self.spider).items:
            assert re.fullmatch(r"\d+", it["native_id"])
            assert f"/aide/{it['native_id']}/" in it["url"]
