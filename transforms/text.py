"""Text helpers shared by the extractors: accent/case folding and sentence splitting."""

from __future__ import annotations

import codecs
import re
import unicodedata
from functools import lru_cache
from typing import Final

#: characters that accent stripping would lose or mangle, replaced first (€ is kept as the word "eur")
_REPLACEMENTS: Final = (
    ("\u2019", "'"), ("\u2018", "'"), ("\u02bc", "'"), ("`", "'"), ("\u00b4", "'"),
    ("\u2013", "-"), ("\u2014", "-"), ("\u2011", "-"), ("\u2010", "-"),
    ("\u0153", "oe"), ("\u0152", "OE"), ("\u00e6", "ae"), ("\u00c6", "AE"),
    ("\u00ab", '"'), ("\u00bb", '"'), ("\u201c", '"'), ("\u201d", '"'), ("\u2026", "..."),
    ("\u20ac", " eur "), ("\u00a0", " "), ("\u202f", " "), ("\u2009", " "),
)
_TAGS: Final = re.compile(r"<[^>]{0,500}>")
_ENTITIES: Final = {"&amp;": "&", "&nbsp;": " ", "&#39;": "'", "&quot;": '"', "&lt;": "<", "&gt;": ">",
                    "&rsquo;": "'", "&eacute;": "é", "&egrave;": "è", "&agrave;": "à"}
_ENTITY: Final = re.compile("|".join(map(re.escape, _ENTITIES)))


_REPLACE: Final = dict(_REPLACEMENTS)


def _fold_char(c: str) -> str:
    """What ``fold`` makes of one character before lower-casing: its replacement, or its NFKD form kept
    to ASCII (both act on each character alone: NFKD only reorders the combining marks it then drops)."""
    return _REPLACE.get(c) or unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode("ascii")


def _fold_unencodable(exc: UnicodeError) -> tuple[str, int]:
    """The ``latin-1`` encoding error handler of ``fold``: characters beyond Latin-1 ("œ", "…", "“"; the
    most frequent ones are replaced before encoding) are folded one by one, in the few places they occur."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return "".join(map(_fold_char, exc.object[exc.start:exc.end])), exc.end


codecs.register_error("aap.fold", _fold_unencodable)


#: the characters ``str.split()`` separates ASCII text at
_ASCII_SPACES: Final = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _latin1_tables() -> tuple[bytes, bytes, tuple[tuple[int, bytes, bytes], ...]]:
    """``_fold_char`` of each Latin-1 character, lower-cased, as a ``bytes.translate`` table (whitespace
    becomes a space), the bytes it deletes, and the few that become two or more letters ("æ" → "ae",
    "½" → "12"): code, byte and what it becomes (lower-cased by the table afterwards)."""
    table = bytearray(range(256))
    delete = bytearray()
    several = []
    for code in range(256):
        out = _fold_char(chr(code)).encode("ascii") if code >= 128 else bytes([code])
        if len(out) == 1:
            table[code] = 32 if out[0] in _ASCII_SPACES else out.lower()[0]
        elif not out:
            delete.append(code)
        else:
            several.append((code, bytes([code]), out))
    return bytes(table), bytes(delete), tuple(several)


#: the characters beyond Latin-1 that French texts use most (the apostrophe, the dash, the euro sign), with
#: what ``_fold_char`` makes of each
_FREQUENT: Final = tuple((c, _REPLACE[c]) for c in ("\u2019", "\u2013", "\u20ac"))
_LATIN1: Final = _latin1_tables()
_LATIN1_TABLE: Final = _LATIN1[0]
_LATIN1_DELETE: Final = _LATIN1[1]
_LATIN1_SEVERAL: Final = _LATIN1[2]


@lru_cache(maxsize=1024)
def fold(text: str) -> str:
    """Lower-case ASCII: accents stripped, apostrophes/dashes unified, "€" spelled "eur", whitespace
    collapsed. Cached: one record's texts are folded by several extractors, which run one after the other
    over a batch of items (``pipeline.run.TRANSFORM_BATCH``, 256): the cache holds about four texts per
    item of a batch, as many as one item's extractors share (10 000 bench items: 40 000 hits of 88 000
    calls, as many as when each item went through every extractor before the next item; 512 gave 31 500).

    A text with accents is encoded to Latin-1 once: the characters beyond it go through the encoder's
    error handler, the rest through a byte table; both give what the replacements then NFKD would. The
    same table lower-cases every text and turns its whitespace into spaces."""
    if not text:
        return ""
    if text.isascii():
        raw = text.encode("ascii")
    else:
        if "`" in text:  # an ASCII character replaced too (only in a text that is not ASCII)
            text = text.replace("`", "'")
        for frequent, replacement in _FREQUENT:  # at C speed, not one error handler call per place
            if frequent in text:
                text = text.replace(frequent, replacement)
        raw = text.encode("latin-1", "aap.fold")
        for code, char, out in _LATIN1_SEVERAL:
            if code in raw:  # an int: a bytes operand would first be tried as an int, at the cost of an error
                raw = raw.replace(char, out)
    # one pass folds, lower-cases and turns whitespace into spaces (the only whitespace left); runs of
    # spaces are then halved until none is left (no list of words is built), and the ends stripped
    raw = raw.translate(_LATIN1_TABLE, _LATIN1_DELETE)
    while b"  " in raw:
        raw = raw.replace(b"  ", b" ")
    if raw.startswith(b" ") or raw.endswith(b" "):
        raw = raw.strip(b" ")
    return raw.decode("ascii")


def contains_any(text: str, words: tuple[str, ...]) -> bool:
    """Whether one of ``words`` is in ``text`` (compiled, each test is a direct substring search, without
    the method object that ``any(map(text.__contains__, words))`` calls through)."""
    for word in words:
        if word in text:
            return True
    return False


@lru_cache(maxsize=4096)
def fold_label(label: str) -> str:
    """Fold a short label for dictionary lookups (cached: labels repeat a lot)."""
    return fold(label)


def clean(text: object) -> str:
    """Plain text from a possibly HTML-ish value: tags removed, common entities decoded, spaces collapsed."""
    if text is None:
        return ""
    if isinstance(text, (list, tuple)):
        text = "\n".join(clean(t) for t in text)
    s = str(text)
    if "<" in s:
        s = _TAGS.sub("\n", s)
    if "&" in s:
        s = _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], s)
    return s.replace("\r", "\n").strip()


# sentence / list-item boundaries: line breaks, bullets, "|||", ". " before a capital (or a digit), "; ".
# The whitespace after the punctuation, the bullets and the semicolons are cut out; the spaces around
# bullets and semicolons go with the parts, which are stripped. Each punctuation mark has its own
# pattern starting with that literal character, which the regex engine finds much faster than a
# lookbehind tried at every position.
_NEXT: Final = "A-ZÀ-ÖØ-Þ«\"("
_ENDS: Final = {semicolons: tuple((c, re.compile(re.escape(c) + rf"(\s+)(?=[{_NEXT}{'0-9' if semicolons else ''}])"))
                                  for c in ".!?")
                for semicolons in (True, False)}
_MARKS: Final = {True: ("•", "·", "▪", "►", "|||", ";"), False: ("•", "·", "▪", "►", "|||")}
_STRIP: Final = " \t-–*:"


def _split_line(line: str, semicolons: bool) -> list[str] | tuple[str]:
    """One line cut at its sentence ends, bullets, ``|||`` and (with ``semicolons``) semicolons."""
    spans: list[tuple[int, int]] = []
    for c, rx in _ENDS[semicolons]:
        if c in line:
            spans.extend(m.span(1) for m in rx.finditer(line))
    for mark in _MARKS[semicolons]:
        i = line.find(mark)
        while i != -1:
            spans.append((i, i + len(mark)))
            i = line.find(mark, i + len(mark))
    if not spans:
        return (line,)
    spans.sort()
    parts = []
    pos = 0
    for start, end in spans:
        parts.append(line[pos:start])
        pos = end
    parts.append(line[pos:])
    return parts


def segments(text: str, *, semicolons: bool = True) -> list[str]:
    """Split text into sentences/list items, keeping the original wording (used as evidence).

    With ``semicolons=False`` a "; " does not end a segment (date lists such as "1er mars ; 1er juin"),
    nor does a sentence end before a digit.
    """
    if not text:
        return []
    out: list[str] = []
    for line in text.splitlines():
        for part in _split_line(line, semicolons):
            part = part.strip(_STRIP)
            if part:
                out.append(part)
    return out


def one_line(text: str, limit: int = 300) -> str:
    """Evidence string: whitespace collapsed, truncated to ``limit`` characters."""
    s = " ".join((text or "").split())
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


def split_alternatives(pattern: str) -> list[str]:
    """Top-level ``|`` alternatives of a regex (parentheses and character classes respected)."""
    parts: list[str] = []
    depth = 0
    in_class = False
    start = 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


DIGIT_RUN: Final = re.compile(r"[0-9][0-9]*")  # (a class first: the engine skips to it; "[0-9]+" does not)


_WORD: Final = re.compile(r"[a-z0-9&]+")
_WORD_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789&")
_NON_WORD_TO_SPACE: Final = bytes(c if chr(c) in _WORD_CHARS else 32 for c in range(256))


@lru_cache(maxsize=256)
def _words(text: str) -> list[str]:
    """The words of a folded text, in order, repeats kept (cached: several matchers read the same text).
    A list, not a set: the matchers only test them against their own sets, which take any iterable."""
    if text.isascii():
        return text.encode().translate(_NON_WORD_TO_SPACE).decode().split()
    return _WORD.findall(text)


_LITERAL: Final = re.compile(r"[a-z0-9&]+")
_LEADING: Final = re.compile(r"^(?:\\b|\(\?<[!=][^()]*\))+")


def _closing(pattern: str, open_at: int) -> int:
    depth = 0
    i = open_at
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced pattern {pattern!r}")


def _keys(alternative: str) -> list[str]:
    """The first letters (2 to 4) that the matches of an alternative can start with. A leading group of
    alternatives ``(?:a|b)rest`` gives one key per branch."""
    alt = _LEADING.sub("", alternative)
    if alt.startswith("(?:"):
        close = _closing(alt, 0)
        if alt[close + 1:close + 2] in ("?", "*"):
            raise ValueError(f"keyword pattern {alternative!r} must not start with an optional group")
        rest = alt[close + 1:]
        return [k for branch in split_alternatives(alt[3:close]) for k in _keys(branch + rest)]
    m = _LITERAL.match(alt)
    lit = m.group(0) if m else ""
    if alt[len(lit):len(lit) + 1] in ("?", "*"):
        lit = lit[:-1]
    if len(lit) < 2:
        raise ValueError(f"keyword pattern {alternative!r} must start with a literal of 2+ letters")
    return [lit[:4]]


_QUANTIFIER: Final = re.compile(r"[?*+]|\{\d*,?\d*\}")
_PLAIN: Final = re.compile(r"[^a-z0-9&.^$*+?{}\[\]\\|()]")


def _word_tokens(alt: str) -> tuple[str, int]:
    """The leading tokens of a regex that match only letters, digits and ``&`` (literals, ``\\b``, groups
    of such, with their quantifiers), and where they stop. Not ``\\w``: it also matches "_" and letters
    beyond ASCII, so its match may run past the word (the word alone could rule out a pattern that
    matches in the text)."""
    i = 0
    out = []
    while i < len(alt):
        if alt.startswith("(?:", i):
            close = _closing(alt, i)
            inner = alt[i + 3:close]
            if not all(_word_tokens(b)[1] == len(b) for b in split_alternatives(inner)):
                break
            j = close + 1
        elif alt.startswith("\\b", i):
            j = i + 2
        elif alt[i] in _WORD_CHARS:
            j = i + 1
        else:
            break
        q = _QUANTIFIER.match(alt, j)
        if q:
            j = q.end()
        out.append(alt[i:j])
        i = j
    return "".join(out), i


def _first_word(alternative: str) -> tuple[re.Pattern[str], bool]:
    """The regex of the first word of an alternative's matches, and whether it must match that whole word
    (it is followed by a plain non-word character, or ends with ``\\b``) or only its beginning."""
    alt = _LEADING.sub("", alternative)
    head, stop = _word_tokens(alt)
    plain_stop = stop < len(alt) and _PLAIN.match(alt, stop) is not None \
        and _QUANTIFIER.match(alt, stop + 1) is None
    whole = plain_stop or (stop == len(alt) and head.endswith("\\b"))
    return re.compile(head), whole


class KeywordMatcher:
    """Many keyword regexes matched in one pass over the words of a folded text.

    Python's ``re`` tries every branch of a large alternation at every character; here each word start
    is only tried against the patterns whose first letters it shares (an index on 2–4 letter prefixes),
    and a pattern whose match the word alone decides is not run at all (see :meth:`_outcome`). Each
    pattern's alternatives must start with a literal word of 2+ letters (a leading ``\\b`` or lookbehind
    is allowed). ``anchors``, when given, are substrings one of which every match contains. ``finditer``
    behaves like one alternation in pattern order: at a position the first pattern that matches wins and
    the scan resumes after it. ``find_all`` lets every pattern match independently (overlaps between
    different patterns allowed).
    """

    def __init__(self, patterns: list[tuple[str, object]], anchors: tuple[str, ...] = ()):
        #: substrings one of which every match contains: a text with none of them is skipped at C speed
        self.anchors = anchors
        self.payloads = [payload for _, payload in patterns]
        self._res = [re.compile(f"(?:{p})") for p, _ in patterns]
        index: dict[str, list[int]] = {}
        self._patterns = [p for p, _ in patterns]
        #: per pattern (built when first needed), for each alternative: the regex of the first word its
        #: matches begin with, whether that is a whole word, and the alternative compiled alone when it
        #: matches within one word
        self._alternatives: dict[int, list[tuple[re.Pattern[str], bool, re.Pattern[str] | None]]] = {}
        for i, (pattern, _) in enumerate(patterns):
            for alt in split_alternatives(pattern):
                for key in _keys(alt):
                    entries = index.setdefault(key, [])
                    if i not in entries:
                        entries.append(i)
        self._index = index
        self._prefixes = frozenset(key[:2] for key in index)
        #: words already looked up; those that start some pattern, with the patterns (set and dict)
        self._known: set[str] = set()
        self._hit_words: set[str] = set()
        self._hits: dict[str, tuple[tuple[int, int], ...]] = {}

    def _candidates(self, word: str) -> tuple[tuple[int, int], ...]:
        """The patterns a match may start with ``word`` at, each with what it gives there (see
        :meth:`_outcome`); patterns that cannot match there are left out."""
        if word[:2] not in self._prefixes:  # most new words (numbers, names) start no pattern
            return ()
        index = self._index
        entries: set[int] = set()
        for k in (word[:4], word[:3], word[:2]):
            entries.update(index.get(k, ()))
        if "&" in word:
            return tuple((i, -1) for i in sorted(entries))
        out = []
        for i in sorted(entries):
            length = self._outcome(i, word)
            if length:
                out.append((i, length))
        return tuple(out)

    def _outcome(self, i: int, word: str) -> int:
        """What pattern ``i`` matches where the whole word ``word`` starts: the length of its match when
        the word alone decides it (> 0), 0 when it cannot match there, -1 when the text after the word
        matters (the regex is run).

        The alternatives are tried in order, as the regex engine does. One made only of letters and
        digits (literals, ``\\b``, groups of such) matches within the word or not at all, so matching it
        against the word alone gives its match in the text. Another one that may start with the word
        needs the text."""
        alternatives = self._alternatives.get(i)
        if alternatives is None:
            alternatives = self._alternatives[i] = [
                (*_first_word(alt), re.compile(alt) if _word_tokens(alt)[1] == len(alt) else None)
                for alt in split_alternatives(self._patterns[i])]
        for first, whole, within in alternatives:
            if within is not None:
                m = within.match(word)
                if m is not None and m.end() > 0:
                    return m.end()
            elif (first.fullmatch(word) if whole else first.match(word)) is not None:
                return -1
        return 0

    def _positions(self, text: str) -> list[tuple[int, tuple[tuple[int, int], ...]]]:
        """(word start, candidate patterns) for the words of ``text`` some pattern may start at."""
        if self.anchors and not contains_any(text, self.anchors):
            return []
        words = _words(text)
        known = self._known
        if not known.issuperset(words):
            if len(known) > 200_000:  # bounded: a long run meets many distinct numbers and names
                known.clear()
                self._hits.clear()
                self._hit_words.clear()
            for word in words:
                if word not in known:
                    found = self._candidates(word)
                    known.add(word)
                    if found:
                        self._hits[word] = found
                        self._hit_words.add(word)
        hit_words = self._hit_words.intersection(words)
        if not hit_words:
            return []
        hits = self._hits
        # find the few candidate words with str.find rather than walking every word in Python
        out: list[tuple[int, tuple[tuple[int, int], ...]]] = []
        n = len(text)
        # the outcomes read from the word alone assume that the regex engine, too, sees no word character
        # on either side of it: true of folded text, but for "_" (and any letter beyond ASCII)
        plain = text.isascii()
        for word in hit_words:
            found = hits[word]
            size = len(word)
            i = text.find(word)
            while i != -1:
                j = i + size
                if (i == 0 or text[i - 1] not in _WORD_CHARS) and (j == n or text[j] not in _WORD_CHARS):
                    if plain and (i == 0 or text[i - 1] != "_") and (j == n or text[j] != "_"):
                        out.append((i, found))
                    else:
                        out.append((i, tuple((k, -1) for k, _ in found)))
                i = text.find(word, j)
        out.sort()
        return out

    def finditer(self, text: str) -> list[tuple[int, int, object]]:
        """Non-overlapping (start, end, payload), leftmost first, like one big alternation."""
        out: list[tuple[int, int, object]] = []
        end = -1
        for start, candidates in self._positions(text):
            if start < end:
                continue
            for i, length in candidates:
                stop = self._end(i, length, text, start)
                if stop > start:
                    out.append((start, stop, self.payloads[i]))
                    end = stop
                    break
        return out

    def _end(self, i: int, length: int, text: str, start: int) -> int:
        """Where pattern ``i``'s match at ``start`` ends, or -1: from ``length``, its outcome there (see
        :meth:`_outcome`), or from the regex when the outcome is -1."""
        if length > 0:
            return start + length
        m = self._res[i].match(text, start)
        return m.end() if m is not None else -1

    def search(self, text: str) -> tuple[int, int, object] | None:
        """The first match, or None."""
        for start, candidates in self._positions(text):
            for i, length in candidates:
                stop = self._end(i, length, text, start)
                if stop > start:
                    return start, stop, self.payloads[i]
        return None

    def find_all(self, text: str) -> dict[int, list[tuple[int, str]]]:
        """Every pattern's own non-overlapping matches: pattern index → [(start, matched text)]."""
        out: dict[int, list[tuple[int, str]]] = {}
        ends: dict[int, int] = {}
        for start, candidates in self._positions(text):
            for i, length in candidates:
                if ends.get(i, -1) > start:
                    continue
                stop = self._end(i, length, text, start)
                if stop > start:
                    ends[i] = stop
                    out.setdefault(i, []).append((start, text[start:stop]))
        return out
