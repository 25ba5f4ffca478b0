"""Région Sud: paginated listing + aid pages with a "Bon à savoir" block, parsed from the fixtures."""

from __future__ import annotations

from spiders.sources.region_sud import RegionSudSpider
from tests.offline import crawl_offline
from tests.spiders.html_helpers import HtmlSourceTests


class TestRegionSud(HtmlSourceTests):
    spider = RegionSudSpider
    broken = ('class="bon-a-savoir"', 'class="a-savoir"', "div.bon-a-savoir")

    def test_bon_a_savoir_lines_feed_deadline_and_audiences(self) -> None:
        items = crawl_offline(self.spider).items
        for it in items:
            lines = it["deadline_text"].split("\n")
            assert all(" : " in line for line in lines)
            assert not any(line.startswith("Bénéficiaires") for line in lines)
            assert it["audience_labels"] and all(":" not in a for a in it["audience_labels"])
            assert it["is_call_label"] == (it["type_labels"] == ["Appel à projets"])
        assert any("CCAS" in it["audience_labels"] for it in items)
