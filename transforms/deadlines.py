"""Submission deadlines from French (and EU portal) wording.

``extract_deadlines`` reads the verbatim deadline text (or a description) and the structured dates a portal
gives, and returns every submission deadline, the opening date, the kind of calendar and a status computed
against an injected "as of" date. Dates that are not submission deadlines (commission permanente,
pre-contact, publication, project start…) are recognised by the cue words before them and ignored.

How a date gets its role: each sentence is scanned for cue words (``date limite``, ``jusqu'au``,
``ouverture``, ``commission permanente``…). A date takes the role of the last cue before it in its
sentence; a weak deadline cue (``jusqu'au``, ``avant le``) after a distractor cue (``projets réalisés …
jusqu'au``) stays a distractor. With no cue at all, a date counts as a deadline only when the text is the
source's own deadline field (``strict=False``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from pipeline import schema
from transforms.text import DIGIT_RUN, KeywordMatcher, contains_any, fold, one_line, segments

PARIS: Final = ZoneInfo("Europe/Paris")

_MONTHS: Final = {
    "janvier": 1, "janv": 1, "jan": 1, "january": 1,
    "fevrier": 2, "fevr": 2, "fev": 2, "february": 2, "feb": 2,
    "mars": 3, "march": 3, "mar": 3,
    "avril": 4, "avr": 4, "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juin": 6, "june": 6, "jun": 6,
    "juillet": 7, "juil": 7, "july": 7, "jul": 7,
    "aout": 8, "august": 8, "aug": 8,
    "septembre": 9, "sept": 9, "sep": 9, "september": 9,
    "octobre": 10, "oct": 10, "october": 10,
    "novembre": 11, "nov": 11, "november": 11,
    "decembre": 12, "dec": 12, "december": 12,
}
_WEEKDAYS: Final = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
                    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
                    "sunday": 6}
_MONTH_RE: Final = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WD_RE: Final = "|".join(_WEEKDAYS)

# a date in words: "mercredi 11 fevrier", "1er septembre 2025", "5 decembre 2016", "27 fevr. 2024"
_WORD_DATE_CORE: Final = (
    rf"(?P<d>\d{{1,2}}|premier)(?:\s?er|\s?eme|e)?\s*(?P<m>{_MONTH_RE})\b\.?"
    r"(?:\s*,?\s*(?P<y>(?:19|20)\d{2})\b)?(?P<prochain>\s+prochain)?"
)
_WORD_DATE: Final = rf"(?:(?P<wd>{_WD_RE})\s+)?{_WORD_DATE_CORE}"
# numeric: 16.09.2020, 08/11/2025, 16-09-20
_NUM_DATE: Final = r"(?<![\d/.])(?P<nd>\d{1,2})\s?[./-]\s?(?P<nm>\d{1,2})\s?[./-]\s?(?P<ny>(?:19|20)\d{2}|\d{2})(?![\d/])"
# ISO: 2025-01-17 (optionally a time, handled by the structured parser when given as a value)
_ISO_DATE: Final = r"(?<!\d)(?P<iy>(?:19|20)\d{2})-(?P<im>\d{2})-(?P<id>\d{2})(?!\d)"
# "du 4 au 17 janvier 2025": a bare day that borrows the month/year of the date after it
_BARE_DAY: Final = r"(?<=\bdu )(?P<bd>\d{1,2}|1er)(?=\s+(?:au|-)\s+(?:le\s+)?\d)"
_DATE: Final = re.compile(f"{_WORD_DATE}|{_NUM_DATE}|{_ISO_DATE}|{_BARE_DAY}")
# the same, tried only where a date can start (a digit run or "premier"): much faster than a scan
_DATE_AT: Final = re.compile(f"{_WORD_DATE_CORE}|{_NUM_DATE}|{_ISO_DATE}|{_BARE_DAY}")
# (a character class first lets the regex engine skip to the candidates: same matches as "[0-9]+|premier")
_PREMIER_WORD: Final = re.compile(r"\bpremier\b")
_WD_BEFORE: Final = re.compile(rf"\b({_WD_RE})\s+$")


class _DateMatch:
    """A date found by ``_find_dates``: the regex match, widened to a weekday written before it."""

    __slots__ = ("m", "s", "wd")

    def __init__(self, m: re.Match[str], s: int, wd: str | None):
        self.m, self.s, self.wd = m, s, wd

    def start(self) -> int:
        return self.s

    def end(self) -> int:
        return self.m.end()

    def group(self, name: str) -> Any:
        return self.wd if name == "wd" else self.m.group(name)


def _date_starts(seg: str) -> list[tuple[int, int]]:
    """Where a date can start, in order, as (start, end): each run of digits (the regex engine skips to
    the next digit) and each "premier" (found with ``str.find``)."""
    spans = [c.span() for c in DIGIT_RUN.finditer(seg)]
    i = seg.find("premier")
    if i != -1:
        while i != -1:
            spans.append((i, i + 7))
            i = seg.find("premier", i + 7)
        spans.sort()
    return spans


def _find_dates(seg: str) -> list[_DateMatch]:
    out: list[_DateMatch] = []
    end = -1
    for pos, stop in _date_starts(seg):
        if pos < end:
            continue
        if seg[pos] == "p":  # "premier"
            if _PREMIER_WORD.match(seg, pos) is None:
                continue
        elif stop - pos > 2 and (stop - pos != 4 or seg[stop:stop + 1] != "-"):
            continue  # a day has 1 or 2 digits, a year starts an ISO date only before "-": "150", "2025"
        m = _DATE_AT.match(seg, pos)
        if not m:
            continue
        start, wd = pos, None
        if m.group("d"):
            w = _WD_BEFORE.search(seg, max(0, pos - 12), pos)
            if w:
                start, wd = w.start(), w.group(1)
        out.append(_DateMatch(m, start, wd))
        end = m.end()
    return out

_TIME: Final = re.compile(
    r"[^0-9]{0,25}?(?:(?P<h>\d{1,2})\s?(?:h|:)\s?(?P<mi>\d{2})?(?!\d)|(?P<midi>\bmidi\b)|(?P<minuit>\bminuit\b))"
)
_RANGE_JOIN: Final = re.compile(r"^\s*(?:\)|,)?\s*(?:au|-|et le|et|jusqu'au|a)\s*(?:le\s+)?$")
_RANGE_START: Final = re.compile(r"(?:\bdu|\bdepuis le|\bentre le|\ba partir du|\bouvert[e]? du|\bde)\s*$")

# cue words, in folded text; order inside an alternation matters (longer/more specific first)
_CUES: Final[dict[str, tuple[str, ...]]] = {
    "extension": (
        r"prolong\w*", r"report\w*", r"repouss\w*", r"decal\w*", r"nouvelle date", r"extended",
    ),
    "distractor": (
        r"commission\w* permanente", r"commission\w*", r"comite\w*", r"jury", r"selection\w*",
        r"pre-?contact", r"prise de contact", r"prendre contact", r"contact\w* prealable", r"contacter",
        r"pre-?depot", r"dossier complet au plus tard", r"intention", r"lettre d'intention",
        r"publi\w*", r"mise en ligne", r"mis en ligne", r"mise a jour", r"mis a jour", r"actualis\w*",
        r"demarr\w*", r"debut\w* des travaux", r"debut\w* du projet", r"debut\w* des projets",
        r"debut\w* de l'operation", r"debut\w* des actions", r"commencement", r"commencer", r"debuter",
        r"realis\w*", r"se derouler", r"deroul\w*", r"mise en oeuvre", r"mis en oeuvre", r"menee?s?",
        r"notifi\w*", r"resultats?", r"reponses? (?:aux|des) (?:porteurs|candidats)", r"laureats?",
        r"annonce\w*", r"webinaires?", r"webinars?", r"reunions?", r"atelier\w*", r"session d'information",
        r"information collective", r"versement\w*", r"achev\w*", r"execution", r"depenses?",
        r"instruction", r"deliberation\w*", r"vote\w*", r"decision\w*", r"conference\w*", r"forum",
        r"rencontre\w*", r"entree? en vigueur", r"evenement", r"inauguration", r"date de l'evenement",
        r"periode de programmation", r"programmation", r"audition\w*", r"soutenance\w*",
        r"premiere? version", r"creee? le", r"date de creation", r"manifestation", r"salon",
        r"ceremonie", r"remise des prix", r"remise des trophees", r"prix seront remis", r"travaux",
        r"engage(?:e|s|es)?", r"engagement", r"au lieu d[ue]", r"initialement", r"anciennement",
    ),
    "open": (
        r"date d'ouverture", r"ouverture\w*", r"ouvert\w* (?:le|a partir|des|du)", r"ouvrira", r"ouvre",
        r"lancement", r"lance le", r"date de debut", r"debut de depot", r"debut des (?:depots|candidatures|"
        r"inscriptions)", r"opening", r"start date",
    ),
    "open_weak": (r"partir du", r"compter du", r"des le"),
    "deadline_weak": (
        r"jusqu'au", r"jusqu'a", r"avant le", r"avant", r"au plus tard", r"ici le", r"pour le",
    ),
    "deadline": (
        r"date\w* limites?", r"date\w*-limites?", r"limite", r"clotur\w*", r"clos\b", r"fermeture",
        r"fin de l'appel", r"fin des (?:candidatures|depots|inscriptions)", r"fin de depot", r"date de fin",
        r"se termine", r"prend fin", r"se clot", r"echeance\w*", r"deadline\w*", r"cut-?off",
        r"closing", r"remise des (?:dossiers|candidatures|projets)", r"retour des dossiers", r"releve\w*",
    ),
    #: nouns and verbs of submission: a deadline when nothing stronger is said
    "deadline_noun": (
        r"depot\w*", r"deposer", r"deposes?", r"vagues?", r"sessions?", r"candidat\w*", r"dossiers?",
        r"envoy\w*", r"transmi\w*", r"adress\w*", r"parven\w*", r"inscri\w*", r"soumi\w*", r"submission",
        r"tour",
    ),
}
_CUES_MATCHER: Final = KeywordMatcher([(rf"{p}\b" if not p.endswith("*") else p, role)
                                        for role, pats in _CUES.items() for p in pats])
_ROLLING: Final = KeywordMatcher([(p, "rolling") for p in (
    r"au fil de l'eau", r"toute l'annee", r"tout au long de l'annee", r"en continu",
    r"(?<!commission )(?<!commissions )permanent\w*", r"epuisement (?:des |de l'|du |de la )\w+",
    r"dans la limite des (?:credits|fonds|enveloppes?)", r"sans date limite", r"pas de date limite",
    r"aucune date limite", r"date limite\s*:?\s*aucune", r"tout moment", r"importe quel moment",
    r"en permanence", r"guichet ouvert", r"depot libre", r"pas de date de cloture", r"sans date de cloture",
    r"ongoing", r"continuously open", r"rolling basis", r"de maniere continue", r"ouverte? toute",
)], anchors=("fil de l", "annee", "continu", "permanen", "epuisement", "limite des", "date limite", "moment",
             "guichet", "libre", "cloture", "ongoing", "rolling", "toute"))
_TEXT_CLOSED: Final = re.compile(r"\b(?:clotur(?:e|ee|es)|termine(?:e)?|ferme(?:e)?|expire(?:e)?|clos)\b")
_CLOSED_ANCHORS: Final = ("clotur", "termin", "ferme", "expir", "clos")
_FORTHCOMING_ANCHORS: Final = ("venir", "prochainement", "bientot")
_TEXT_FORTHCOMING: Final = re.compile(r"\b(?:a venir|prochainement|bientot)\b")

#: a portal's status word → status (first matching word wins; "Open For Submission", "Clôturé", "À venir")
_STATUS_WORDS: Final = re.compile(r"\b(?:(?P<closed>clos\w*|clotur\w*|closed|ferme\w*|termine\w*|expire\w*|archiv\w*|"
                                  r"ended|past)|(?P<forthcoming>a venir|forthcoming|prochainement|bientot|upcoming)|"
                                  r"(?P<rolling>en continu|permanent\w*|continuously open)|"
                                  r"(?P<open>open\w*|ouvert\w*|en cours|actif|active))\b")


# The classes made for every record define their own ``__init__``, which is compiled: the one
# ``@dataclass`` writes is plain Python, run by the interpreter at each call (``init=False``).
@dataclass(init=False)
class DeadlineInfo:
    """Calendar of a call. Dates are ISO strings (Europe/Paris)."""

    kind: str
    deadlines: list[str]
    time: str | None
    opens_on: str | None
    next_deadline: str | None
    status: str
    flags: list[str]
    evidence: str | None

    def __init__(self, kind: str = "unknown", deadlines: list[str] | None = None, time: str | None = None,
                 opens_on: str | None = None, next_deadline: str | None = None, status: str = "unknown",
                 flags: list[str] | None = None, evidence: str | None = None) -> None:
        self.kind = kind
        self.deadlines = [] if deadlines is None else deadlines
        self.time = time
        self.opens_on = opens_on
        self.next_deadline = next_deadline
        self.status = status
        self.flags = [] if flags is None else flags
        self.evidence = evidence


@dataclass(init=False)
class _Found:
    day: date
    role: str
    pos: int
    seg: int
    time: str | None

    def __init__(self, day: date, role: str, pos: int, seg: int, time: str | None = None) -> None:
        self.day = day
        self.role = role
        self.pos = pos
        self.seg = seg
        self.time = time


# --- structured values ----------------------------------------------------------------------------

#: the two written forms a structured date may take besides an ISO timestamp
_ISO_DAY: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC_DAY: Final = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def parse_structured_date(value: object) -> date | None:
    """A portal's structured date: ISO date, ISO datetime (offset → Europe/Paris), dd/mm/YYYY, or a date.

    Returns None for an empty value; raises ValueError for a value that is not a date.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _paris_date(value)
    if isinstance(value, date):
        return value
    s = str(value).strip()
    if not s:
        return None
    if len(s) > 10 and ("T" in s or " " in s[8:12]):
        try:
            return _paris_date(datetime.fromisoformat(s.replace("Z", "+00:00")))
        except ValueError:
            pass
    m = _ISO_DAY.fullmatch(s[:10]) if len(s) >= 8 else None
    if m and len(s) <= 10:
        return date(int(m[1]), int(m[2]), int(m[3]))
    m = _NUMERIC_DAY.fullmatch(s)
    if m:
        return date(int(m[3]), int(m[2]), int(m[1]))
    raise ValueError(f"not a date: {s[:40]!r}")


def _paris_date(dt: datetime) -> date:
    if dt.tzinfo is None:
        return dt.date()
    return dt.astimezone(PARIS).date()


def _structured_list(values: object, flags: list[str]) -> list[date]:
    if values is None:
        return []
    if isinstance(values, (str, date)):
        values = [values]
    out: list[date] = []
    for v in values if isinstance(values, (list, tuple)) else [values]:
        try:
            d = parse_structured_date(v)
        except (ValueError, TypeError, OverflowError):
            flags.append(f"bad_structured_date:{str(v)[:40]}")
            continue
        if d is not None and d not in out:
            out.append(d)
    return sorted(out)


# --- text -----------------------------------------------------------------------------------------

#: flag of a calendar that read a date written without its year (the year comes from the run date)
YEAR_INFERRED: Final = "year_inferred"


def _infer_year(day: int, month: int, weekday: int | None, as_of: date, prochain: bool,
                flags: list[str]) -> date | None:
    if YEAR_INFERRED not in flags:
        flags.append(YEAR_INFERRED)
    candidates = []
    for y in (as_of.year - 1, as_of.year, as_of.year + 1):
        try:
            candidates.append(date(y, month, day))
        except ValueError:
            continue
    if not candidates:
        return None
    if weekday is not None:
        matching = [c for c in candidates if c.weekday() == weekday]
        if prochain:
            matching = [c for c in matching if c >= as_of]
        if matching:
            return min(matching, key=lambda c: (abs((c - as_of).days), c < as_of))
        flags.append(f"weekday_mismatch:{day:02d}/{month:02d}")
    if prochain:
        future = [c for c in candidates if c >= as_of]
        if future:
            return future[0]
    # the first occurrence not more than ~2 months in the past of the page date
    for c in candidates:
        if c >= as_of - timedelta(days=60):
            return c
    return candidates[-1]


def _time_after(folded: str, end: int) -> str | None:
    m = _TIME.match(folded, end)
    if not m:
        return None
    gap = folded[end:m.start("h") if m.group("h") else m.end()]
    if _DATE.search(gap):
        return None
    if m.group("midi"):
        return "12:00"
    if m.group("minuit"):
        return "23:59"
    h = int(m.group("h"))
    mi = int(m.group("mi") or 0)
    if h > 24 or mi > 59:
        return None
    if h == 24:
        return "23:59"
    return f"{h:02d}:{mi:02d}"


_STRONG: Final = ("deadline", "open", "distractor", "extension")


def _role_for(cues: list[tuple[int, int, str]], start: int, end: int, default: str) -> str:
    """Role of the date at ``start``: walk back over the cues of its sentence.

    A weak cue right before the date (``jusqu'au``, ``à partir du``) gives its own role unless the nearest
    strong cue before it is a distractor or an extension ("projets réalisés … jusqu'au"); a submission noun
    between that distractor and the weak cue ("commission permanente : les dossiers doivent être déposés
    avant le") brings it back to a deadline. Without a weak cue the nearest strong cue decides; with only
    submission nouns the date is a deadline.
    """
    weak = None
    noun = False
    for _, c_end, role in reversed(cues):
        if c_end > start:
            continue
        if role in ("deadline_weak", "open_weak"):
            if weak is None and not noun:
                weak = role
            continue
        if role == "deadline_noun":
            noun = True
            continue
        if weak is not None:
            if role == "extension" or (role == "distractor" and not noun):
                return role
            return "deadline" if weak == "deadline_weak" else "open"
        return role
    if weak is not None:
        return "deadline" if weak == "deadline_weak" else "open"
    if noun:
        return "deadline"
    for c_start, _, role in cues:
        if c_start >= end and c_start - end <= 40:
            if role in _STRONG:
                return role
            return "open" if role == "open_weak" else "deadline"
    return default


def _parse_segment(seg: str, si: int, as_of: date, strict: bool, flags: list[str]) -> list[_Found]:
    matches = _find_dates(seg)
    if not matches:
        return []
    cues = cast(list[tuple[int, int, str]], _CUES_MATCHER.finditer(seg))  # the payloads are roles
    # resolve raw parts: (day, month, year|None, weekday|None, prochain)
    parts: list[tuple[int | None, int | None, int | None, int | None, bool]] = []
    for m in matches:
        if m.group("d"):
            day_n = 1 if m.group("d") == "premier" else int(m.group("d"))
            parts.append((day_n, _MONTHS[m.group("m")], int(m.group("y")) if m.group("y") else None,
                          _WEEKDAYS.get(m.group("wd") or ""), bool(m.group("prochain"))))
        elif m.group("nd"):
            year = int(m.group("ny"))
            parts.append((int(m.group("nd")), int(m.group("nm")), year + 2000 if year < 100 else year, None,
                          False))
        elif m.group("iy"):
            parts.append((int(m.group("id")), int(m.group("im")), int(m.group("iy")), None, False))
        else:
            parts.append((1 if m.group("bd") == "1er" else int(m.group("bd")), None, None, None, False))
    # borrow month/year from the next complete date (ranges and lists: "du 4 au 17 janvier 2025")
    for i in range(len(parts) - 2, -1, -1):
        d, mo, y, wd, pr = parts[i]
        nd, nmo, ny, _, _ = parts[i + 1]
        if mo is None and nmo is not None:
            mo = nmo
        if y is None and ny is not None and mo is not None and nmo is not None \
                and matches[i + 1].start() - matches[i].end() <= 60:
            y = ny - 1 if mo > nmo else ny
        parts[i] = (d, mo, y, wd, pr)
    found: list[_Found] = []
    for i, (m, (d, mo, y, wd, pr)) in enumerate(zip(matches, parts, strict=True)):
        if mo is None or d is None:
            continue
        if y is None:
            day = _infer_year(d, mo, wd, as_of, pr, flags)
            if day is None:
                continue
        else:
            try:
                day = date(y, mo, d)
            except ValueError:
                continue
            if wd is not None and day.weekday() != wd:
                flags.append(f"weekday_mismatch:{day.isoformat()}")
        role = _role_for(cues, m.start(), m.end(), "none" if strict else "deadline")
        # a range "du X au Y" in a submission context: X opens, Y closes
        join = _RANGE_JOIN.match(seg[m.end():matches[i + 1].start()]) if i + 1 < len(matches) else None
        if join and role != "distractor" and (
                _RANGE_START.search(seg[max(0, m.start() - 14):m.start()])
                or join.group(0).strip() in ("-", "au", "jusqu'au")):
            role = "open"
        elif i > 0 and found and found[-1].pos == matches[i - 1].start() and found[-1].role == "open" \
                and _RANGE_JOIN.match(seg[matches[i - 1].end():m.start()]):
            role = "deadline" if role in ("open", "none") else role
        found.append(_Found(day, role, m.start(), si, _time_after(seg, m.end())))
    return found


_DIGIT: Final = re.compile(r"[0-9]")
_PREMIER: Final = re.compile(r"[Pp]remier|PREMIER")


def _maybe_date(s: str) -> bool:
    """Whether a sentence can hold a date: a digit, or "premier" (Premier, premier, PREMIER)."""
    return _DIGIT.search(s) is not None or (
        ("remier" in s or "PREMIER" in s) and _PREMIER.search(s) is not None)


#: words one of which a heading that announces dates holds (in lower case, accented or not)
_HEADING_WORDS: Final = ("limite", "clôtur", "clotur", "dépôt", "depôt", "dépot", "depot", "date", "échéance",
                         "écheance", "echéance", "echeance", "ouverture", "candidat", "calendrier", "deadline", "vague",
                         "session")


def _heading_role(original: str) -> str | None:
    """Role a short heading line without a date gives to the dates of the next line."""
    if len(original) > 100 or not contains_any(original.lower(), _HEADING_WORDS):
        return None
    cues = [c[2] for c in _CUES_MATCHER.finditer(fold(original))]
    if not cues:
        return None
    last = cues[-1]
    return last if last in _STRONG else "open" if last == "open_weak" else "deadline"


def _scan(segs: list[str], as_of: date, strict: bool, flags: list[str]) -> list[_Found]:
    # only sentences that can hold a date are parsed (most of a description has none)
    maybe = [_maybe_date(s) for s in segs]
    if not any(maybe):
        return []
    out: list[_Found] = []
    prev_found = True
    for si, original in enumerate(segs):
        if not maybe[si]:
            prev_found = False
            continue
        carry = _heading_role(segs[si - 1]) if si > 0 and not prev_found else None
        found = _parse_segment(fold(original), si, as_of, strict and carry is None, flags)
        if carry is not None:
            for f in found:
                if f.role in ("none", "deadline"):
                    f.role = carry
        prev_found = bool(found)
        out.extend(found)
    return out


def extract_deadlines(text: str | None, *, as_of: date, structured_deadlines: object = None,
                      structured_opens: object = None, status_label: str | None = None,
                      strict: bool = False) -> DeadlineInfo:
    """Deadlines, opening date, kind and status of a call.

    ``text`` is the verbatim deadline wording; pass ``strict=True`` when it is a general description,
    so that only dates introduced by a deadline cue count. Structured values win over the text; when
    both give deadlines and they differ, the structured ones are kept and a ``text_disagrees:`` flag lists
    the text's dates.
    """
    flags: list[str] = []
    text = text or ""
    segs = segments(text, semicolons=False)
    found = _scan(segs, as_of, strict, flags)

    # extensions supersede the earlier deadlines they follow
    if any(f.role == "extension" for f in found):
        last_ext = max(i for i, f in enumerate(found) if f.role == "extension")
        ext_day = found[last_ext].day
        found = [f for i, f in enumerate(found)
                 if f.role == "extension" or f.role == "open" or i > last_ext or f.day > ext_day
                 or f.role not in ("deadline",)]
        flags.append("extended")
        for f in found:
            if f.role == "extension":
                f.role = "deadline"
    text_deadlines = sorted({f.day for f in found if f.role == "deadline"})
    text_opens = sorted({f.day for f in found if f.role == "open"})
    time = next((f.time for f in found if f.role == "deadline" and f.time), None)
    evidence_seg = next((f.seg for f in found if f.role == "deadline"), None)

    s_deadlines = _structured_list(structured_deadlines, flags)
    s_opens = _structured_list(structured_opens, flags)
    if s_deadlines:
        deadlines = s_deadlines
        if text_deadlines and text_deadlines != s_deadlines:
            flags.append("text_disagrees:" + ",".join(d.isoformat() for d in text_deadlines))
    else:
        deadlines = text_deadlines
    opens = s_opens[0] if s_opens else (text_opens[0] if text_opens else None)
    if s_opens and text_opens and text_opens[0] != s_opens[0]:
        flags.append("text_opens_disagrees:" + text_opens[0].isoformat())
    if opens and deadlines and opens > deadlines[-1]:
        flags.append("opens_after_deadline")
        opens = None

    # rolling wording only matters when no deadline is given (dates win over it)
    folded = "" if deadlines else fold(text)  # only read when no deadline is given
    rolling = not deadlines and _ROLLING.search(folded) is not None
    label = fold(status_label or "")
    label_match = _STATUS_WORDS.search(label) if label else None
    label_status = label_match.lastgroup if label_match else None
    if deadlines:
        kind = "single" if len(deadlines) == 1 else "multiple"
    elif rolling or label_status == "rolling":
        kind = "rolling"
    else:
        kind = "unknown"
    iso = [d.isoformat() for d in deadlines]
    opens_iso = opens.isoformat() if opens else None
    status = schema.compute_status(kind, iso, opens_iso, as_of)
    if status == "unknown":
        if label_status in ("open", "closed", "forthcoming"):
            status = label_status
        elif contains_any(folded, _CLOSED_ANCHORS) and _TEXT_CLOSED.search(folded):
            status = "closed"
        elif contains_any(folded, _FORTHCOMING_ANCHORS) and _TEXT_FORTHCOMING.search(folded):
            status = "forthcoming"
    elif label_status in ("open", "closed", "forthcoming") and deadlines:
        agrees = (label_status == "closed") == (status == "closed")
        if not agrees:
            flags.append(f"status_label_disagrees:{status_label}")
    next_deadline = next((d for d in iso if d >= as_of.isoformat()), None)
    if evidence_seg is not None:
        evidence = one_line(segs[evidence_seg])
    elif rolling:
        evidence = one_line(text)
    else:
        evidence = None
    return DeadlineInfo(kind=kind, deadlines=iso, time=time if deadlines else None, opens_on=opens_iso,
                        next_deadline=next_deadline, status=status, flags=flags, evidence=evidence)


def depends_on_run_date(flags: list[str], status: str, deadlines: list[str], kind: str) -> bool:
    """Whether a call derived on another day could differ in more than what the warehouse recomputes
    every day for a call seen unchanged (its status and next deadline, from its dates): a date written
    without its year (its year comes from the run date), or a call "forthcoming" only because its opening
    date is ahead, with no deadline and not rolling (once open, its status comes from the words, not the
    dates). Other calls can be skipped by a later harvest when their raw item is unchanged."""
    return YEAR_INFERRED in flags or (status == "forthcoming" and not deadlines and kind != "rolling")
