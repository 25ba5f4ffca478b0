"""fse.gouv.fr: DSFR listing + call pages, parsed from the saved fixtures."""

from __future__ import annotations

from spiders.sources.fse_gouv import FseGouvSpider
from tests.offline import crawl_offline
from tests.spiders.html_helpers import HtmlSourceTests


class TestFseGouv(HtmlSourceTests):
    spider = FseGouvSpider
    broken = ('class="aap-infos"', 'class="aap-informations"', "dl.aap-infos")

    def test_each_call_names_its_managing_body_and_territory(self) -> None:
        items = crawl_offline(self.spider).items
        assert len({it["funder"] for it in items}) > 2
        assert "National" in {it["perimeter_label"] for it in items}
        assert len({it["perimeter_label"] for it in items}) > 2
        for it in items:
            assert it["programme"].startswith("Programme national FSE+")
            assert it["deadline_text"].startswith("Date de clôture\n")
            assert it["summary"] == it["raw"]["list"]["summary"]
