"""Raw spider item → record (``pipeline.schema.RECORD_FIELDS``). Pure: the run date is passed in.

``to_record`` validates the item, runs every extractor (deadlines, eligibility, themes, amounts, perimeter,
call detection, label mappings), fills the hashes and validates the record. Anything that prevents a sound
record raises ``schema.ValidationError`` with the reason; the caller quarantines the item.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from pipeline import schema
from transforms.amounts import parse_amounts
from transforms.calls import is_call_for_projects
from transforms.deadlines import YEAR_INFERRED, DeadlineInfo, extract_deadlines
from transforms.eligibility import eligibility_from_sources
from transforms.labels import map_labels
from transforms.perimeter import resolve_perimeter
from transforms.text import clean
from transforms.themes import classify_themes

T = TypeVar("T")


def _as_list(value: Any) -> list[str]:
    """Labels as a list of non-empty strings (a portal may give one string, or ``|||``-joined values)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split("|||")
    elif not isinstance(value, (list, tuple)):
        value = [value]
    out = []
    for v in value:
        s = clean(v)
        if s and s not in out:
            out.append(s)
    return out


def _text(value: Any) -> str | None:
    s = clean(value)
    return s or None


def _step(name: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except schema.ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 — an extractor bug quarantines one item, never the run
        raise schema.ValidationError(f"{name} failed: {type(exc).__name__}: {exc}") from exc


def _check_meta(meta: Any) -> dict:
    if not isinstance(meta, dict):
        raise schema.ValidationError("source meta is not an object")
    level = meta.get("source_level")
    if level not in schema.SOURCE_LEVELS:
        raise schema.ValidationError(f"source meta source_level={level!r} not in vocabulary")
    return meta


def _calendar(item: dict, text: str, as_of: date, status_label: str | None, strict: bool) -> DeadlineInfo:
    return extract_deadlines(text, as_of=as_of, structured_deadlines=item.get("deadlines"),
                             structured_opens=item.get("opens_on"), status_label=status_label, strict=strict)


def derive(item: dict, source: str, as_of: date) -> dict[str, Any]:
    """Every field the extractors compute from a raw item's texts and labels (shared by ``to_record``
    and ``aap classify``). ``item`` uses raw field names; missing ones are treated as empty."""
    title = _text(item.get("title")) or ""
    summary = _text(item.get("summary"))
    description = _text(item.get("description"))
    eligibility_text = _text(item.get("eligibility_text"))
    deadline_text = _text(item.get("deadline_text"))
    amount_text = _text(item.get("amount_text"))
    audience_labels = _as_list(item.get("audience_labels"))
    theme_labels = _as_list(item.get("theme_labels"))
    type_labels = _as_list(item.get("type_labels"))
    body = "\n".join(t for t in (summary, description) if t)
    status_label = _text(item.get("status_label"))

    cal = _step("deadlines", lambda: _calendar(item, deadline_text or body, as_of, status_label,
                                               not deadline_text))
    if cal.kind == "unknown" and deadline_text and body:
        # a deadline field that says nothing usable ("Ponctuelle"): read the description's deadline sentences
        fallback = _step("deadlines", lambda: _calendar(item, body, as_of, status_label, True))
        if fallback.kind != "unknown":
            fallback.flags.append("deadline_from_description")
            if YEAR_INFERRED in cal.flags and YEAR_INFERRED not in fallback.flags:
                fallback.flags.append(YEAR_INFERRED)  # the first reading's outcome depended on the date too
            cal = fallback
    elig = _step("eligibility", lambda: eligibility_from_sources(eligibility_text, audience_labels, body))
    audiences, unmapped_aud = _step("audiences", lambda: map_labels(source, "audiences", audience_labels))
    for a in elig.audiences:
        if a not in audiences:
            audiences.append(a)
    themes = _step("themes", lambda: classify_themes(
        {"title": title, "summary": summary, "description": description}, tags=theme_labels, source=source))
    aid_types, unmapped_types = _step("types", lambda: map_labels(source, "types", type_labels))
    amount_min, amount_max = _step("amounts", lambda: parse_amounts(amount_text or body))
    is_call = _step("is_call_for_projects", lambda: is_call_for_projects(
        title, summary, description, item.get("is_call_label"), deadline_text))
    unmapped: list[str] = []
    for label in (*unmapped_aud, *themes.unmapped, *unmapped_types):
        if label not in unmapped:
            unmapped.append(label)
    return {
        "title": title,
        "summary": summary,
        "description": description,
        "eligibility_text": eligibility_text,
        "deadline_text": deadline_text,
        "opens_on": cal.opens_on,
        "deadlines": cal.deadlines,
        "deadline_time": cal.time,
        "next_deadline": cal.next_deadline,
        "deadline_kind": cal.kind,
        "status": cal.status,
        "deadline_flags": cal.flags,
        "audiences": [a for a in schema.AUDIENCES if a in audiences],
        "ccas_eligibility": elig.cls,
        "ccas_evidence": elig.evidence,
        "ccas_rule": elig.rule,
        "themes": themes.themes,
        "categories": themes.categories,
        "theme_evidence": themes.evidence,
        "aid_types": aid_types,
        "amount_min": amount_min,
        "amount_max": amount_max,
        "is_call_for_projects": is_call,
        "unmapped_labels": unmapped,
    }


def to_record(item: Any, meta: Any, as_of: date) -> dict:
    """Build the record of one raw item; raises ``schema.ValidationError`` (quarantine reason)."""
    schema.validate_raw(item)
    meta = _check_meta(meta)
    source = str(item["source"]).strip()
    derived = derive(item, source, as_of)
    perimeter = _step("perimeter", lambda: resolve_perimeter(_text(item.get("perimeter_label")),
                                                             meta.get("perimeter")))
    native = item.get("native_id")
    native_id = str(native).strip() if native is not None and str(native).strip() else None
    url = str(item["url"]).strip()
    record: dict[str, Any] = {
        "id": schema.record_id(source, native_id, url),
        "source": source,
        "source_level": meta["source_level"],
        "native_id": native_id,
        "url": url,
        "application_url": _text(item.get("application_url")),
        "funder": _text(item.get("funder")) or _text(meta.get("funder")),
        "programme": _text(item.get("programme")),
        "perimeter_scale": perimeter["scale"],
        "perimeter_regions": perimeter["regions"],
        "perimeter_departments": perimeter["departments"],
        "perimeter_label": perimeter["label"],
        **derived,
        "raw": item.get("raw") if item.get("raw") is not None else {k: v for k, v in item.items() if k != "raw"},
    }
    record["content_hash"] = schema.content_hash(record)
    record["calendar_hash"] = schema.calendar_hash(record)
    missing = [f for f in schema.RECORD_FIELDS if f not in record]
    if missing:
        raise schema.ValidationError(f"record lacks {', '.join(sorted(missing))}")
    out = {f: record[f] for f in schema.RECORD_FIELDS}  # exactly the record's fields, in their order
    problem = schema.value_problem(out)
    if problem:
        raise schema.ValidationError(problem)
    return out
