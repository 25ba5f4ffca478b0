"""Property tests: random text never raises, and results always stay inside the vocabularies."""

import re
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import schema
from transforms.amounts import parse_amounts
from transforms.classify import classify_line
from transforms.deadlines import extract_deadlines
from transforms.eligibility import classify_eligibility
from transforms.perimeter import resolve_perimeter
from transforms.themes import classify_themes

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# French-looking fragments mixed with arbitrary unicode, so that the parsers' paths are exercised
FRAGMENTS = st.sampled_from([
    "Date limite : ", "jusqu'au ", "du ", " au ", "1er ", "31 ", "29 février ", "lundi ", "2026", "12/13/2025",
    "15.01.26", " à 23h59", " à midi", "prolongé jusqu'au ", "commission permanente ", "au fil de l'eau",
    "CCAS", "C.C.A.S.", "communes", "établissements publics", "à l'exclusion des ", "ne sont pas éligibles",
    "|||", " ; ", "\n", "€", "k€", "3.000", "1 500 000", "jusqu'à ", "entre ", " et ", "Min. ", "%", "EUR ",
    "appel à projets", "AMI", "personnes âgées", "é", "«", "\u00a0", "0", "99", "-", ":", ".", "(", ")",
])
TEXT = st.lists(st.one_of(FRAGMENTS, st.text(max_size=12)), max_size=40).map("".join)
DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(TEXT, DATES, st.booleans(), st.lists(st.one_of(st.text(max_size=30), DATES.map(str)), max_size=3))
def test_deadlines_never_raise(text, as_of, strict, structured):
    info = extract_deadlines(text, as_of=as_of, strict=strict, structured_deadlines=structured)
    assert info.kind in schema.DEADLINE_KINDS
    assert info.status in schema.STATUSES
    assert all(ISO.match(d) for d in info.deadlines)
    assert info.deadlines == sorted(set(info.deadlines))
    assert info.next_deadline is None or info.next_deadline in info.deadlines
    assert (info.kind in ("single", "multiple")) == bool(info.deadlines)
    assert info.time is None or re.match(r"^\d{2}:\d{2}$", info.time)


@SETTINGS
@given(TEXT, st.lists(TEXT, max_size=3), st.booleans())
def test_eligibility_never_raises(text, labels, strict):
    result = classify_eligibility(text, labels, strict=strict)
    assert result.cls in schema.CCAS_CLASSES
    assert set(result.audiences) <= set(schema.AUDIENCES)
    assert (result.evidence is None) == (result.cls == "unknown")


@SETTINGS
@given(TEXT)
def test_amounts_never_raise(text):
    lo, hi = parse_amounts(text)
    for v in (lo, hi):
        assert v is None or (isinstance(v, float) and v >= 0)
    if lo is not None and hi is not None:
        assert lo <= hi


@SETTINGS
@given(TEXT, TEXT, st.lists(TEXT, max_size=3))
def test_themes_and_perimeter_never_raise(title, description, tags):
    result = classify_themes({"title": title, "description": description}, tags=tags)
    assert set(result.themes) <= set(schema.THEMES)
    perimeter = resolve_perimeter(title, None)
    assert perimeter["scale"] in schema.PERIMETER_SCALES


@SETTINGS
@given(st.dictionaries(st.sampled_from(["id", "title", "summary", "description", "eligibility", "deadline_text",
                                        "as_of", "source_tags", "other"]),
                       st.one_of(TEXT, st.integers(), st.none(), st.lists(TEXT, max_size=2)), max_size=8))
def test_classify_line_returns_an_object_for_anything(obj):
    out = classify_line(obj, default_as_of=date(2026, 1, 1))
    assert isinstance(out, dict) and "id" in out
    if "error" not in out:
        assert out["ccas_eligibility"] in schema.CCAS_CLASSES
