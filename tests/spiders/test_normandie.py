"""Normandie: Drupal listing + aid pages, parsed from the saved fixtures."""

from __future__ import annotations

from spiders.sources.normandie import NormandieSpider
from tests.offline import crawl_offline
from tests.spiders.html_helpers import HtmlSourceTests


class TestNormandie(HtmlSourceTests):
    spider = NormandieSpider
    broken = ("field--name-field-beneficiaires", "field--name-field-publics", "field--name-field-beneficiaires")

    def test_status_and_drupal_node_id_are_kept(self) -> None:
        items = crawl_offline(self.spider).items
        assert {it["status_label"] for it in items} >= {"Ouvert", "Clos", "Permanent", "À venir"}
        node_ids = [it["raw"]["detail"]["node_id"] for it in items]
        assert all(n.isdigit() for n in node_ids) and len(set(node_ids)) == len(items)
        for it in items:
            assert it["native_id"] not in node_ids, "the URL slug, not the CMS node id, is the stable id"
