"""Amounts in euros from French wording: ``Min. 3.000 € par projet``, ``jusqu'à 150 000 euros``,
``entre 5 000 et 20 000 €``, ``3 530 000 euros``, ``50 k€``, ``1,5 M€``.

Only sums with a currency (€, euros, EUR, k€, M€) count; percentages, years and head-counts are ignored.
A bound word before the amount decides its side (``minimum``/``à partir de`` → min; ``maximum``/
``jusqu'à``/``plafond``/``dans la limite de`` → max); a range gives both; a fixed sum (``forfait``) gives
both. A lone amount without a bound word is read as a ceiling (amount_max).
"""

from __future__ import annotations

import re
from typing import Final

from transforms.text import DIGIT_RUN, contains_any, fold

_NUMBER: Final = r"(?P<num>\d{1,3}(?:[ .](?:\d{3}))+(?:,\d+)?|\d+(?:[.,]\d+)?)"
_UNIT: Final = (r"\s*(?P<unit>(?:k|m|md|mds)\s?(?:€|eur\b|euros?\b)|€|eur\b|euros?\b|(?:millions?|milliards?|mille)"
                r"\s+(?:d'euros?|€|eur\b))")
_AMOUNT: Final = re.compile(rf"(?<![\d,.]){_NUMBER}{_UNIT}|\beur\s+{_NUMBER.replace('num', 'pre')}(?![\d])")
_MIN_CUE: Final = re.compile(r"(?:\bmin\b\.?|\bminimum\b|\bminimale?\b|\bplancher\b|\ba partir de\b|\bau moins\b|"
                             r"\bsuperieure? (?:ou egale? )?a\b|\bdes\b|\bpas inferieure? a\b)[^€\d]{0,20}$")
_MAX_CUE: Final = re.compile(r"(?:\bmax\b\.?|\bmaximum\b|\bmaximale?\b|\bplafon\w*|\bjusqu'a\b|\bdans la limite d\w*|"
                             r"\bn'excedant pas\b|\bne pouvant (?:pas )?exceder\b|\bau plus\b|\bpeut atteindre\b|"
                             r"\bpouvant aller jusqu'a\b|\binferieure? (?:ou egale? )?a\b|\blimitee? a\b|\bmaxi\b|"
                             r"\bup to\b)[^€\d]{0,20}$")
#: the longest match of ``_MIN_CUE`` ("superieure ou egale a" and 20 more characters): it ends the text
#: before an amount, so it starts at most this far from the amount
_MIN_CUE_REACH: Final = 41
_FIXED_CUE: Final = re.compile(r"(?:\bforfait\w*|\bd'un montant (?:fixe )?de\b|\bmontant unique\b|\bprime de\b)"
                               r"[^€\d]{0,20}$")
#: substrings every match of ``_FIXED_CUE`` contains (the regex only runs when one is there)
_FIXED_ANCHORS: Final = ("forfait", "montant", "prime de")
_RANGE_MID: Final = re.compile(r"^\s*(?:et|a|-|–)\s*$")
# amounts that describe something other than the aid: project cost floors, total budgets of programmes
#: an amount closer to one of these words than to an aid word describes the project, not the aid
_AID_WORD: Final = re.compile(r"\b(?:aide|subventions?|plafon\w*|prime|financement|dotation|bourse|soutien|"
                              r"contribution|grant|maximum|maximale?|jusqu'a|forfait\w*)\b")
_CONTEXT_ANCHORS: Final = ("cout", "depense", "investissement", "budget", "enveloppe", "chiffre d'affaires", "capital",
                           "consacre", "dotation globale", "fonds dote")
_CONTEXT_SKIP: Final = re.compile(r"(?P<kw>\bcouts?\b|\bdepenses?\b|\binvestissements? (?:minimum|de)|"
                                  r"\bbudget\b|enveloppe|chiffre d'affaires|capital|consacre|dotation globale|"
                                  r"fonds dote|total budget|overall budget)[^0-9]{0,30}$")
_MIN_AFTER: Final = re.compile(r"^\s*(?:minimum|min\b|au minimum|au moins|minimal)")
#: the unit-less lower bound written just before an amount: "entre 5 000 et", "de 5 000 à", "5 000 -"
_BARE_LOW: Final = re.compile(r"(?:\b(?:entre|de)\s+|(?<![\d.,]))(\d{1,3}(?:[ .]\d{3})+|\d+)\s*(?:\s(?:et|a)|-)\s*$")
#: how far before an amount ``_BARE_LOW`` is searched
_BARE_LOW_REACH: Final = 40
#: "eur", "euro", "euros" as a word, in lower-cased text (the literal first is found fast; the lookbehind
#: is the word boundary before it)
_EURO_WORD: Final = re.compile(r"eur(?<!\weur)(?:os?)?\b")
#: "3.000", "1.250.000": dots as thousands separators
_DOTTED_THOUSANDS: Final = re.compile(r"\d{1,3}(?:\.\d{3})+")
_MULT: Final = {"k": 1e3, "m": 1e6, "md": 1e9, "mds": 1e9}


def _value(num: str, unit: str) -> float | None:
    s = num.replace(" ", "")
    if "," in s:
        s = s.replace(".", "").replace(",", ".")
    elif _DOTTED_THOUSANDS.fullmatch(s):
        s = s.replace(".", "")
    try:
        v = float(s)
    except ValueError:
        return None
    u = unit.replace(" ", "")
    if u.startswith("million"):
        v *= 1e6
    elif u.startswith("milliard"):
        v *= 1e9
    elif u.startswith("mille"):
        v *= 1e3
    else:
        for prefix in ("mds", "md", "k", "m"):
            if u.startswith(prefix) and not u.startswith("€"):
                v *= _MULT[prefix]
                break
    return v


#: what an ``_AMOUNT`` can hold before its "eur" (every currency is spelled with it in folded text): the
#: number, whitespace and the letters of the multipliers ("k", "md", "millions d'")
_BEFORE_EURO_CHARS: Final = "0123456789.,kmdsilonare' \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _amount_matches(s: str) -> list[re.Match[str]]:
    """``_AMOUNT.finditer(s)`` on folded text, tried only where an amount can start. An amount holds an
    "eur" and, before it, only digits, whitespace and a few letters; "u" is none of them, so it reaches the
    first "eur" after its start. So for each "eur", in order: the runs of digits in the stretch of such
    characters (``_BEFORE_EURO_CHARS``) just before it, then the "eur" itself."""
    out: list[re.Match[str]] = []
    end = 0
    euro = s.find("eur")
    while euro != -1:
        stretch = len(s[:euro].rstrip(_BEFORE_EURO_CHARS))
        for run in DIGIT_RUN.finditer(s, stretch, euro):
            if run.start() >= end:
                m = _AMOUNT.match(s, run.start())
                if m:
                    out.append(m)
                    end = m.end()
        if euro >= end:
            m = _AMOUNT.match(s, euro)
            if m:
                out.append(m)
                end = m.end()
        euro = s.find("eur", euro + 3)
    return out


def _bare_low(s: str, start: int) -> re.Match[str] | None:
    """``_BARE_LOW`` in the characters before ``start``: its match ends there, so the text before the
    amount must end (spaces aside) with a number then "et", "a" or "-"; the regex, which tries every
    position of the window, only runs then."""
    window = max(0, start - _BARE_LOW_REACH)
    tail = s[window:start].rstrip()
    if tail.endswith("-"):
        tail = tail[:-1]
    elif tail.endswith("et"):
        tail = tail[:-2]
    elif tail.endswith("a"):
        tail = tail[:-1]
    else:
        return None
    if not tail.rstrip()[-1:].isdigit():
        return None
    return _BARE_LOW.search(s, window, start)


def parse_amounts(text: str | None) -> tuple[float | None, float | None]:
    """(amount_min, amount_max) in euros, or None where not stated."""
    if not text:
        return None, None
    if "€" not in text:
        lower = text.lower()
        if "eur" not in lower or _EURO_WORD.search(lower) is None:
            return None, None
    s = fold(text)
    found = []
    for m in _amount_matches(s):
        v = _value(m.group("num"), m.group("unit")) if m.group("num") else _value(m.group("pre"), "eur")
        if v is not None and v > 0:
            found.append((m.start(), m.end(), v))
    lo: float | None = None
    hi: float | None = None
    i = 0
    while i < len(found):
        start, end, v = found[i]
        before = s[max(0, start - 60):start]
        # "entre 5 000 et 20 000 €" / "de 5 000 à 20 000 €" written with a unit on both sides or only the last
        if i + 1 < len(found) and _RANGE_MID.match(s[end:found[i + 1][0]]):
            lo = v if lo is None else min(lo, v)
            hi = found[i + 1][2] if hi is None else max(hi, found[i + 1][2])
            i += 2
            continue
        skip = _CONTEXT_SKIP.search(before) if contains_any(before, _CONTEXT_ANCHORS) else None
        if skip and not _AID_WORD.search(before, skip.end("kw")):
            i += 1
            continue
        after = s[end:end + 20]
        fixed = contains_any(before, _FIXED_ANCHORS) and _FIXED_CUE.search(before) is not None
        if _MIN_CUE.search(before, max(0, len(before) - _MIN_CUE_REACH)) or _MIN_AFTER.match(after):
            lo = v if lo is None else min(lo, v)
        elif not fixed or _MAX_CUE.search(before):
            hi = v if hi is None else max(hi, v)
        if fixed:
            lo = v if lo is None else min(lo, v)
            hi = v if hi is None else max(hi, v)
        i += 1
    # "entre 5 000 et 20 000 €", "5 000 - 15 000 €": only the last number has a unit
    for start, _, v in found:
        low = _bare_low(s, start)
        if low:
            a = _value(low.group(1), "eur")
            if a is not None and 0 < a < v:
                lo = a if lo is None else min(lo, a)
                hi = v if hi is None else max(hi, v)
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return lo, hi
