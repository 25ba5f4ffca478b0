"""Cross-source clusters: the same call published by several portals.

Two calls belong to the same cluster when

1. their canonical URLs are equal (any sources), or
2. they come from different sources, share at least one deadline (or both have none), their funders are
   compatible (one is empty, or their significant words overlap) and their normalised titles are
   similar (``SequenceMatcher`` ratio ≥ :data:`TITLE_SIMILARITY`; for calls without any deadline the
   normalised titles must be equal).

Clusters are the connected components of these links. ``cluster_id`` is ``cl:`` + the id of the member
seen first (ties: smallest id), so a cluster keeps its id when later copies join it.

The preferred record of a cluster (``is_preferred``) is the first by:
(a) not withdrawn; (b) published by the funder's own level of portal (source level matching the
perimeter scale: a regional call on a regional portal beats its copy on a national aggregator);
(c) the most complete (deadlines, eligibility text, description, amount, application link, programme);
(d) seen first; (e) smallest id.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any

import duckdb

from warehouse.db import dict_rows, staged

TITLE_SIMILARITY = 0.85
#: words that say nothing about which call it is
_GENERIC = frozenset(
    "a au aux aap ami appel appels avis d de des du en et l la le les manifestation manifestations "
    "interet pour projet projets sur un une candidatures call for proposals".split())
_GENERIC_FUNDER = frozenset(
    "conseil regional regionale region departement departemental departementale de la le les du des d l "
    "et".split())
_LEVEL_OF_SCALE = {"europe": "europe", "national": "national", "region": "regional",
                   "department": "departmental", "epci": "local", "commune": "local"}


def normalise_title(title: str | None) -> str:
    """Lower case, no accents, no punctuation, no generic words ("appel à projets", articles)."""
    return " ".join(w for w in _words(title) if w not in _GENERIC)


_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str | None) -> list[str]:
    plain = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return _WORD.findall(plain)


@lru_cache(maxsize=4096)
def _funder_words(funder: str | None) -> frozenset[str]:
    """(Cached: a few funders publish most calls.)"""
    return frozenset(w for w in _words(funder) if w not in _GENERIC_FUNDER)


def same_call(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Rule 2 of the module docstring, for two calls of different sources."""
    return _same(_Key.of(a), _Key.of(b))


@dataclass(frozen=True, slots=True)
class _Key:
    """What rule 2 compares, computed once per call."""

    source: str
    deadlines: frozenset
    funder: frozenset[str]
    title: str
    title_words: frozenset[str]

    @classmethod
    def of(cls, call: dict[str, Any]) -> _Key:
        title = normalise_title(call["title"])
        return cls(call["source"], frozenset(call["deadlines"] or ()), _funder_words(call["funder"]), title,
                   frozenset(title.split()))


def _same(a: _Key, b: _Key) -> bool:
    if a.source == b.source:
        return False
    if bool(a.deadlines) != bool(b.deadlines):
        return False
    if a.deadlines and not a.deadlines & b.deadlines:
        return False
    if a.funder and b.funder and not a.funder & b.funder:
        return False
    if not a.title or not b.title:
        return False
    if not a.deadlines:
        return a.title == b.title
    if len(a.title_words & b.title_words) / len(a.title_words | b.title_words) < 0.4:
        return False
    matcher = SequenceMatcher(None, a.title, b.title)
    return (matcher.real_quick_ratio() >= TITLE_SIMILARITY and matcher.quick_ratio() >= TITLE_SIMILARITY
            and matcher.ratio() >= TITLE_SIMILARITY)


def clusters(calls: list[dict[str, Any]]) -> dict[str, tuple[str, bool]]:
    """``{call id: (cluster_id, is_preferred)}`` for every call given."""
    parent = {c["id"]: c["id"] for c in calls}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: str, y: str) -> None:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)

    by_id = {c["id"]: c for c in calls}
    keys: dict[str, _Key] = {}  # computed when first needed: most candidate pairs never compare titles

    def key(call_id: str) -> _Key:
        if call_id not in keys:
            keys[call_id] = _Key.of(by_id[call_id])
        return keys[call_id]

    funders = {c["id"]: _funder_words(c["funder"]) for c in calls}
    sources = {c["id"]: c["source"] for c in calls}
    blocks: dict[tuple[str, str], list[str]] = defaultdict(list)
    for call in calls:
        blocks[("url", call["canonical_url"])].append(call["id"])
        for d in call["deadlines"] or ():
            blocks[("deadline", str(d))].append(call["id"])
        if not call["deadlines"]:
            blocks[("title", key(call["id"]).title)].append(call["id"])
    for (kind, _), members in blocks.items():
        if kind == "url":
            for b in members[1:]:
                union(members[0], b)
            continue
        for a, b in _candidate_pairs(members, funders, sources):
            if find(a) != find(b) and _same(key(a), key(b)):
                union(a, b)
    groups: dict[str, list[dict]] = defaultdict(list)
    for call in calls:
        groups[find(call["id"])].append(call)
    result: dict[str, tuple[str, bool]] = {}
    for members in groups.values():
        first = min(members, key=lambda c: (c["first_seen_at"], c["id"]))
        preferred = min(members, key=_preference)
        for call in members:
            result[call["id"]] = (f"cl:{first['id']}", call["id"] == preferred["id"])
    return result


def _around(calls: list[dict[str, Any]], changed: set[str]) -> list[dict[str, Any]]:
    """The calls of every cluster a changed call belonged to or links to now (with rule 1 or 2)."""
    keys: dict[str, _Key] = {}

    def key(call: dict[str, Any]) -> _Key:
        if call["id"] not in keys:
            keys[call["id"]] = _Key.of(call)
        return keys[call["id"]]

    blocks: dict[tuple[str, Any], list[dict]] = defaultdict(list)
    for call in calls:
        blocks[("url", call["canonical_url"])].append(call)
        for d in call["deadlines"] or ():
            blocks[("deadline", d)].append(call)
        if not call["deadlines"]:
            blocks[("title", key(call).title)].append(call)
    reached = set(changed)
    for call in calls:
        if call["id"] not in changed:
            continue
        own = [("url", call["canonical_url"]), *(("deadline", d) for d in call["deadlines"] or ())]
        if not call["deadlines"]:
            own.append(("title", key(call).title))
        for block in own:
            reached.update(other["id"] for other in blocks[block]
                           if block[0] == "url" or _same(key(call), key(other)))
    touched = {c["cluster_id"] for c in calls if c["id"] in reached and c["cluster_id"] is not None}
    return [c for c in calls if c["id"] in reached or c["cluster_id"] in touched]


def _candidate_pairs(members: list[str], funders: dict[str, frozenset[str]],
                     sources: dict[str, str]) -> Iterator[tuple[str, str]]:
    """The pairs of ``members`` that rule 2 may link: from different sources, with compatible funders (one
    is empty, or they share a significant word). Same-source pairs are never formed: a block (one deadline
    date) holds mostly calls of one portal and one funder, which were all the pairs of a harvest at
    N = 20 000 (186 000 of them)."""
    earlier: dict[str, list[str]] = defaultdict(list)  # by source
    unfunded: dict[str, list[str]] = defaultdict(list)
    by_word: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for a in members:
        funder, own = funders[a], sources[a]
        if funder:
            others = [b for source, bs in unfunded.items() if source != own for b in bs]
            for w in funder:
                for source, bs in by_word[w].items():
                    if source != own:
                        others += bs
        else:
            others = [b for source, bs in earlier.items() if source != own for b in bs]
        yield from ((b, a) for b in dict.fromkeys(others))
        earlier[own].append(a)
        if not funder:
            unfunded[own].append(a)
        for w in funder:
            by_word[w].setdefault(own, []).append(a)


def _preference(call: dict[str, Any]) -> tuple:
    own_level = _LEVEL_OF_SCALE.get(call["perimeter_scale"] or "") == call["source_level"]
    completeness = sum(bool(call[f]) for f in ("deadlines", "eligibility_text", "description",
                                                "application_url", "programme"))
    completeness += call["amount_min"] is not None or call["amount_max"] is not None
    return (call["status"] == "withdrawn", not own_level, -completeness, call["first_seen_at"], call["id"])


#: the text fields :func:`_preference` only tests for emptiness, read as that test (not their text)
_FILLED = ", ".join(f"{f} <> '' AS {f}" for f in ("eligibility_text", "description", "application_url", "programme"))

_CHANGED: ContextVar[set[str] | None] = ContextVar("changed_calls", default=None)


@contextmanager
def only_around(changed: set[str]) -> Iterator[None]:
    """Within this block, :func:`recluster` recomputes only the clusters that ``changed`` calls (new
    calls, or calls whose title, funder, URL, deadlines, withdrawal or preference fields changed since
    the last recluster) belong to or may join; every other stored cluster is already up to date."""
    token = _CHANGED.set(changed)
    try:
        yield
    finally:
        _CHANGED.reset(token)


def recluster(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute clusters over every stored call (see :func:`only_around`); writes only the rows whose
    cluster changed."""
    if _CHANGED.get() == set():  # nothing changed: every stored cluster is up to date
        return 0
    calls = dict_rows(
        con, "SELECT id, source, source_level, canonical_url, title, funder, deadlines, perimeter_scale, status, "
        f"{_FILLED}, amount_min, amount_max, first_seen_at, cluster_id, is_preferred FROM calls")
    changed = _CHANGED.get()
    if changed is not None and len(changed) * 4 < len(calls):
        calls = _around(calls, changed)
    computed = clusters(calls)
    changed = [(c["id"], *computed[c["id"]]) for c in calls
                if (c["cluster_id"], c["is_preferred"]) != computed[c["id"]]]
    if changed:
        columns = {"id": [c[0] for c in changed], "cluster_id": [c[1] for c in changed],
                   "is_preferred": [c[2] for c in changed]}
        with staged(con, "_clusters", columns):
            con.execute("UPDATE calls SET cluster_id = k.cluster_id, is_preferred = k.is_preferred "
                        "FROM _clusters k WHERE calls.id = k.id")
    return len(changed)
