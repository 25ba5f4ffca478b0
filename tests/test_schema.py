"""The record schema: stable ids, canonical URLs, hashes and validation."""

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline import schema


@pytest.mark.parametrize(("a", "b"), [
    ("http://www.Avise.org/appels-a-projets/?utm_source=newsletter#haut",
     "https://www.avise.org/appels-a-projets"),
    ("https://example.fr/aide?b=2&a=1", "https://example.fr/aide?a=1&b=2"),
    ("https://example.fr", "https://example.fr/"),
])
def test_canonical_url_equivalences(a: str, b: str) -> None:
    assert schema.canonical_url(a) == schema.canonical_url(b)


def test_canonical_url_keeps_meaningful_query() -> None:
    assert schema.canonical_url("https://x.fr/a?id=1") != schema.canonical_url("https://x.fr/a?id=2")


def test_record_id_prefers_native_id_and_is_stable() -> None:
    assert schema.record_id("manche", " 42 ", "https://x.fr/a") == "manche:42"
    by_url = schema.record_id("avise", None, "https://www.avise.org/a/?utm_medium=mail")
    assert by_url == schema.record_id("avise", "", "http://www.avise.org/a")
    assert by_url.startswith("avise:") and len(by_url) == len("avise:") + 16


def _valid() -> dict:
    rec = {f: None for f in schema.RECORD_FIELDS}
    rec.update(id="avise:1", source="avise", source_level="national", url="https://www.avise.org/a",
               title="Appel à projets ESS", deadline_kind="single", status="open", ccas_eligibility="likely",
               funder="Avise", perimeter_scale="national", deadlines=["2026-12-01"], themes=[],
               audiences=["ccas"], aid_types=["grant"], amount_min=1000, amount_max=5000)
    return rec


def test_validate_record_accepts_a_valid_record() -> None:
    schema.validate_record(_valid())


@pytest.mark.parametrize(("field", "value", "message"), [
    ("status", "ouvert", "status='ouvert' not in vocabulary"),
    ("title", "", "title is empty"),
    ("deadlines", ["01/12/2026"], "is not an ISO date"),
    ("audiences", ["mairie"], "audiences has unknown values"),
    ("funder", [], "funder is empty"),
    ("status", ["open"], "status=['open'] not in vocabulary"),
    ("themes", [["solidarites-lien-social"]], "themes has unknown values"),
    ("amount_min", 9000, "amount_min > amount_max"),
    ("url", "ftp://x", "is not http(s)"),
])
def test_validate_record_names_each_problem(field: str, value: object, message: str) -> None:
    rec = _valid()
    rec[field] = value
    with pytest.raises(schema.ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[")):
        schema.validate_record(rec)


def test_hashes_separate_content_from_calendar() -> None:
    a = _valid()
    b = dict(a, deadlines=["2027-01-15"])
    assert schema.content_hash(a) == schema.content_hash(b)
    assert schema.calendar_hash(a) != schema.calendar_hash(b)
    c = dict(a, title="Autre titre")
    assert schema.content_hash(a) != schema.content_hash(c)
    assert schema.calendar_hash(a) == schema.calendar_hash(c)


def test_validate_raw_rejects_unknown_and_missing_fields() -> None:
    with pytest.raises(schema.ValidationError, match="lacks title"):
        schema.validate_raw({"source": "avise", "url": "https://a.fr"})
    with pytest.raises(schema.ValidationError, match="unknown fields colour"):
        schema.validate_raw({"source": "avise", "url": "https://a.fr", "title": "t", "colour": 1})
    with pytest.raises(schema.ValidationError, match="not an object"):
        schema.validate_raw(["a"])


@pytest.mark.parametrize("url", [
    "https://Example.FR/aides/", "http://example.fr", "http://example.fr/", "https://a.fr//x//", "http://localhost/x/",
    "http://127.0.0.1:8000/a/", "https://a.fr/x?utm_source=z&b=1#frag", "https://user@a.fr/x", "https://a.fr:443/x",
    " https://a.fr/x ", "https://a.fr/é/", "https://a.fr/x%2F/", "HTTPS://A.FR/X", "ftp://a.fr/x/", "https://a.fr/a b",
])
def test_canonical_url_fast_path_agrees_with_parsing(url):
    """Plain URLs skip urlsplit; the result must be the parsed one's."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url.strip())
    path = parts.path or "/"
    path = path.rstrip("/") if len(path) > 1 else path
    if parts.query or parts.username or parts.port or parts.scheme not in ("http", "https"):
        return  # only plain URLs take the fast path
    scheme = "http" if schema._is_loopback(parts.hostname) and parts.scheme == "http" else "https"
    assert schema.canonical_url(url) == urlunsplit((scheme, parts.hostname.lower(), path, "", ""))


@pytest.mark.parametrize("lo, hi, problem", [
    ("100", 50.0, "amount_min='100' is not a non-negative amount"),
    (10.0, "cent", "amount_max='cent' is not a non-negative amount"),
    (float("nan"), 5.0, "amount_min=nan is not a non-negative amount"),
    (True, 5.0, "amount_min=True is not a non-negative amount"),
    (500.0, 50.0, "amount_min > amount_max"),
])
def test_bad_amounts_are_reasons_not_crashes(lo, hi, problem):
    rec = {**_valid(), "amount_min": lo, "amount_max": hi}
    with pytest.raises(schema.ValidationError, match=re.escape(problem)):
        schema.validate_record(rec)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text()
    | st.sampled_from(["Appel à projets « Bien vieillir » – 2026 d’été\n\t\"x\"\\", "€", "\u2028", "\x00"])
    | st.dates(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(st.lists(JSON_VALUES, max_size=6))
@example([float("-inf"), float("inf"), float("nan"), -0.0, 1e16, 150000.0, 3, True, False, None])
@example([["aînés", "ccas"], ("2026-03-31",), [], "Réf. « 12 »", 10**20])
def test_short_hash_is_the_hash_of_the_json_text(parts):
    """The hashes write the JSON of plain values themselves; the bytes hashed must stay those of
    ``json.dumps``, or every stored call would look changed at the next harvest."""
    import hashlib
    import json

    payload = json.dumps(tuple(parts), sort_keys=True, ensure_ascii=False, default=str)
    assert schema.short_hash(*parts, length=64) == hashlib.sha256(payload.encode("utf-8")).hexdigest()


def test_hashes_of_a_record_did_not_change():
    """Hashes stored by earlier harvests stay valid: a record's hashes, computed by ``json.dumps``."""
    import hashlib
    import json

    rec = {**_valid(), "summary": "Soutien aux CCAS – « Bien vieillir »", "deadlines": ["2026-03-31"],
           "amount_min": 5000.0, "amount_max": 150000, "is_call_for_projects": True, "themes": []}

    def reference(fields):
        payload = json.dumps(tuple(rec.get(f) for f in fields), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]

    assert schema.content_hash(rec) == reference(schema.CONTENT_FIELDS)
    assert schema.calendar_hash(rec) == reference(schema.CALENDAR_FIELDS)
