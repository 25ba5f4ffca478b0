"""The synthetic portal: deterministic from its seed, faults drawn per URL, conditional requests."""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from pipeline.synthetic import SHAPES, Faults, SyntheticPortal, generate_call, split_sizes
from tests.reliability.drive import spider_items

ODS = "/ile_de_france/api/explore/v2.1/catalog/datasets/aides-appels-a-projets/records"


def _every_page(portal: SyntheticPortal) -> dict[str, bytes]:
    """Body of every list and detail page of every source, keyed by request path."""
    out = {}
    for source, shape in portal.shapes.items():
        urls = list(shape.list_urls())
        urls += [u for u in (shape.detail_url(i) for i in range(shape.n)) if u]
        for url in urls:
            parts = urlsplit(url)
            out[f"/{source}{url}"] = portal.resolve("GET", f"/{source}{parts.path}", parts.query, {}).body
    return out


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    a = _every_page(SyntheticPortal(split_sizes(40), seed=11))
    b = _every_page(SyntheticPortal(split_sizes(40), seed=11))
    c = _every_page(SyntheticPortal(split_sizes(40), seed=12))
    assert a == b
    assert len(a) == len(c)
    assert not set(a.values()) & set(c.values())


def test_sizes_are_shared_and_served() -> None:
    sizes = split_sizes(100)
    assert sum(sizes.values()) == 100 and max(sizes.values()) - min(sizes.values()) <= 1
    portal = SyntheticPortal(sizes, seed=2)
    body = json.loads(portal.resolve("GET", ODS, "limit=100&offset=0", {}).body)
    assert body["total_count"] == sizes["ile_de_france"] == len(body["results"])
    ids = {r["reference_administrative"] for r in body["results"]}
    assert len(ids) == len(body["results"])
    feed = portal.resolve("GET", "/nouvelle_aquitaine/fiches-rss.xml", "", {}).body.decode()
    assert feed.count("<item>") == sizes["nouvelle_aquitaine"]
    shape = portal.shapes["grand_est"]
    listed = sum(portal.resolve("GET", "/grand_est" + urlsplit(u).path, urlsplit(u).query, {}).body
                 .count(b'class="card"') for u in shape.list_urls())
    assert listed == sizes["grand_est"]


def test_generated_texts_are_french_and_varied() -> None:
    calls = [generate_call(5, "grand_est", i) for i in range(300)]
    assert len({c.eligibility_class for c in calls}) == 5
    assert any(c.rolling for c in calls) and any(len(c.deadlines) == 2 for c in calls)
    assert any("é" in c.title or "è" in c.title for c in calls)
    assert len({c.native_id for c in calls}) == 300
    for c in calls:
        for d in c.deadlines:
            assert str(d.day) in c.deadline_text or f"{d.day:02d}" in c.deadline_text


def test_transient_errors_recover_permanent_ones_do_not() -> None:
    portal = SyntheticPortal(split_sizes(60), seed=4, faults={"grand_est": Faults(error_rate=0.5)})
    shape = portal.shapes["grand_est"]
    details = [shape.detail_url(i) for i in range(shape.n)]
    plans = {u: portal.failing_attempts("grand_est", u) for u in details}
    assert any(p == 0 for p in plans.values())
    assert any(1 <= p <= 2 for p in plans.values())
    assert any(p > 100 for p in plans.values())
    for url, failing in plans.items():
        statuses = [portal.resolve("GET", "/grand_est" + url, "", {}).status for _ in range(4)]
        expected = [503 if n <= failing else 200 for n in range(1, 5)]
        assert statuses == expected, url
    clean = portal.resolve("GET", "/ile_de_france" + ODS.removeprefix("/ile_de_france"), "", {})
    assert clean.status == 200


def test_expected_outcome_matches_the_fault_plan() -> None:
    portal = SyntheticPortal(split_sizes(90), seed=9, faults={"grand_est": Faults(error_rate=0.3, lists=False)})
    exp = portal.expected("grand_est", attempts=3)
    n = portal.sizes["grand_est"]
    assert 0 < len(exp["reachable"]) < n
    assert all(not portal.is_list("grand_est", u) for u in exp["lost_urls"])
    for url in exp["lost_urls"]:
        assert portal.failing_attempts("grand_est", url) >= 3
    assert portal.expected("ile_de_france", attempts=3) == {"reachable": set(range(portal.sizes["ile_de_france"])),
                                                           "lost_urls": []}


def test_down_source_answers_503_everywhere() -> None:
    portal = SyntheticPortal(split_sizes(10), seed=1, faults={"nouvelle_aquitaine": Faults(down=True)})
    assert {portal.resolve("GET", "/nouvelle_aquitaine/fiches-rss.xml", "", {}).status for _ in range(5)} == {503}
    assert portal.expected("nouvelle_aquitaine", attempts=3)["reachable"] == set()


def test_conditional_requests_get_304_until_the_page_changes() -> None:
    portal = SyntheticPortal(split_sizes(30), seed=3, change_rate=0.5)
    shape = portal.shapes["grand_est"]
    first = {i: portal.resolve("GET", "/grand_est" + shape.detail_url(i), "", {}) for i in range(shape.n)}
    for reply in first.values():
        assert reply.status == 200 and reply.headers["ETag"] and reply.headers["Last-Modified"]
    again = {i: portal.resolve("GET", "/grand_est" + shape.detail_url(i), "",
                               {"If-None-Match": r.headers["ETag"]}) for i, r in first.items()}
    assert {r.status for r in again.values()} == {304} and all(r.body == b"" for r in again.values())
    changed = {i for s, i in portal.advance() if s == "grand_est"}
    assert 0 < len(changed) < shape.n
    after = {i: portal.resolve("GET", "/grand_est" + shape.detail_url(i), "",
                               {"If-None-Match": r.headers["ETag"]}) for i, r in first.items()}
    assert {i for i, r in after.items() if r.status == 200} == changed
    # a changed call keeps its URL and native id: only its content moves
    assert all(portal.call("grand_est", i).native_id == generate_call(3, "grand_est", i).native_id
               for i in changed)


def test_html_faults_latin1_truncated_malformed_giant_redirect() -> None:
    faults = Faults(latin1_rate=1.0, truncated_rate=0.0, giant_rate=0.0)
    portal = SyntheticPortal({"grand_est": 30}, seed=8, faults={"grand_est": faults})
    shape = portal.shapes["grand_est"]
    kinds = set()
    for i in range(shape.n):
        url = shape.detail_url(i)
        reply = portal.resolve("GET", "/grand_est" + url, "", {})
        kind = portal.latin1_variant("grand_est", url)
        kinds.add(kind)
        with pytest.raises(UnicodeDecodeError):
            reply.body.decode("utf-8")
        assert portal.call("grand_est", i).title in html.unescape(reply.body.decode("iso-8859-1"))
        assert ("iso-8859-1" in reply.headers["Content-Type"]) == (kind == "declared")
    assert kinds == {"declared", "missing", "wrong"}

    clean = SyntheticPortal({"grand_est": 5}, seed=8)
    url = clean.shapes["grand_est"].detail_url(0)
    size = len(clean.resolve("GET", "/grand_est" + url, "", {}).body)
    for fault, check in (
        (Faults(truncated_rate=1.0), lambda b: len(b) < size and not b.rstrip().endswith(b"</html>")),
        (Faults(malformed_rate=1.0), lambda b: b.count(b"<p>") > b.count(b"</p>")),
        (Faults(giant_rate=1.0, giant_bytes=2_000_000), lambda b: len(b) > 2_000_000),
    ):
        bad = SyntheticPortal({"grand_est": 5}, seed=8, faults={"grand_est": fault})
        assert check(bad.resolve("GET", "/grand_est" + url, "", {}).body), fault

    moved = SyntheticPortal({"grand_est": 5}, seed=8, faults={"grand_est": Faults(redirect_rate=1.0)})
    reply = moved.resolve("GET", "/grand_est" + url, "", {})
    assert reply.status == 301
    target = reply.headers["Location"]
    assert moved.resolve("GET", target, "", {}).status == 200


def test_robots_and_unparseable_dates() -> None:
    portal = SyntheticPortal(split_sizes(30), seed=3, faults={
        "nouvelle_aquitaine": Faults(robots_disallow=("/sante-et-solidarites/",), bad_date_rate=1.0)})
    robots = portal.resolve("GET", "/robots.txt", "", {}).body.decode()
    assert "Disallow: /nouvelle_aquitaine/sante-et-solidarites/" in robots
    assert all(not portal.call("nouvelle_aquitaine", i).deadlines for i in range(portal.sizes["nouvelle_aquitaine"]))
    assert portal.expected("nouvelle_aquitaine", attempts=3)["reachable"] == set()


def test_served_over_http_with_counts() -> None:
    with SyntheticPortal(split_sizes(12), seed=6) as portal:
        url = portal.base_url("grand_est") + "/vos-aides-regionales/"
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = resp.read()
            etag = resp.headers["ETag"]
        req = urllib.request.Request(url, headers={"If-None-Match": etag})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=5)
        assert err.value.code == 304
        stats = portal.stats()["grand_est"]
    assert stats == {"requests": 2, "bytes_sent": len(body), "statuses": {"200": 1, "304": 1}}


def test_faults_parse_from_text() -> None:
    f = Faults.parse("error_rate=0.2,down=1,robots_disallow=/a/|/b/,giant_bytes=10")
    assert (f.error_rate, f.down, f.robots_disallow, f.giant_bytes) == (0.2, True, ("/a/", "/b/"), 10)
    with pytest.raises(ValueError):
        Faults.parse("nonsense=1")


@pytest.mark.parametrize("source", sorted(SHAPES))
def test_the_real_spider_reads_every_synthetic_call(source: str) -> None:
    portal = SyntheticPortal({source: 130}, seed=21)
    items = spider_items(portal, source)
    assert len(items) == 130
    assert len({i["native_id"] for i in items}) == 130
    titles = {portal.call(source, i).title for i in range(130)}
    assert {i["title"] for i in items} == titles
    for item in items:
        index = int(re.search(r"Référence interne AAP-[A-Z]{3}-(\d{6})", item["description"]).group(1))
        call = portal.call(source, index)
        assert item["title"] == call.title
        assert call.eligibility_text in (item.get("eligibility_text") or "") + (item.get("description") or "")
        assert "\ufffd" not in item["title"] and "Ã" not in item["title"]


def test_split_sizes_respects_the_spiders_caps() -> None:
    caps = {name: shape.capacity() for name, shape in SHAPES.items()}
    for n in (0, 7, 1000, 5000, 20000):
        sizes = split_sizes(n)
        assert sum(sizes.values()) == n
        assert all(sizes[s] <= caps[s] for s in sizes)
    with pytest.raises(ValueError):
        split_sizes(sum(caps.values()) + 1)
