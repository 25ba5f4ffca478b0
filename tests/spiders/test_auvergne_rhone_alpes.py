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


def test_merge_keeps_both_deadline_wordings_once_and_unites_labels() -> None:
    merge = AuvergneRhoneAlpesSpider.merge
    card = {"deadline_text": "Date limite du dépôt : 07/12/2026", "type_labels": ["Appel à projets"]}
    assert merge(card, {"deadline_text": "Date limite du dépôt : 07/12/2026\nJury le 20/01/2027"})[
        "deadline_text"] == "Date limite du dépôt : 07/12/2026\nJury le 20/01/2027"
    assert merge({"deadline_text": "Date limite du dépôt : 07/12/2026\nJury"},
                 {"deadline_text": "Jury"})["deadline_text"] == "Date limite du dépôt : 07/12/2026\nJury"
    assert merge(card, {"deadline_text": "Calendrier : en continu"})["deadline_text"] == (
        "Date limite du dépôt : 07/12/2026\nCalendrier : en continu")
    assert merge(card, {"type_labels": ["Aide", "Appel à projets"]})["type_labels"] == ["Appel à projets", "Aide"]
    assert merge({"title": "Carte"}, {"title": "Page"})["title"] == "Page"
