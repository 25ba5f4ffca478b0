"""CNSA: single listing page + call pages, parsed from the saved fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from spiders.base import LayoutError
from spiders.sources.cnsa import CnsaSpider
from tests.offline import crawl_offline
from tests.spiders.html_helpers import HtmlSourceTests, broken_overlay


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

    def test_emptied_required_block_fails_instead_of_yielding_an_empty_field(self, tmp_path: Path) -> None:
        overlay = broken_overlay(tmp_path, self.spider.name, '<h1 class="page-title">', '<h1 class="page-title"><!--')
        for page in (overlay / self.spider.name).glob("detail-*.html"):
            page.write_bytes(page.read_bytes().replace(b"</h1>", b"--></h1>", 1))
        with pytest.raises(LayoutError, match=r"\[cnsa\] selector 'h1.page-title' \(title\)"):
            crawl_offline(self.spider, overlay_dirs=[overlay])
