"""Atom feed: one entry per call of the digest; entry ids are stable per call, so feed readers update an
entry when a call changes instead of showing it twice."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from urllib.parse import quote

from feedgen.feed import FeedGenerator

from warehouse.exports.digest import Digest

FEED_ID = "urn:aap:weekly"


def entry_id(call_id: str) -> str:
    return "urn:aap:call:" + quote(call_id, safe=":")


def write(digest: Digest, path: Path) -> Path:
    fg = FeedGenerator()
    fg.id(FEED_ID)
    fg.title(digest.title)
    fg.author({"name": "aap — veille appels à projets CCAS/CIAS"})
    fg.language("fr")
    fg.updated(digest.generated_at)
    sections = {}
    for section, item in digest.rows():
        sections.setdefault(item.id, []).append(section.title)
    for item in digest.unique_items():
        fe = fg.add_entry(order="append")
        fe.id(entry_id(item.id))
        fe.title(item.title)
        fe.link(href=item.url)
        fe.updated(item.updated_at.replace(tzinfo=UTC))
        fe.published(item.first_seen_at.replace(tzinfo=UTC))
        fe.category(term=item.theme, label=item.theme_label)
        lines = [" · ".join(sections[item.id]), f"Financeur : {item.funder or 'non précisé'}",
                 f"Périmètre : {item.perimeter}", f"Date limite : {item.deadline_text}",
                 f"Montant : {item.amount_text}", f"Éligibilité : {item.ccas_label}"]
        lines += [x for x in (item.ccas_evidence, item.changes) if x]
        fe.summary("\n".join(lines), type="text")
    fg.atom_file(str(path), pretty=True)
    return path
