"""Perimeter of a call (scale + INSEE region/department codes) from the portal's wording.

Reference table: ``data/insee_regions.csv`` (18 regions, with former region names as aliases) and
``data/insee_departments.csv`` (101 departments with their region). Matching is on whole words of the
folded label, longest names first ("Loire-Atlantique" before "Loire", "Nord-Pas-de-Calais" before "Nord").
A label the table cannot place keeps the source's default perimeter (with the label kept as written).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from transforms.text import fold

DATA: Final = Path(__file__).parent / "data"
_EUROPE: Final = re.compile(r"^(?:europe|union europeenne|ue|eu|european union|international|monde|"
                            r"etats membres de l'ue|espace economique europeen)$")
_NATIONAL: Final = re.compile(r"^(?:france|national|nationale|france entiere|france metropolitaine|toute la france|"
                              r"territoire national|metropole|metropole et outre-mer|france et outre-mer|"
                              r"france \(metropole et outre-mer\)|tout le territoire)$")
_OVERSEAS: Final = re.compile(r"^(?:outre-mer|drom|dom|departements d'outre-mer|drom-com|dom-tom)$")
_EPCI: Final = re.compile(r"\b(?:communaute de communes|communaute d'agglomeration|communaute urbaine|metropole (?:de|d'|du)|"
                          r"agglomeration|epci|petr|pole d'equilibre|pays (?:de|du|des|d')(?! la loire)|"
                          r"intercommunalite|grand [a-z]+)\b")
_COMMUNE: Final = re.compile(r"\b(?:commune de|commune d'|ville de|ville d'|mairie de|mairie d')")
#: aliases too short or common to be searched inside a longer label (exact label match only)
_EXACT_ONLY: Final = {"sud", "centre", "idf", "aura", "bfc", "paca", "metropole"}


@dataclass(frozen=True)
class Place:
    kind: str  # "region" | "department"
    code: str
    region: str


@lru_cache(maxsize=1)
def regions() -> dict[str, str]:
    """INSEE region code → name."""
    with (DATA / "insee_regions.csv").open(encoding="utf-8") as fh:
        return {r["code"]: r["name"] for r in csv.DictReader(fh)}


@lru_cache(maxsize=1)
def departments() -> dict[str, tuple[str, str]]:
    """INSEE department code → (name, region code)."""
    with (DATA / "insee_departments.csv").open(encoding="utf-8") as fh:
        return {r["code"]: (r["name"], r["region_code"]) for r in csv.DictReader(fh)}


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, Place], re.Pattern[str]]:
    names: dict[str, Place] = {}
    with (DATA / "insee_regions.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            for name in [r["name"], *filter(None, (r["aliases"] or "").split(";"))]:
                names[fold(name)] = Place("region", r["code"], r["code"])
    for code, (name, region) in departments().items():
        key = fold(name)
        if key in names:  # Guadeloupe, Martinique…: single-department regions, keep the region
            continue
        names[key] = Place("department", code, region)
    searchable = sorted((n for n in names if n not in _EXACT_ONLY), key=len, reverse=True)
    rx = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in searchable) + r")(?![\w-])")
    return names, rx


#: the words that name a level before a place ("région de", "le département du")
_LEVEL_WORDS: Final = re.compile(r"^(?:region|departement|la region|le departement)\s+(?:de la |de l'|du |des |de |d')?")
_DEPT_CODE: Final = re.compile(r"(?:^|[\s(])(2a|2b|97[1-6]|\d{2})(?:$|[\s)])")


@lru_cache(maxsize=64)
def _departments_of(regions: tuple[str, ...]) -> tuple[str, ...]:
    """The departments of some regions, sorted (cached: every record of a regional source asks)."""
    return tuple(sorted(c for c, (_, r) in departments().items() if r in regions))


def _empty_default(default: dict | None) -> dict:
    """The source's default perimeter, completed from the table: a region's departments, a department's
    region (so that filters by département also find region-wide calls)."""
    d = dict(default or {})
    scale = d.get("scale") or "other"
    regs = [str(r) for r in d.get("regions") or []]
    depts = [str(x) for x in d.get("departments") or []]
    if scale == "region" and regs and not depts:
        depts = list(_departments_of(tuple(regs)))
    if depts and not regs:
        regs = sorted({departments()[c][1] for c in depts if c in departments()})
    return {"scale": scale, "regions": regs, "departments": depts, "label": d.get("label")}


def resolve_perimeter(label: str | None, default: Any) -> dict:
    """``{"scale", "regions", "departments", "label"}`` for a perimeter label, falling back to ``default``."""
    base = _empty_default(default)
    if not label or not str(label).strip():
        return base
    label = str(label).strip()
    key = fold(label)
    key_plain = _LEVEL_WORDS.sub("", key)
    if _EUROPE.match(key):
        return {"scale": "europe", "regions": [], "departments": [], "label": label}
    if _NATIONAL.match(key):
        return {"scale": "national", "regions": [], "departments": [], "label": label}
    if _OVERSEAS.match(key):
        over = {c: r for c, (_, r) in departments().items() if len(c) == 3}
        return {"scale": "other", "regions": sorted(set(over.values())), "departments": sorted(over),
                "label": label}
    names, rx = _index()
    places: list[Place] = []
    if key_plain in names:
        places.append(names[key_plain])
    else:
        places.extend(names[m.group(0)] for m in rx.finditer(key))
        for m in _DEPT_CODE.finditer(key):
            code = m.group(1).upper()
            if code in departments():
                places.append(Place("department", code, departments()[code][1]))
    depts = sorted({p.code for p in places if p.kind == "department"})
    regs = sorted({p.region for p in places})
    if _COMMUNE.search(key):
        return {"scale": "commune", "regions": regs or base["regions"], "departments": depts or base["departments"],
                "label": label}
    if _EPCI.search(key) and not (places and places[0].kind == "region" and len(places) == 1
                                  and key_plain in names):
        return {"scale": "epci", "regions": regs or base["regions"], "departments": depts or base["departments"],
                "label": label}
    if not places:
        base["label"] = label
        return base
    if depts:
        scale = "department" if len(depts) == 1 else "other"
        return {"scale": scale, "regions": regs, "departments": depts, "label": label}
    if len(regs) == 1:
        reg = regs[0]
        own = sorted(c for c, (_, r) in departments().items() if r == reg)
        return {"scale": "region", "regions": regs, "departments": own, "label": label}
    return {"scale": "other", "regions": regs, "departments": [], "label": label}
