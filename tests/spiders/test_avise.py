"""Avise: Drupal listing + call pages, parsed from the saved fixtures."""

from __future__ import annotations

from spiders.sources.avise import AviseSpider
from tests.offline import crawl_offline
from tests.spiders.html_helpers import HtmlSourceTests


class TestAvise(HtmlSourceTests):
    spider = AviseSpider
    broken = ("field--name-field-financeur", "field--name-field-funder", "field--name-field-financeur")

    def test_each_call_keeps_its_own_funder_and_both_deadline_wordings(self) -> None:
        items = crawl_offline(self.spider).items
        funders = {it["funder"] for it in items}
        assert len(funders) == len(items) and self.spider.funder not in funders
        for it in items:
            first, *rest = it["deadline_text"].split("\n")
            assert first.startswith("Date limite : ") and rest[0].startswith("Date limite ")
