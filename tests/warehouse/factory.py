"""Valid records for warehouse tests, built the way transforms build them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipeline import schema
from warehouse.load import SourceBatch

SOURCE_LEVEL = {"region_nouvelle_aquitaine": "regional", "aides_territoires": "national",
                "fondation_de_france": "national", "fse_gouv": "national", "departement_drome": "departmental"}


def record(source: str = "region_nouvelle_aquitaine", native_id: str = "aap-bien-vieillir-2026",
           **overrides: Any) -> dict[str, Any]:
    """A complete record with exactly ``schema.RECORD_FIELDS``; hashes follow the overrides."""
    url = overrides.pop("url", f"https://les-aides.nouvelle-aquitaine.fr/fiches/{native_id}")
    rec: dict[str, Any] = {
        "id": schema.record_id(source, native_id, url),
        "source": source,
        "source_level": SOURCE_LEVEL.get(source, "regional"),
        "native_id": native_id,
        "url": url,
        "application_url": None,
        "title": "Appel à projets « Bien vieillir dans les territoires » 2026",
        "summary": "Soutenir les initiatives locales de prévention de la perte d'autonomie.",
        "description": "La Région accompagne les projets favorisant le maintien à domicile des personnes âgées.",
        "eligibility_text": "Peuvent candidater : communes, CCAS/CIAS, associations.",
        "deadline_text": "Date limite de dépôt : 15 janvier 2027",
        "funder": "Région Nouvelle-Aquitaine",
        "programme": None,
        "perimeter_scale": "region",
        "perimeter_regions": ["75"],
        "perimeter_departments": [],
        "perimeter_label": "Nouvelle-Aquitaine",
        "opens_on": "2026-10-01",
        "deadlines": ["2027-01-15"],
        "deadline_time": None,
        "next_deadline": "2027-01-15",
        "deadline_kind": "single",
        "status": "open",
        "deadline_flags": [],
        "audiences": ["commune", "ccas", "association"],
        "ccas_eligibility": "explicit",
        "ccas_evidence": "Peuvent candidater : communes, CCAS/CIAS, associations.",
        "ccas_rule": "names_ccas",
        "themes": ["solidarites-lien-social"],
        "categories": ["Personnes âgées"],
        "theme_evidence": ["solidarites-lien-social: personnes âgées, maintien à domicile"],
        "aid_types": ["grant"],
        "amount_min": None,
        "amount_max": 50000.0,
        "is_call_for_projects": True,
        "unmapped_labels": [],
        "content_hash": "",
        "calendar_hash": "",
        "raw": {"guid": native_id, "title": "Bien vieillir"},
    }
    rec.update(overrides)
    if "id" not in overrides:
        rec["id"] = schema.record_id(source, native_id, rec["url"])
    rec["content_hash"] = schema.content_hash(rec)
    rec["calendar_hash"] = schema.calendar_hash(rec)
    return rec


def crawl(source: str, ok: bool = True, items: int = 0) -> dict[str, Any]:
    return {"source": source, "ok": ok, "items": items, "requests": items + 1, "responses": {"200": items + 1},
            "errors": [] if ok else ["HTTP 503 on list page"], "failed_urls": [] if ok else ["https://x/1"],
            "bytes_downloaded": 1024 * items, "duration_s": 1.5, "started_at": "2026-11-23T06:00:00+00:00",
            "finished_at": "2026-11-23T06:00:02+00:00", "finish_reason": "finished" if ok else "error",
            "reason": None if ok else "list page returned 503"}


def batch(source: str, records: list[dict], *, ok: bool = True, rejected: list[dict] | None = None) -> SourceBatch:
    return SourceBatch(source=source, ok=ok, records=records, rejected=rejected or [],
                       crawl=crawl(source, ok, len(records)))


def at(day: str, hour: int = 6) -> datetime:
    """A harvest time: ``day`` at ``hour`` UTC."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)
