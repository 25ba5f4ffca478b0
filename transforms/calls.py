"""Is this a call for projects (AAP/AMI) rather than a permanent aid scheme?

Whole words only: "appel à projets", "appel à candidatures", "appel à propositions", "appel à
manifestation(s) d'intérêt", "appel à initiatives", and the acronyms AAP, AMI, AMII, AAC written in capitals
(a lower-case "ami" inside "famille" or "dynamique" never counts). Mentions that deny or refer to another
call ("hors appel à projets", "lauréats de l'AAP …") are not enough on their own.
"""

from __future__ import annotations

import re
from typing import Final

from transforms.text import fold

# each branch starts with its literal letter and then checks the word boundary before it (``a(?<!\wa)`` is
# ``\ba``), so that the regex engine jumps from one "a" or "c" to the next instead of trying every position
_PHRASE: Final = re.compile(
    r"a(?<!\wa)(?:ppels? (?:a|aux) (?:projets?|candidatures?|propositions?|manifestations? d'interet|initiatives?|"
    r"idees|communs|dossiers?|contributions?)\b|ppels? (?:a|aux) manifestation\b|ppel a projets?\b|ppels? ouverts?\b)"
    r"|c(?<!\wc)(?:all for (?:proposals|projects|applications)\b|alls? for proposals\b)"
)
#: "AAP", "AMI", "AMII", "AAC" as words (the "A" first, then the boundary before it, as above)
_ACRONYM: Final = re.compile(r"A(?<![\w-]A)(?:AP|MI|MII|AC)(?![\w-])")
_NEGATED: Final = re.compile(
    r"(?:hors|en dehors d'un|sans|n'est pas un|ne constitue pas un|pas d')\s*(?:l'|un |d')?\s*$|"
    r"(?:laureats?|retenus?|selectionnes?) (?:de|du|dans le cadre de) (?:l'|la |le )?\s*$"
)


def _phrases(folded: str) -> int:
    if "appel" not in folded and "call" not in folded:
        return 0
    n = 0
    for m in _PHRASE.finditer(folded):
        if not _NEGATED.search(folded, max(0, m.start() - 40), m.start()):
            n += 1
    return n


def _acronyms(text: str) -> int:
    if "AA" not in text and "AM" not in text:
        return 0
    return len(_ACRONYM.findall(text))


def _mentions(text: str) -> int:
    return _phrases(fold(text)) + _acronyms(text)


def is_call_for_projects(title: str | None, summary: str | None = None, description: str | None = None,
                         label: object = None, deadline_text: str | None = None) -> bool:
    """True for an AAP/AMI. A portal's own boolean flag wins; otherwise title and summary decide, and the
    description counts when it calls itself a call ("Le présent appel à projets…") or names one in its
    first lines; so does the deadline wording ("Appel à candidatures : période 1 du …")."""
    if isinstance(label, bool):
        return label
    if _mentions(title or "") or _mentions(summary or "") or _mentions(deadline_text or ""):
        return True
    desc = description or ""
    if not desc:
        return False
    if _acronyms(desc[:600]):
        return True
    folded = fold(desc)
    if "appel" not in folded and "call" not in folded:
        return False
    if _phrases(folded[:600]):
        return True
    return bool(_SELF_REFERENCE.search(folded)) and bool(_PHRASE.search(folded))


#: "le présent appel", "cet AMI", "ce nouvel appel"… (each branch's first letter, then the boundary before it)
_SELF_REFERENCE: Final = re.compile(r"(?:l(?<!\wl)e (?:present|nouvel|prochain)|c(?<!\wc)(?:et|e nouvel)) "
                                    r"(?:appel|ami\b)")
