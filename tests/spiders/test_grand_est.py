"""Grand Est: paginated HTML cards + aid pages, parsed from the saved fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from spiders.base import LayoutError
from spiders.sources.grand_est import GrandEstSpider
from tests.offline import crawl_offline
from tests.spiders.html_helpers import HtmlSourceTests, broken_overlay


class TestGrandEst(HtmlSourceTests):
    spider = GrandEstSpider
    broken = ('class="aide__infos"', 'class="aide__encart"', "div.aide__infos")

    def test_card_deadline_marks_calls_and_is_kept_with_the_calendar(self) -> None:
        items = crawl_offline(self.spider).items
        calls = [it for it in items if it["is_call_label"]]
        aids = [it for it in items if not it["is_call_label"]]
        assert calls and aids
        for it in calls:
            card, calendar = it["deadline_text"].split("\n")
            assert card.startswith("Date limite de dépôt : ") and card[-10:].count("/") == 2
            assert calendar == it["raw"]["detail"]["deadline_text"]
        for it in aids:
            assert it["deadline_text"] == it["raw"]["detail"]["deadline_text"]

    def test_empty_listing_fails_unless_the_source_allows_it(self, tmp_path: Path) -> None:
        overlay = broken_overlay(tmp_path, self.spider.name, 'class="card"', 'class="carte"', prefix="list-")
        with pytest.raises(LayoutError, match=r"\[grand_est\] selector 'div.cards a.card' \(list entries\)"):
            crawl_offline(self.spider, overlay_dirs=[overlay])

        class EmptyOk(GrandEstSpider):
            empty_ok = True

        crawl = crawl_offline(EmptyOk, overlay_dirs=[overlay])
        assert crawl.items == [] and len(crawl.requests) == 2

    def test_changed_card_markup_names_the_entry_and_the_listing_page(self, tmp_path: Path) -> None:
        overlay = broken_overlay(tmp_path, self.spider.name, 'class="txt new_txt"', 'class="texte"', prefix="list-")
        with pytest.raises(LayoutError) as err:
            crawl_offline(self.spider, overlay_dirs=[overlay])
        message = str(err.value)
        assert "div.txt.new_txt h3" in message and "'div.cards a.card'" in message
        assert message.endswith("/grand_est/vos-aides-regionales/)")
