"""Downloader middlewares: lost pages recorded once retries give up; mis-declared Latin-1 pages repaired."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from spiders.middlewares import EncodingRepair, FinalFailures

TEXT = "<html><body><p>Dépôt jusqu’au mercredi 11 février, très bientôt : « à midi »</p></body></html>"


def _page(body: bytes, content_type: str) -> HtmlResponse:
    return HtmlResponse(url="https://www.maregionsud.fr/aides/x", body=body,
                        headers={"Content-Type": content_type})


@pytest.mark.parametrize("content_type", ["text/html", "text/html; charset=utf-8", "text/html; charset=UTF8"])
def test_latin1_page_without_or_with_a_false_utf8_charset_is_repaired(content_type: str) -> None:
    page = _page(TEXT.encode("cp1252"), content_type)
    fixed = EncodingRepair().process_response(page.request, page)
    assert "Dépôt jusqu’au mercredi 11 février, très bientôt : « à midi »" in fixed.text


def test_correct_pages_are_left_alone() -> None:
    utf8 = _page(TEXT.encode("utf-8"), "text/html")
    assert EncodingRepair().process_response(None, utf8) is utf8
    latin = _page(TEXT.replace("’", "'").encode("latin-1"), "text/html; charset=iso-8859-1")
    assert EncodingRepair().process_response(None, latin) is latin
    assert "très" in latin.text


def test_final_failures_keep_lost_pages_only() -> None:
    mw = FinalFailures()
    ok = Request("https://www.avise.org/appels-a-projets")
    lost = Request("https://www.avise.org/appels-a-projets/tiers-lieux")
    robots = Request("https://www.avise.org/robots.txt")
    mw.process_response(ok, HtmlResponse(url=ok.url, status=200, body=b"<html></html>"))
    mw.process_response(lost, HtmlResponse(url=lost.url, status=503, body=b""))
    mw.process_response(robots, HtmlResponse(url=robots.url, status=404, body=b""))
    mw.process_exception(lost, TimeoutError("took too long"))
    assert mw.failures == [f"503 {lost.url}", f"TimeoutError {lost.url}"]
