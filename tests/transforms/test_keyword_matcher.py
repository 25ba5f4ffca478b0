"""The keyword matcher's first-word filter: a word is tried only against patterns that can start with it."""

from transforms.text import KeywordMatcher, _first_word


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
    assert m._candidates("danses") == (0,)
    assert m._candidates("arsenal") == ()
    text = "dans la danse, aide alimentaire aux handicapes ; arsenal, ars. commission permanente, accueil permanent"
    assert [p for _, _, p in m.finditer(text)] == ["d", "a", "h", "s", "p"]
