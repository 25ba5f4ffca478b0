"""ICS calendar: one all-day event per upcoming deadline of every call in the digest.

UIDs are stable: the call id and the deadline's rank, so when a deadline moves the calendar application
updates the event (``SEQUENCE`` is the call's version) instead of adding a second one.

The file is written directly per RFC 5545 (TEXT escaping, lines folded at 75 octets, CRLF), with the
property order and folding of the ``icalendar`` library, which parses it back in the tests; building
thousands of ``icalendar`` objects cost more than the rest of the exports together."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pipeline.schema import short_hash
from warehouse.exports.digest import Digest

UID_DOMAIN = "aap.unccas-veille"
#: a content line is at most 75 octets: 74 of content then the CRLF + space of the fold
_FOLD_AT = 74


def event_uid(call_id: str, rank: int) -> str:
    return f"{short_hash(call_id, rank, length=24)}@{UID_DOMAIN}"


def escape(text: str) -> str:
    """RFC 5545 TEXT escaping (backslash, semicolon, comma, line breaks), as ``icalendar`` does it."""
    return (text.replace(r"\N", "\n").replace("\\", "\\\\").replace(";", r"\;").replace(",", r"\,")
            .replace("\r\n", r"\n").replace("\n", r"\n").replace("\r", r"\n"))


def fold(line: str) -> bytes:
    """One content line in UTF-8, folded so no physical line exceeds 75 octets; a fold never splits a
    character nor separates a backslash from the character it escapes."""
    data = line.encode("utf-8")
    if len(data) <= _FOLD_AT:
        return data
    chunks, start, size = [], 0, len(data)
    while size - start > _FOLD_AT:
        end = start + _FOLD_AT
        while data[end] & 0xC0 == 0x80:  # not the first byte of a character
            end -= 1
        if end - start > 1 and data[end - 1] in b"\\^":
            end -= 1
        chunks.append(data[start:end])
        start = end
    chunks.append(data[start:])
    return b"\r\n ".join(chunks)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _day(d: date) -> str:
    return d.strftime("%Y%m%d")


def write(digest: Digest, path: Path) -> Path:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//aap//appels a projets CCAS-CIAS//FR",
             "X-WR-CALNAME:" + escape(digest.title)]
    stamp = "DTSTAMP:" + _stamp(digest.generated_at)
    for item in digest.unique_items():
        upcoming = [(rank, d) for rank, d in enumerate(item.deadlines) if d >= digest.reference]
        if not upcoming:
            continue
        withdrawn = item.status == "withdrawn"
        # same UID with STATUS:CANCELLED: calendar apps remove the event of a vanished call
        summary = "SUMMARY:" + escape(f"{'Retiré' if withdrawn else 'Date limite'} : {item.title}")
        description = "DESCRIPTION:" + escape("\n".join(filter(None, [
            f"Financeur : {item.funder or 'non précisé'}", f"Périmètre : {item.perimeter}",
            f"Montant : {item.amount_text}", f"Éligibilité : {item.ccas_label}", item.ccas_evidence, item.url])))
        tail = ["SEQUENCE:" + str(item.version), "CATEGORIES:" + escape(item.theme_label), description,
                *(["STATUS:CANCELLED"] if withdrawn else []), "TRANSP:TRANSPARENT",
                "URL:" + " ".join(str(item.url).splitlines())]
        for rank, deadline in upcoming:
            lines += ["BEGIN:VEVENT", summary, "DTSTART;VALUE=DATE:" + _day(deadline),
                      "DTEND;VALUE=DATE:" + _day(deadline + timedelta(days=1)), stamp,
                      "UID:" + escape(event_uid(item.id, rank)), *tail, "END:VEVENT"]
    lines.append("END:VCALENDAR")
    path.write_bytes(b"\r\n".join(fold(line) for line in lines) + b"\r\n")
    return path
