"""Raw spider item → record (``pipeline.schema.RECORD_FIELDS``). Pure: the run date is passed in.

``to_record`` validates the item, runs every extractor (deadlines, eligibility, themes, amounts, perimeter,
call detection, label mappings), fills the hashes and validates the record. Anything that prevents a sound
record raises ``schema.ValidationError`` with the reason; the caller quarantines the item.

``to_records`` does the same for a batch of items, one extractor at a time over the whole batch rather
than every extractor on one item after the other: each extractor's compiled code, patterns and word
tables then stay in the processor's caches (10 000 items: about a fifth less time). Each item still
gets its own record or its own failure.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from pipeline import schema
from transforms.amounts import parse_amounts
from transforms.calls import is_call_for_projects
from transforms.deadlines import YEAR_INFERRED, DeadlineInfo, extract_deadlines
from transforms.eligibility import Eligibility, eligibility_from_sources
from transforms.labels import map_labels
from transforms.perimeter import resolve_perimeter
from transforms.text import clean
from transforms.themes import ThemeResult, classify_themes


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


def _check_meta(meta: Any) -> dict:
    if not isinstance(meta, dict):
        raise schema.ValidationError("source meta is not an object")
    level = meta.get("source_level")
    if level not in schema.SOURCE_LEVELS:
        raise schema.ValidationError(f"source meta source_level={level!r} not in vocabulary")
    return meta


class _Work:
    """One item on its way through the stages: its texts, what each extractor found, or why it failed."""

    item: dict
    source: str
    error: Exception | None
    title: str
    summary: str | None
    description: str | None
    eligibility_text: str | None
    deadline_text: str | None
    amount_text: str | None
    audience_labels: list[str]
    theme_labels: list[str]
    type_labels: list[str]
    body: str
    status_label: str | None
    cal: DeadlineInfo
    elig: Eligibility
    audiences: list[str]
    unmapped_audiences: list[str]
    themes: ThemeResult
    aid_types: list[str]
    unmapped_types: list[str]
    amounts: tuple[float | None, float | None]
    is_call: bool
    derived: dict[str, Any]

    def __init__(self, item: dict, source: str) -> None:
        self.item = item
        self.source = source
        self.error = None
        self.title = _text(item.get("title")) or ""
        self.summary = _text(item.get("summary"))
        self.description = _text(item.get("description"))
        self.eligibility_text = _text(item.get("eligibility_text"))
        self.deadline_text = _text(item.get("deadline_text"))
        self.amount_text = _text(item.get("amount_text"))
        self.audience_labels = _as_list(item.get("audience_labels"))
        self.theme_labels = _as_list(item.get("theme_labels"))
        self.type_labels = _as_list(item.get("type_labels"))
        self.body = "\n".join(t for t in (self.summary, self.description) if t)
        self.status_label = _text(item.get("status_label"))


def _calendar(w: _Work, text: str, as_of: date, strict: bool) -> DeadlineInfo:
    item = w.item
    return extract_deadlines(text, as_of=as_of, structured_deadlines=item.get("deadlines"),
                             structured_opens=item.get("opens_on"), status_label=w.status_label, strict=strict)


def _deadlines(w: _Work, as_of: date) -> None:
    cal = _calendar(w, w.deadline_text or w.body, as_of, not w.deadline_text)
    if cal.kind == "unknown" and w.deadline_text and w.body:
        # a deadline field that says nothing usable ("Ponctuelle"): read the description's deadline sentences
        fallback = _calendar(w, w.body, as_of, True)
        if fallback.kind != "unknown":
            fallback.flags.append("deadline_from_description")
            if YEAR_INFERRED in cal.flags and YEAR_INFERRED not in fallback.flags:
                fallback.flags.append(YEAR_INFERRED)  # the first reading's outcome depended on the date too
            cal = fallback
    w.cal = cal


def _eligibility(w: _Work, as_of: date) -> None:
    w.elig = eligibility_from_sources(w.eligibility_text, w.audience_labels, w.body)


def _audiences(w: _Work, as_of: date) -> None:
    audiences, w.unmapped_audiences = map_labels(w.source, "audiences", w.audience_labels)
    for a in w.elig.audiences:
        if a not in audiences:
            audiences.append(a)
    w.audiences = audiences


def _themes(w: _Work, as_of: date) -> None:
    w.themes = classify_themes({"title": w.title, "summary": w.summary, "description": w.description},
                               tags=w.theme_labels, source=w.source)


def _types(w: _Work, as_of: date) -> None:
    w.aid_types, w.unmapped_types = map_labels(w.source, "types", w.type_labels)


def _amounts(w: _Work, as_of: date) -> None:
    w.amounts = parse_amounts(w.amount_text or w.body)


def _is_call(w: _Work, as_of: date) -> None:
    w.is_call = is_call_for_projects(w.title, w.summary, w.description, w.item.get("is_call_label"),
                                     w.deadline_text)


#: the extractors, in the order they run; an item's first failure is its reason and skips the rest
_STAGES: Final = (("deadlines", _deadlines), ("eligibility", _eligibility), ("audiences", _audiences),
                  ("themes", _themes), ("types", _types), ("amounts", _amounts),
                  ("is_call_for_projects", _is_call))


def _failure(name: str, exc: Exception) -> schema.ValidationError:
    if isinstance(exc, schema.ValidationError):
        return exc
    error = schema.ValidationError(f"{name} failed: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


def _derived(w: _Work) -> dict[str, Any]:
    cal, elig, themes = w.cal, w.elig, w.themes
    unmapped: list[str] = []
    for label in (*w.unmapped_audiences, *themes.unmapped, *w.unmapped_types):
        if label not in unmapped:
            unmapped.append(label)
    amount_min, amount_max = w.amounts
    return {
        "title": w.title,
        "summary": w.summary,
        "description": w.description,
        "eligibility_text": w.eligibility_text,
        "deadline_text": w.deadline_text,
        "opens_on": cal.opens_on,
        "deadlines": cal.deadlines,
        "deadline_time": cal.time,
        "next_deadline": cal.next_deadline,
        "deadline_kind": cal.kind,
        "status": cal.status,
        "deadline_flags": cal.flags,
        "audiences": [a for a in schema.AUDIENCES if a in w.audiences],
        "ccas_eligibility": elig.cls,
        "ccas_evidence": elig.evidence,
        "ccas_rule": elig.rule,
        "themes": themes.themes,
        "categories": themes.categories,
        "theme_evidence": themes.evidence,
        "aid_types": w.aid_types,
        "amount_min": amount_min,
        "amount_max": amount_max,
        "is_call_for_projects": w.is_call,
        "unmapped_labels": unmapped,
    }


def _derive_into(works: list[_Work], as_of: date) -> None:
    """Run the stages over ``works``: each extractor over every item before the next extractor (its
    patterns and tables stay in the processor's caches), then fill ``derived``. An extractor's exception
    becomes the item's ``error`` (a ``ValidationError`` naming the extractor), never the batch's."""
    for name, stage in _STAGES:
        for w in works:
            if w.error is None:
                try:
                    stage(w, as_of)
                except Exception as exc:  # noqa: BLE001 — an extractor bug quarantines one item, never the run
                    w.error = _failure(name, exc)
    for w in works:
        if w.error is None:
            try:
                w.derived = _derived(w)
            except Exception as exc:  # noqa: BLE001
                w.error = exc


def _in_order(n: int, failed: dict[int, Exception], results: list[Any]) -> list[Any]:
    """``results`` (of the items that did not fail early) merged with ``failed`` (item index → exception)."""
    if not failed:
        return results
    out: list[Any] = []
    it = iter(results)
    for k in range(n):
        out.append(failed[k] if k in failed else next(it))
    return out


def derive(item: dict, source: str, as_of: date) -> dict[str, Any]:
    """Every field the extractors compute from a raw item's texts and labels, for ``aap classify``: the
    stages ``to_records`` runs over a batch, on one item. ``item`` uses raw field names; missing ones are
    treated as empty. Raises ``schema.ValidationError`` naming the extractor that failed."""
    work = _Work(item, source)
    _derive_into([work], as_of)
    if work.error is not None:
        raise work.error
    return work.derived


def _record(w: _Work, meta: dict) -> dict:
    item = w.item
    try:
        perimeter = resolve_perimeter(_text(item.get("perimeter_label")), meta.get("perimeter"))
    except schema.ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _failure("perimeter", exc) from exc
    native = item.get("native_id")
    native_id = str(native).strip() if native is not None and str(native).strip() else None
    url = str(item["url"]).strip()
    source = w.source
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
        **w.derived,
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


def to_records(items: list[Any], meta: Any, as_of: date) -> list[dict | Exception]:
    """The record of each item, in order, or what prevents it: a ``schema.ValidationError`` with the
    reason (the quarantine's), or the exception of a bug. One item's failure never touches the others."""
    works = []
    failed: dict[int, Exception] = {}
    for k, item in enumerate(items):
        try:
            schema.validate_raw(item)
            _check_meta(meta)
            works.append(_Work(item, str(item["source"]).strip()))
        except Exception as exc:  # noqa: BLE001
            failed[k] = exc
    _derive_into(works, as_of)
    results: list[dict | Exception] = []
    for w in works:
        if w.error is not None:
            results.append(w.error)
            continue
        try:
            results.append(_record(w, meta))
        except Exception as exc:  # noqa: BLE001
            results.append(exc)
    return _in_order(len(items), failed, results)


def to_record(item: Any, meta: Any, as_of: date) -> dict:
    """Build the record of one raw item; raises ``schema.ValidationError`` (quarantine reason)."""
    result = to_records([item], meta, as_of)[0]
    if isinstance(result, Exception):
        raise result
    return result
