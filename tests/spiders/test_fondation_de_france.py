"""Fondation de France: paginated HTML listing + call pages, parsed from the saved fixtures."""

from __future__ import annotations

from spiders.sources.fondation_de_france import FondationDeFranceSpider
from tests.offline import crawl_offline
from tests.spiders.html_helpers import HtmlSourceTests


class TestFondationDeFrance(HtmlSourceTests):
    spider = FondationDeFranceSpider
    broken = ('class="hero__deadline"', 'class="hero__date-limite"', "hero__deadline")

    def test_listing_status_and_detail_sections_are_kept(self) -> None:
        items = crawl_offline(self.spider).items
        assert {it["status_label"] for it in items} >= {"Ouvert", "Clos"}
        for it in items:
            assert it["deadline_text"].startswith("Date limite de dépôt du dossier")
            assert it["is_call_label"] is True
            assert it["raw"]["list"]["status_label"] == it["status_label"]

    def test_application_link_is_kept_as_given(self) -> None:
        for it in crawl_offline(self.spider).items:
            assert it["application_url"].startswith("https://") and "portal.test" not in it["application_url"]
