"""Text helpers shared by the extractors: accent/case folding and sentence splitting."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_PUNCT_MAP = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
    "\u2013": "-", "\u2014": "-", "\u2011": "-", "\u2010": "-",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    "\u0153": "oe", "\u0152": "oe", "\u00e6": "ae", "\u00c6": "ae",
})
_TAGS = re.compile(r"<[^>]{0,500}>")
_ENTITIES = {"&amp;": "&", "&nbsp;": " ", "&#39;": "'", "&quot;": '"', "&lt;": "<", "&gt;": ">",
             "&rsquo;": "'", "&eacute;": "é", "&egrave;": "è", "&agrave;": "à"}
_ENTITY = re.compile("|".join(map(re.escape, _ENTITIES)))


def fold(text: str) -> str:
    """Lower-case, strip accents, unify apostrophes/dashes, collapse whitespace."""
    if not text:
        return ""
    text = text.translate(_PUNCT_MAP)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _SPACES.sub(" ", text).strip().lower()


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


# sentence / list-item boundaries: line breaks, bullets, ". " before a capital or digit, "; "
_SPLIT = re.compile(r"\n+|\s*[•·▪►]\s*|(?<=[.!?])\s+(?=[A-ZÀ-ÖØ-Þ0-9«\"(])|\s*;\s*|\|\|\|")
_SPLIT_SENTENCES = re.compile(r"\n+|\s*[•·▪►]\s*|(?<=[.!?])\s+(?=[A-ZÀ-ÖØ-Þ«\"(])|\|\|\|")


def segments(text: str, *, semicolons: bool = True) -> list[str]:
    """Split text into sentences/list items, keeping the original wording (used as evidence).

    With ``semicolons=False`` a "; " does not end a segment (date lists such as "1er mars ; 1er juin").
    """
    if not text:
        return []
    splitter = _SPLIT if semicolons else _SPLIT_SENTENCES
    return [s.strip(" \t-–*:") for s in splitter.split(text) if s and s.strip(" \t-–*:")]


def one_line(text: str, limit: int = 300) -> str:
    """Evidence string: whitespace collapsed, truncated to ``limit`` characters."""
    s = _SPACES.sub(" ", text or "").strip()
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"
