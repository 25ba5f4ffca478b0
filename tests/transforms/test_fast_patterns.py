"""Patterns written for speed (a literal or character class first, the word boundary checked after it,
substring checks instead of a case-insensitive regex) find exactly what the plain pattern finds."""

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from transforms import amounts, calls, deadlines, eligibility, text

# pieces that put the patterns' edge cases next to each other (punctuation before capitals and digits,
# bullets, "|||", acronyms with dots, amounts, "premier", accents, non-breaking spaces)
PIECES = st.sampled_from([
    ". ", "! ", "? ", ".  ", ". \t", "•", "·", "▪", "►", "|||", "||", ";", " ; ", "A", "É", "«", '"', "(", "1",
    "25", "premier", "Premier", "PREMIER", "p", "e", "eur", "EUR", "euros", "Euro", "€", " ", "\t", "\u00a0",
    "c", "C", "c.", "C.C.A.S.", "ccas", "cias", "ccias", "c c a s", "appel", "appels à projets",
    "appel a projets", "appels aux candidatures", "call for proposals", "calls for proposals", "appels ouverts",
    "x", "_", "-", "Date limite", "DÉPÔT", "clôture", "Échéance", "session", "calendrier", "ſ", "İ",
    "AAP", "AMI", "AMII", "AAC", "A", "le present appel", "cet ami", "ce nouvel appel", "le prochain ",
])
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=30).map("".join)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PLAIN_SPLIT = {
    True: re.compile(r"[•·▪►;]|\|\|\||\s(?<=[.!?]\s)\s*(?=[A-ZÀ-ÖØ-Þ0-9«\"(])"),
    False: re.compile(r"[•·▪►]|\|\|\||\s(?<=[.!?]\s)\s*(?=[A-ZÀ-ÖØ-Þ«\"(])"),
}
PLAIN_PHRASE = re.compile(
    r"\bappels? (?:a|aux) (?:projets?|candidatures?|propositions?|manifestations? d'interet|initiatives?|idees|"
    r"communs|dossiers?|contributions?)\b|\bappels? (?:a|aux) manifestation\b|\bcall for (?:proposals|projects|"
    r"applications)\b|\bcalls? for proposals\b|\bappel a projets?\b|\bappels? ouverts?\b"
)
PLAIN_SELF_REFERENCE = re.compile(r"\b(?:le present|cet|le nouvel|le prochain|ce nouvel) (?:appel|ami\b)")
PLAIN_ACRONYM = re.compile(r"(?<![\w-])(?:AAP|AMI|AMII|AAC)(?![\w-])")
PLAIN_HEADING = re.compile(r"limite|cl[ôo]tur|d[ée]p[ôo]t|date|[ée]ch[ée]ance|ouverture|candidat|calendrier|"
                           r"deadline|vague|session", re.IGNORECASE)


#: the letters whose lower case differs from what a case-insensitive regex matches (Turkish dotted and
#: dotless i, long s, Kelvin sign): the fast checks read ``str.lower()``, which no French text is affected by
SPECIAL_CASE = str.maketrans({"İ": "I", "ı": "i", "ſ": "s", "\u212a": "K"})


def spans(pattern: re.Pattern[str], s: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(s)]


def agrees_with_window_search(check, pattern: re.Pattern[str], reach: int, s: str) -> None:
    """At every position of ``s``, ``check`` (a cheap test, then the regex) finds a match where the plain
    search of ``pattern`` in the ``reach`` characters before the position finds one (it ends there)."""
    for start in range(len(s) + 1):
        plain = pattern.search(s, max(0, start - reach), start) is not None
        assert bool(check(s, start)) == plain, (s, start)


@SETTINGS
@given(TEXT, st.booleans())
def test_sentence_split_matches_the_plain_regex(line, semicolons):
    line = line.replace("\n", " ").replace("\r", " ")
    assert list(text._split_line(line, semicolons)) == PLAIN_SPLIT[semicolons].split(line)


@SETTINGS
@given(TEXT)
def test_start_scanners_match_the_plain_alternations(raw):
    s = text.fold(raw)
    assert deadlines._date_starts(s) == spans(re.compile(r"[0-9]+|premier"), s)


#: amounts' cue wordings, and what may stand between a cue and its amount
CUE_PIECES = st.sampled_from([
    "minimum", "min.", "minimale", "plancher", "a partir de", "au moins", "superieure ou egale a", "superieur a",
    "des", "pas inferieure a", "forfait", "forfaitaire", "d'un montant de", "d'un montant fixe de",
    "montant unique", "prime de", " ", "  ", "de", "l'aide", "x", "1", "eur", "€", "projet", "-",
])
BEFORE = st.lists(st.one_of(CUE_PIECES, st.text(alphabet="abcdefmnoprstu '.1", max_size=8)), max_size=14).map("".join)


@SETTINGS
@given(BEFORE)
def test_amount_cues_are_searched_only_where_they_can_match(before):
    """The minimum cue is searched in the last characters a match can span; the fixed-sum cue only when one
    of its words is there: both say what a search of the whole text says."""
    tail = amounts._MIN_CUE.search(before, max(0, len(before) - amounts._MIN_CUE_REACH))
    assert (tail is None) == (amounts._MIN_CUE.search(before) is None)
    anchored = any(map(before.__contains__, amounts._FIXED_ANCHORS)) and amounts._FIXED_CUE.search(before)
    assert bool(anchored) == (amounts._FIXED_CUE.search(before) is not None)




#: amounts and what surrounds them in folded text: numbers, separators, multipliers, currencies, dates
AMOUNT_PIECES = st.sampled_from(["5", "000", "5 000", "1.500", "2,5", " ", ",", ".", "-", "k", "m", "md", "mds",
                                 "millions", "milliard", "mille", "d'", "eur", "euro", "euros", "eurs",
                                 "europe", "15 mars 2027", "x", "u", "de", "a", "entre", "et", "'"])
AMOUNT_TEXT = st.lists(st.one_of(AMOUNT_PIECES, st.text(alphabet="0123 .,kmeur'xd", max_size=5)),
                       max_size=24).map("".join)


@SETTINGS
@given(AMOUNT_TEXT)
@example("de 5 milliards d'euros, 2,5 md eur ou 3 mille eur, 10 k eur, 1.500 euros le 15 mars 2027")
def test_amounts_are_tried_only_where_one_can_start(s):
    assert [m.span() for m in amounts._amount_matches(s)] == spans(amounts._AMOUNT, s)


#: what stands before a mention of a commune or department: place wordings, articles, spacing
PLACE_PIECES = st.sampled_from(["du", "de la", "de l'", "en", "dans la", "dans le", "dans l'", "dans les", "sur la",
                                "au sein de", "a l'echelle du", "par le", "habitants des", "habitant dus",
                                "territoire de", "de leur", "de notre", "de votre", "de sa", "de son", " ", "  ",
                                "x", "la", "le", "s", "'", "communes", "aux", "lieu"])
PLACE_TEXT = st.lists(PLACE_PIECES, max_size=12).map("".join)


@SETTINGS
@given(PLACE_TEXT)
def test_place_wording_is_searched_only_where_it_can_end(s):
    agrees_with_window_search(eligibility._place_before, eligibility._PLACE, eligibility._PLACE_REACH, s)


#: partner wordings and their neighbours
PARTNER_PIECES = st.sampled_from(["en partenariat avec", "en lien etroite avec", "avec l'appui du", "en associant",
                                  "associes a", "associee avec", "partenaire", "partenaires", "accompagnes par",
                                  "orientes par", "prescrit", "avec le soutien de", "relais des", "relai du",
                                  "sur orientation de", "signales par", "identifies par", "par", "avec", " ", ".",
                                  ";", ":", "x", "les", "communes", "ccas"])
PARTNER_TEXT = st.lists(PARTNER_PIECES, max_size=14).map(" ".join)


@SETTINGS
@given(PARTNER_TEXT)
def test_partner_wording_is_searched_only_where_one_of_its_words_is(s):
    agrees_with_window_search(eligibility._partner_before, eligibility._PARTNER, eligibility._PARTNER_REACH, s)


#: what stands before an amount: lower bounds with or without "entre"/"de", separators, spacing
LOW_PIECES = st.sampled_from(["entre", "de", " ", "  ", "\n", "et", "a", "-", "–", "5", "000", "5 000", "1.500",
                              "2,5", ",", ".", "x", "ete", "jusqu'a", "euros"])
LOW_TEXT = st.lists(st.one_of(LOW_PIECES, st.text(alphabet="adet -1.,", max_size=5)), max_size=20).map("".join)


@SETTINGS
@given(LOW_TEXT)
def test_bare_lower_bound_is_searched_only_where_it_can_end(s):
    agrees_with_window_search(amounts._bare_low, amounts._BARE_LOW, amounts._BARE_LOW_REACH, s)


@SETTINGS
@given(TEXT)
@example("-AAP, AMI-x, (AMII) AAC_ xAAP AAPs: cet ami, le present appel")
def test_boundary_after_literal_matches_leading_word_boundary(raw):
    s = text.fold(raw)
    assert spans(calls._PHRASE, s) == spans(PLAIN_PHRASE, s)
    assert spans(calls._SELF_REFERENCE, s) == spans(PLAIN_SELF_REFERENCE, s)
    assert spans(calls._ACRONYM, raw) == spans(PLAIN_ACRONYM, raw)
    plain_ccas = re.compile("|".join(f"(?:{eligibility._MENTIONS[i][0]})" for i in eligibility._CCAS_INDEX))
    assert (eligibility._CCAS_ANY.search(s) is None) == (plain_ccas.search(s) is None)
    raw = raw.translate(SPECIAL_CASE)
    assert (amounts._EURO_WORD.search(raw.lower()) is None) == \
        (re.search(r"(?i)\beur(?:os?)?\b", raw) is None)


@SETTINGS
@given(TEXT)
def test_heading_words_match_the_case_insensitive_regex(raw):
    raw = raw.translate(SPECIAL_CASE)
    assert any(w in raw.lower() for w in deadlines._HEADING_WORDS) == (PLAIN_HEADING.search(raw) is not None)


@SETTINGS
@given(TEXT, st.integers(min_value=2, max_value=40))
def test_one_line_collapses_whitespace_like_the_regex(raw, limit):
    s = re.sub(r"\s+", " ", raw).strip()
    expected = s if len(s) <= limit else s[: limit - 1].rstrip() + "…"
    assert text.one_line(raw, limit) == expected


def test_examples():
    assert text.segments("Date limite : 1er mars. Dépôt en ligne ; CCAS • communes") == [
        "Date limite : 1er mars.", "Dépôt en ligne", "CCAS", "communes"]
    assert text.segments("Vague 1. 12 mars ; vague 2", semicolons=False) == ["Vague 1. 12 mars ; vague 2"]
    assert deadlines._date_starts("le premier 12 mars 2026, ppremier") == [(3, 10), (11, 13), (19, 23), (26, 33)]
    assert eligibility._CCAS_ANY.search("les c.c.a.s. et cias") is not None
    assert eligibility._CCAS_ANY.search("accas") is None


def plain_fold(raw: str) -> str:
    """What ``text.fold`` is defined as: the replacements, then NFKD kept to ASCII (texts that are not
    ASCII only), then lower case and single spaces."""
    import unicodedata

    if raw and not raw.isascii():
        for a, b in text._REPLACEMENTS:
            raw = raw.replace(a, b)
        raw = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    return " ".join(raw.lower().split())


@SETTINGS
@given(st.one_of(TEXT, st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=40),
                 st.text(max_size=40)))
def test_fold_matches_its_plain_definition(raw):
    assert text.fold.__wrapped__(raw) == plain_fold(raw)


def test_fold_covers_every_latin1_character():
    every = "".join(chr(c) for c in range(256))
    for raw in (every, every + "\u2019\u0153\u20ac\u2013", "`" + every, "\u1fef`é", "e\u0301 \u00bd"):
        assert text.fold.__wrapped__(raw) == plain_fold(raw), raw
    assert text.fold("Élan ½ d’été — Œuvre") == "elan 12 d'ete - oeuvre"


def test_fold_collapses_every_kind_of_ascii_whitespace():
    """The byte table turns whitespace into spaces; runs and ends are collapsed only when present."""
    spaces = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
    for raw in ("AAP  Solidarité", "\tCCAS\x1cCIAS\x1f", "Appel\x0bà\x0cprojets ", " Date limite",
                "UN MOT", "a\r\nb", spaces, "é" + spaces + "É", "`Quote` é", "`Quote`"):
        assert text.fold.__wrapped__(raw) == plain_fold(raw), repr(raw)
    assert text.fold("\tAppel  À\nPROJETS ") == "appel a projets"

