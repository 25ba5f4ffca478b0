"""The weekly digest: which calls, in which sections, in which order — shared by every export format.

Sections (a call appears in each section it belongs to):

* ``new`` — calls whose cluster was first seen in the week;
* ``closing`` — calls with a deadline within 14 days of the end of the week (or of "now" for the
  current week);
* ``changed`` — calls whose calendar changed in the week (deadline moved, added or removed);
* ``withdrawn`` — calls that vanished from their portal and were marked ``withdrawn`` in the week (an editor
  who announced one must know), unless another source still lists the same call (cluster).

Withdrawn calls appear only in their own section; closed ones only when their deadline moved. Each section is grouped by theme
(the call's main theme, in ``schema.THEMES`` order), CCAS-eligible calls first, then by deadline.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import orjson

from pipeline import schema, settings
from warehouse.db import dict_rows

THEME_LABELS = {
    "solidarites-lien-social": "Solidarités / lien social",
    "urbanisme-logement-amenagement": "Urbanisme / logement / aménagement",
    "culture-patrimoine-sports": "Culture / patrimoine / sports",
    "nature-environnement-risques": "Nature / environnement / risques",
    "developpement-economique": "Développement économique",
    "mobilite-transports": "Mobilité / transports",
    "energies-dechets": "Énergies / déchets",
    "eau-milieux-aquatiques": "Eau / milieux aquatiques",
    "fonctions-support": "Fonctions support",
}
NO_THEME = "(sans thème)"
CCAS_LABELS = {
    "explicit": "CCAS/CIAS cités", "likely": "CCAS/CIAS probablement éligibles",
    "via_commune": "Via la commune ou l'EPCI", "not_eligible": "CCAS/CIAS non éligibles",
    "unknown": "Éligibilité non précisée",
}
#: CCAS-eligible first
_CCAS_RANK = {"explicit": 0, "likely": 1, "via_commune": 2, "unknown": 3, "not_eligible": 4}
SECTIONS = (
    ("new", "Nouveaux appels cette semaine"),
    ("closing", f"Clôture dans les {schema.CLOSING_SOON_DAYS} jours"),
    ("changed", "Modifiés : calendrier changé"),
    ("withdrawn", "Retirés des portails"),
)
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class DigestItem:
    id: str
    cluster_id: str
    source: str
    title: str
    funder: str | None
    programme: str | None
    url: str
    application_url: str | None
    perimeter: str
    perimeter_scale: str | None
    regions: list[str]
    departments: list[str]
    opens_on: date | None
    deadlines: list[date]
    next_deadline: date | None
    deadline_time: str | None
    deadline_kind: str
    status: str
    amount_min: float | None
    amount_max: float | None
    ccas_eligibility: str
    ccas_evidence: str | None
    themes: list[str]
    version: int
    first_seen_at: datetime
    changed_at: datetime | None = None
    changes: str | None = None
    withdrawn_at: datetime | None = None
    live_members: int = 1

    @property
    def theme(self) -> str:
        return self.themes[0] if self.themes else NO_THEME

    @property
    def theme_label(self) -> str:
        return THEME_LABELS.get(self.theme, self.theme)

    @property
    def ccas_label(self) -> str:
        return CCAS_LABELS.get(self.ccas_eligibility, self.ccas_eligibility)

    @property
    def amount_text(self) -> str:
        return amount_text(self.amount_min, self.amount_max)

    @property
    def deadline_text(self) -> str:
        if self.next_deadline:
            text = self.next_deadline.strftime("%d/%m/%Y")
            return f"{text} à {self.deadline_time}" if self.deadline_time else text
        if self.deadline_kind == "rolling":
            return "Au fil de l'eau"
        if self.deadlines:
            return "Clos le " + self.deadlines[-1].strftime("%d/%m/%Y")
        return "Non précisée"

    @property
    def updated_at(self) -> datetime:
        return max(self.first_seen_at, self.changed_at or self.first_seen_at)


@dataclass
class ThemeGroup:
    theme: str
    label: str
    items: list[DigestItem]


@dataclass
class Section:
    key: str
    title: str
    groups: list[ThemeGroup]

    @property
    def items(self) -> list[DigestItem]:
        return [item for group in self.groups for item in group.items]


@dataclass
class Digest:
    title: str
    week: str
    start: datetime        # window start, aware
    end: datetime          # window end (exclusive), aware
    reference: date        # the day "closing within 14 days" counts from
    generated_at: datetime
    filters: dict[str, Any]
    sections: list[Section] = field(default_factory=list)

    def rows(self) -> list[tuple[Section, DigestItem]]:
        return [(section, item) for section in self.sections for item in section.items]

    def unique_items(self) -> list[DigestItem]:
        seen: dict[str, DigestItem] = {}
        for _, item in self.rows():
            seen.setdefault(item.id, item)
        return list(seen.values())


def amount_text(low: float | None, high: float | None) -> str:
    def eur(v: float) -> str:
        return f"{v:,.0f}".replace(",", "\u202f") + " €"
    if low is not None and high is not None and low != high:
        return f"de {eur(low)} à {eur(high)}"
    if high is not None:
        return f"jusqu'à {eur(high)}"
    if low is not None:
        return f"à partir de {eur(low)}"
    return "Non précisé"


# --- window and filters -----------------------------------------------------------------------------

def week_window(now: datetime, week: str | None) -> tuple[str, datetime, datetime]:
    """``(label, start, end)``: the ISO week ``YYYY-Www`` (Monday 00:00 to Monday 00:00, Paris time), or
    by default the 7 days ending at ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local_now = now.astimezone(settings.TIMEZONE)
    if week is None:     # up to and including "now": a harvest loaded at "now" is in the window
        return local_now.strftime("%G-W%V"), now - timedelta(days=7), now + timedelta(microseconds=1)
    match = _WEEK.match(week.strip())
    if not match:
        raise ValueError(f"week {week!r} is not an ISO week such as 2026-W48")
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise ValueError(f"week {week!r} does not exist: {exc}") from exc
    start = datetime.combine(monday, time(), settings.TIMEZONE)
    if start > now:
        raise ValueError(f"week {week} has not started yet")
    return week.strip(), start, datetime.combine(monday + timedelta(days=7), time(), settings.TIMEZONE)


def check_filters(region: str | None, departement: str | None, themes: list[str] | str | None,
                  ccas: list[str] | str | None) -> dict[str, Any]:
    """The filters, checked against the vocabularies and the INSEE codes; a clear error otherwise.
    A single theme or class may be given as a string. (The INSEE codes are only loaded when a region or
    a department is asked for: a harvest's digest asks for neither, and loading them costs 2 ms.)"""
    if region is not None or departement is not None:
        from transforms.perimeter import departments, regions

    themes = [themes] if isinstance(themes, str) else themes
    ccas = [ccas] if isinstance(ccas, str) else ccas
    if region is not None and region not in regions():
        raise ValueError(f"unknown INSEE region code {region!r} (e.g. 84 for Auvergne-Rhône-Alpes)")
    if departement is not None and departement.upper() not in departments():
        raise ValueError(f"unknown department code {departement!r} (e.g. 69 for Rhône)")
    bad = [t for t in themes or [] if t not in schema.THEMES]
    if bad:
        raise ValueError(f"unknown theme(s) {', '.join(bad)}; themes are {', '.join(schema.THEMES)}")
    bad = [c for c in ccas or [] if c not in schema.CCAS_CLASSES]
    if bad:
        raise ValueError(f"unknown CCAS class(es) {', '.join(bad)}; classes are {', '.join(schema.CCAS_CLASSES)}")
    return {"region": region, "departement": departement.upper() if departement else None,
            "themes": list(themes) if themes else None, "ccas": list(ccas) if ccas else None}


def _keep(item: DigestItem, filters: dict[str, Any]) -> bool:
    from transforms.perimeter import departments

    nationwide = item.perimeter_scale in ("europe", "national")
    if filters["region"] and not (nationwide or filters["region"] in item.regions):
        return False
    dept = filters["departement"]
    if dept and not (nationwide or dept in item.departments
                     or (not item.departments and departments()[dept][1] in item.regions)):
        return False
    if filters["themes"] and not set(filters["themes"]) & set(item.themes):
        return False
    return not (filters["ccas"] and item.ccas_eligibility not in filters["ccas"])


# --- building ---------------------------------------------------------------------------------------

_ITEM_SQL = """
SELECT c.id, c.cluster_id, c.source, c.title, c.funder, c.programme, c.url, c.application_url,
       coalesce(c.perimeter_label, c.perimeter_scale, '') AS perimeter, c.perimeter_scale,
       c.perimeter_regions AS regions, c.perimeter_departments AS departments, c.opens_on, c.deadlines,
       c.next_deadline, c.deadline_time, c.deadline_kind, c.status, c.amount_min, c.amount_max,
       c.ccas_eligibility, c.ccas_evidence, c.themes, c.version, k.first_seen_at, ch.changed_at, ch.changes,
       c.withdrawn_at, k.live_members
FROM calls c
JOIN (SELECT cluster_id, min(first_seen_at) AS first_seen_at,
             count(*) FILTER (WHERE status <> 'withdrawn') AS live_members
      FROM calls GROUP BY cluster_id) k USING (cluster_id)
LEFT JOIN (
    SELECT m.cluster_id, max(v.valid_from) AS changed_at,
           string_agg(v.changes, '; ' ORDER BY v.valid_from, v.call_id) AS changes
    FROM call_versions v JOIN calls m ON m.id = v.call_id
    WHERE v.change_kind IN ('calendar', 'both') AND v.valid_from >= ? AND v.valid_from < ?
    GROUP BY m.cluster_id
) ch USING (cluster_id)
WHERE c.is_preferred OR c.status = 'withdrawn'
"""


def _window(now: datetime, week: str | None) -> tuple[str, datetime, datetime, date, list[datetime]]:
    """(label, start, end, reference day, the query's parameters) of the digest of ``week`` at ``now``."""
    label, start, end = week_window(now, week)
    reference = min(end, now).astimezone(settings.TIMEZONE).date()
    return label, start, end, reference, [d.astimezone(UTC).replace(tzinfo=None) for d in (start, end)]


def code_files(exports: Path) -> list[Path]:
    """The code and templates that build and write a digest (the modules of ``exports`` and the files of
    the templates folder beside it, not its ``__pycache__``), and the schema and settings they read."""
    templates = exports.parent / "templates"
    return [*sorted(exports.glob("*.py")), *sorted(path for path in templates.iterdir() if path.is_file()),
            Path(schema.__file__), Path(settings.__file__)]


@lru_cache(maxsize=1)
def _code_hash() -> str:
    """A hash of :func:`code_files`."""
    digest = hashlib.sha256()
    for path in code_files(Path(__file__).resolve().parent):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def inputs_key(con: duckdb.DuckDBPyConnection, *, now: datetime, week: str | None = None,
               region: str | None = None, departement: str | None = None, themes: list[str] | None = None,
               ccas: list[str] | None = None) -> tuple[str, str]:
    """(week label, a hash of everything :func:`build_digest` reads): the rows of its query, each with
    whether it was first seen and whether it was withdrawn within the window, the days of the window, the
    reference day, the filters, and the code that builds and writes a digest. Equal keys give digests with
    the same :func:`weekly.digest_key`, so export files can be found up to date without building the digest.

    DuckDB hashes each row's text (every column, lists and long texts whole, NULL apart from an empty list)
    to 64 bits and adds the hashes up exactly, with the count of rows: no row is brought into Python nor
    sorted. At N = 1 000 that took 8–8.5 ms, against 11.5–12 ms for the MD5 of the rows' JSON texts in
    order. (Hashing the row itself is faster still, but DuckDB hashes two list columns of a row that trade
    their values, or a NULL and an empty list, alike.) Two sets of rows with the same key would need two
    64-bit sums to meet by chance; a key is only compared with the last one of its own export folder, and
    a DuckDB whose hashes differ only makes the digest be built once more (its files are still compared
    before being rewritten)."""
    label, start, end, reference, params = _window(now, week)
    filters = check_filters(region, departement, themes, ccas)
    rows = con.execute(
        "SELECT sum(hash({'row': t, 'new': t.first_seen_at >= ? AND t.first_seen_at < ?, "
        "'gone': coalesce(t.withdrawn_at >= ? AND t.withdrawn_at < ?, false)}::VARCHAR)::HUGEINT), count(*) "
        f"FROM ({_ITEM_SQL}) t", params * 3).fetchone()
    parts = [_code_hash(), label, start.date().isoformat(), end.date().isoformat(), reference.isoformat(),
             repr(sorted(filters.items())), repr(rows)]
    return label, hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def build_digest(con: duckdb.DuckDBPyConnection, *, now: datetime, week: str | None = None,
                 region: str | None = None, departement: str | None = None, themes: list[str] | None = None,
                 ccas: list[str] | None = None) -> Digest:
    label, start, end, reference, (start_utc, end_utc) = _window(now, week)
    filters = check_filters(region, departement, themes, ccas)
    items = [_item(row) for row in dict_rows(con, _ITEM_SQL, [start_utc, end_utc])]
    items = [i for i in items if _keep(i, filters)]
    horizon = reference + timedelta(days=schema.CLOSING_SOON_DAYS)
    gone = [i for i in items if i.status == "withdrawn"]
    items = [i for i in items if i.status != "withdrawn"]
    members = {
        "new": [i for i in items if start_utc <= i.first_seen_at < end_utc and i.status != "closed"],
        "closing": [i for i in items if any(reference <= d <= horizon for d in i.deadlines)],
        "changed": [i for i in items if i.changes],
        "withdrawn": [i for i in gone if i.live_members == 0 and i.withdrawn_at is not None
                      and start_utc <= i.withdrawn_at < end_utc],
    }
    digest = Digest(title=f"Appels à projets pour les CCAS/CIAS — semaine {label}", week=label, start=start,
                    end=end, reference=reference, generated_at=now, filters=filters)
    for key, title in SECTIONS:
        digest.sections.append(Section(key, title, _grouped(members[key], reference)))
    return digest


def _item(row: dict[str, Any]) -> DigestItem:
    row["deadlines"] = list(row["deadlines"] or [])
    for key in ("regions", "departments", "themes"):
        row[key] = list(row[key] or [])
    return DigestItem(**row)


def _grouped(items: list[DigestItem], reference: date) -> list[ThemeGroup]:
    order = {t: i for i, t in enumerate(schema.THEMES)}
    groups: dict[str, list[DigestItem]] = {}
    for item in items:
        groups.setdefault(item.theme, []).append(item)

    def item_key(i: DigestItem) -> tuple:
        upcoming = [d for d in i.deadlines if d >= reference]
        return (_CCAS_RANK.get(i.ccas_eligibility, 9), upcoming[0] if upcoming else date.max, i.title, i.id)

    return [ThemeGroup(theme, THEME_LABELS.get(theme, theme), sorted(groups[theme], key=item_key))
            for theme in sorted(groups, key=lambda t: (order.get(t, len(order)), t))]


# --- flat rows shared by the tabular formats ---------------------------------------------------------

COLUMNS = ("section", "theme", "title", "funder", "programme", "perimeter", "next_deadline", "deadlines",
           "opens_on", "amount_min", "amount_max", "ccas_eligibility", "ccas_evidence", "status", "changes",
           "url", "id")


def flat_rows(digest: Digest) -> list[dict[str, Any]]:
    """One row per (section, call), typed: dates as ``date``, amounts as numbers, lists as lists."""
    return [{"section": section.key, "theme": item.theme, "title": item.title, "funder": item.funder,
             "programme": item.programme, "perimeter": item.perimeter, "next_deadline": item.next_deadline,
             "deadlines": item.deadlines, "opens_on": item.opens_on, "amount_min": item.amount_min,
             "amount_max": item.amount_max, "ccas_eligibility": item.ccas_eligibility,
             "ccas_evidence": item.ccas_evidence, "status": item.status, "changes": item.changes,
             "url": item.url, "id": item.id}
            for section, item in digest.rows()]


def to_jsonable(value: Any) -> Any:
    """Dates as ISO text; warehouse timestamps (naive UTC) get their ``+00:00``."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


def dumps(value: Any) -> str:
    """``json.dumps(to_jsonable(value), ensure_ascii=False, indent=2)``: the same text, from orjson's C
    encoder (the standard library's falls back to pure Python when it indents). orjson writes dates and
    timestamps itself, as ``to_jsonable`` does."""
    return orjson.dumps(value, option=_ORJSON_OPTIONS).decode("utf-8")


#: indent by 2 like ``json``; int and None keys as text; warehouse timestamps (naive UTC) with ``+00:00``
_ORJSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC
