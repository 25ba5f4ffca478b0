"""Auvergne-Rhône-Alpes: Drupal search results + aid pages, parsed from the saved fixtures."""

from __future__ import annotations

import re

from spiders.sources.auvergne_rhone_alpes import AuvergneRhoneAlpesSpider
from tests.offline import crawl_offline
from tests.spiders.html_helpers import HtmlSourceTests


class TestAuvergneRhoneAlpes(HtmlSourceTests):
    spider = AuvergneRhoneAlpesSpider
    broken = ("node--view-mode-full", "node--view-mode-page", "node--view-mode-full")

    def test_listing_deadline_and_category_are_kept(self) -> None:
        items = crawl_offline(self.spider).items
        dated = [it for it in items if "deadline_text" in it["raw"]["list"]]
        assert dated and len(dated) < len(items), "permanent aids have no date on their card"
        for it in dated:
            assert re.fullmatch(r"Date limite du dépôt : \d{2}/\d{2}/\d{4}", it["raw"]["list"]["deadline_text"])
            assert it["deadline_text"].startswith(it["raw"]["list"]["deadline_text"])
        for it in items:
            assert it["is_call_label"] == (it["type_labels"][0] != "Aide")
