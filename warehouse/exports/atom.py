"""Atom feed: one entry per call of the digest; entry ids are stable per call, so feed readers update an
entry when a call changes instead of showing it twice.

The XML is written directly, byte for byte what ``feedgen`` (on lxml) writes for the same calls with
``pretty=True`` and aap as its generator, which the tests check: building a feedgen entry and an lxml tree
per call took a third of the time of all the harvest's export formats together (0.20-0.29 s against
0.095 s for the 2 934 calls of a digest at N = 10 000). Characters that XML 1.0 cannot carry (control
characters but tab and line breaks, lone surrogates, U+FFFE, U+FFFF) are left out, where lxml would have
refused the whole feed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from warehouse.exports.digest import Digest, DigestItem

FEED_ID = "urn:aap:weekly"
AUTHOR = "aap — veille appels à projets CCAS/CIAS"
GENERATOR = "aap"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def entry_id(call_id: str) -> str:
    return "urn:aap:call:" + quote(call_id, safe=":")


def text(value: str) -> str:
    """Element text as lxml writes it."""
    value = _NOT_XML.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def attribute(value: str) -> str:
    """A double-quoted attribute value as lxml writes it."""
    value = _NOT_XML.sub("", value)
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def _utc(value: datetime) -> str:
    """A stored time (naive UTC) in ISO 8601 with its offset."""
    return value.replace(tzinfo=UTC).isoformat()


def entries(digest: Digest) -> list[tuple[DigestItem, str]]:
    """Each call of the digest once, with its entry's summary (its sections first)."""
    sections: dict[str, list[str]] = {}
    for section, item in digest.rows():
        sections.setdefault(item.id, []).append(section.title)
    out = []
    for item in digest.unique_items():
        lines = [" · ".join(sections[item.id]), f"Financeur : {item.funder or 'non précisé'}",
                 f"Périmètre : {item.perimeter}", f"Date limite : {item.deadline_text}",
                 f"Montant : {item.amount_text}", f"Éligibilité : {item.ccas_label}"]
        lines += [x for x in (item.ccas_evidence, item.changes) if x]
        out.append((item, "\n".join(lines)))
    return out


def write(digest: Digest, path: Path) -> Path:
    out = ["<?xml version='1.0' encoding='UTF-8'?>",
           '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">',
           f"  <id>{FEED_ID}</id>",
           f"  <title>{text(digest.title)}</title>",
           f"  <updated>{digest.generated_at.isoformat()}</updated>",
           "  <author>", f"    <name>{text(AUTHOR)}</name>", "  </author>",
           f"  <generator>{GENERATOR}</generator>"]
    for item, summary in entries(digest):
        out += ["  <entry>",
                f"    <id>{text(entry_id(item.id))}</id>",
                f"    <title>{text(item.title)}</title>",
                f"    <updated>{_utc(item.updated_at)}</updated>",
                f'    <link href="{attribute(item.url)}"/>',  # no rel: "alternate" is the default (RFC 4287)
                f'    <summary type="text">{text(summary)}</summary>',
                f'    <category term="{attribute(item.theme)}" label="{attribute(item.theme_label)}"/>',
                f"    <published>{_utc(item.first_seen_at)}</published>",
                "  </entry>"]
    out.append("</feed>\n")
    path.write_text("\n".join(out), encoding="utf-8")
    return path
