"""The keyword matcher's first-word filter: a word is tried only against patterns that can start with it,
and a pattern whose match the word alone decides is not run at all."""

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from transforms.text import _WORD_CHARS, KeywordMatcher, _first_word


def test_first_word_of_alternatives():
    assert _first_word(r"personnes? agees?")[0].pattern == "personnes?"
    assert _first_word(r"personnes? agees?")[1] is True  # followed by a space: the whole word
    assert _first_word(r"handicap\w*") == (_first_word(r"handicap\w*")[0], False)
    assert _first_word(r"ars\b")[1] is True
    assert _first_word(r"\bpays\b(?= ?[/,)])")[1] is False
    assert _first_word(r"peu(?:vent|t) (?:candidater|deposer)")[0].pattern == "peu(?:vent|t)"


def test_filtered_words_give_the_same_matches():
    m = KeywordMatcher([(r"danse", "d"), (r"aide alimentaire", "a"), (r"handicap\w*", "h"), (r"ars\b", "s"),
                        (r"(?<!commission )permanent\w*", "p")])
    assert m._candidates("dans") == ()
    assert m._candidates("danses") == ((0, 5),)  # "danse" matches within the word: its length is known
    assert m._candidates("arsenal") == ()
    assert m._candidates("aide") == ((1, -1),)  # "aide alimentaire" depends on the text after the word
    text = "dans la danse, aide alimentaire aux handicapes ; arsenal, ars. commission permanente, accueil permanent"
    assert [p for _, _, p in m.finditer(text)] == ["d", "a", "h", "s", "p"]


PATTERNS = [
    r"seniors?|personnes? agees?|ehpad", r"jeunes(?:se)?|enfants?|familles?\b", r"handicap\w*|r&d",
    r"sante|sante mentale|ars\b", r"\bpays\b(?= ?[/,)])|payss?", r"logements?|logement d'abord",
    r"(?<!commission )permanent\w*|perm", r"aides? (?:sociale|alimentaire)|aide",
    r"date\w* limites?|datation", r"internationa\w*s?\b|cooperation europeenne|coop\w+ration",
]
WORDS = st.sampled_from(["senior", "seniors", "seniorite", "personne", "personnes agees", "ehpad", "jeunes",
                         "jeunesse", "jeunesses", "enfant", "familles", "famille_x", "handicapes", "r&d",
                         "sante", "sante mentale", "ars", "arsenal", "pays", "pays/", "payss", "logement",
                         "logement d'abord", "commission permanente", "permanent", "perm", "aide sociale",
                         "aides alimentaire", "aide", "dates limites", "date limite", "datee", "datation",
                         "international", "internationales", "cooperation europeenne", "cooperation",
                         "coop", "_", "&", " ", ", ", "/", "é", "x", "s", "-"])
TEXTS = st.lists(WORDS, max_size=16).map("".join)


def plain(patterns: list[str], text: str) -> list[tuple[int, int, int]]:
    """The matcher's documented behaviour, with the regexes alone: at each word start, the first pattern
    that matches wins and the scan resumes after it."""
    res = [re.compile(f"(?:{p})") for p in patterns]
    out, i = [], 0
    while i < len(text):
        if text[i] in _WORD_CHARS and (i == 0 or text[i - 1] not in _WORD_CHARS):
            for k, rx in enumerate(res):
                m = rx.match(text, i)
                if m and m.end() > i:
                    out.append((i, m.end(), k))
                    i = m.end()
                    break
            else:
                i += 1
        else:
            i += 1
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
@example("coop_cooperation europeenne")  # "\\w+" reads past the word "coop", through "_"
def test_matches_decided_by_the_word_alone_are_the_regex_matches(text):
    m = KeywordMatcher([(p, k) for k, p in enumerate(PATTERNS)])
    expected = plain(PATTERNS, text)
    assert m.finditer(text) == expected
    assert m.search(text) == (expected[0] if expected else None)
    every = {k: [(s, text[s:e]) for s, e, _ in plain([p], text)] for k, p in enumerate(PATTERNS)}
    assert m.find_all(text) == {k: v for k, v in every.items() if v}
