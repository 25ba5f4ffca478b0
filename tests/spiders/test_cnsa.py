"""CNSA: single listing page + call pages, parsed from the saved fixtures."""

from __future__ import annotations

from spiders.sources.cnsa import CnsaSpider
from tests.offline import crawl_offline
from tests.spiders.html_helpers import HtmlSourceTests


class TestCnsa(HtmlSourceTests):
    spider = CnsaSpider
    broken = ("aap-summary__list", "aap-resume__liste", "ul.aap-summary__list")

    def test_status_badges_and_rolling_calls(self) -> None:
        items = crawl_offline(self.spider).items
        assert {it["status_label"] for it in items} >= {"Ouvert", "En continu", "Clôturé", "À venir"}
        for it in items:
            assert it["deadline_text"].startswith("Date limite de candidature :")
            if it["status_label"] == "En continu":
                assert "en continu" in it["deadline_text"].split("\n")[0]
