"""ICS calendar: one all-day event per upcoming deadline of every call in the digest.

UIDs are stable: the call id and the deadline's rank, so when a deadline moves the calendar application
updates the event (``SEQUENCE`` is the call's version) instead of adding a second one."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

from icalendar import Calendar, Event

from pipeline.schema import short_hash
from warehouse.exports.digest import Digest

UID_DOMAIN = "aap.unccas-veille"


def event_uid(call_id: str, rank: int) -> str:
    return f"{short_hash(call_id, rank, length=24)}@{UID_DOMAIN}"


def write(digest: Digest, path: Path) -> Path:
    cal = Calendar()
    cal.add("prodid", "-//aap//appels a projets CCAS-CIAS//FR")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", digest.title)
    for item in digest.unique_items():
        for rank, deadline in enumerate(item.deadlines):
            if deadline < digest.reference:
                continue
            ev = Event()
            ev.add("uid", event_uid(item.id, rank))
            withdrawn = item.status == "withdrawn"
            # same UID with STATUS:CANCELLED: calendar apps remove the event of a vanished call
            ev.add("summary", f"{'Retiré' if withdrawn else 'Date limite'} : {item.title}")
            if withdrawn:
                ev.add("status", "CANCELLED")
            ev.add("dtstart", deadline)
            ev.add("dtend", deadline + timedelta(days=1))
            ev.add("dtstamp", digest.generated_at.astimezone(UTC))
            ev.add("sequence", item.version)
            ev.add("url", item.url)
            ev.add("description", "\n".join(filter(None, [
                f"Financeur : {item.funder or 'non précisé'}", f"Périmètre : {item.perimeter}",
                f"Montant : {item.amount_text}", f"Éligibilité : {item.ccas_label}",
                item.ccas_evidence, item.url])))
            ev.add("categories", [item.theme_label])
            ev.add("transp", "TRANSPARENT")
            cal.add_component(ev)
    path.write_bytes(cal.to_ical())
    return path
