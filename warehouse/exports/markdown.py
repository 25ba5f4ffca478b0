"""Markdown digest: same sections as the email; scraped text is escaped so it cannot add links, HTML or
formatting."""

from __future__ import annotations

import re
from pathlib import Path

from warehouse.exports.digest import Digest
from warehouse.exports.html_email import filter_text, safe_url

#: characters that could start emphasis, code, links, tables or HTML inside a line
_SPECIAL = re.compile(r"([\\`*_\[\]|>~!])")


def escape(text: str | None) -> str:
    plain = " ".join(str(text or "").split())
    return _SPECIAL.sub(r"\\\1", plain).replace("<", "&lt;")


def link_target(url: str | None) -> str:
    return safe_url(url).replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def render(digest: Digest) -> str:
    lines = [f"# {escape(digest.title)}", ""]
    extra = filter_text(digest)
    lines += [f"Période : {digest.start.date().isoformat()} → {digest.end.date().isoformat()}"
              + (f" · {escape(extra)}" if extra else ""), ""]
    for section in digest.sections:
        lines += [f"## {escape(section.title)} ({len(section.items)})", ""]
        if not section.groups:
            lines += ["Aucun appel cette semaine.", ""]
        for group in section.groups:
            lines += [f"### {escape(group.label)}", ""]
            for item in group.items:
                lines.append(f"- **[{escape(item.title)}]({link_target(item.url)})**")
                funder = escape(item.funder or "non précisé")
                if item.programme:
                    funder += f" — {escape(item.programme)}"
                lines += [f"  - Financeur : {funder}", f"  - Périmètre : {escape(item.perimeter)}",
                          f"  - Date limite : {escape(item.deadline_text)}",
                          f"  - Montant : {escape(item.amount_text)}",
                          f"  - Éligibilité : {escape(item.ccas_label)}"
                          + (f" — « {escape(item.ccas_evidence)} »" if item.ccas_evidence else "")]
                if section.key == "changed" and item.changes:
                    lines.append(f"  - Changement : {escape(item.changes)}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write(digest: Digest, path: Path) -> Path:
    path.write_text(render(digest), encoding="utf-8")
    return path
