"""What a version of a call keeps, and how a change between two versions is described to people."""

from __future__ import annotations

from typing import Any

from pipeline import schema

#: how fields are named in change descriptions
_LABELS = {
    "url": "link", "application_url": "application link", "title": "title", "summary": "summary",
    "description": "description", "eligibility_text": "eligibility text", "deadline_text": "deadline wording",
    "funder": "funder", "programme": "programme", "perimeter_scale": "perimeter scale",
    "perimeter_regions": "regions", "perimeter_departments": "departments", "perimeter_label": "perimeter",
    "audiences": "audiences", "ccas_eligibility": "CCAS eligibility", "themes": "themes",
    "categories": "categories", "aid_types": "aid types", "amount_min": "minimum amount",
    "amount_max": "maximum amount", "is_call_for_projects": "call-for-projects flag",
    "opens_on": "opening date", "deadline_time": "deadline time", "deadline_kind": "deadline kind",
}
#: fields whose old and new values are shown (short, meaningful values); free text is quoted
_SHOW_VALUES = ("title", "funder", "programme", "perimeter_scale", "perimeter_label", "ccas_eligibility",
                "amount_min", "amount_max", "is_call_for_projects", "deadline_time", "deadline_kind",
                "url", "application_url", "opens_on")
_QUOTED = ("title", "funder", "programme", "perimeter_label")


_VERSIONED = schema.CONTENT_FIELDS + schema.CALENDAR_FIELDS


def record_sql(alias: str) -> str:
    """SQL for the version record of the ``calls`` row ``alias``: its content and calendar fields as one
    JSON object, keys sorted (dates as ISO text; every versioned field is a scalar or a flat list)."""
    fields = ", ".join(f'"{f}" := {alias}."{f}"' for f in sorted(_VERSIONED))
    return f"to_json(struct_pack({fields}))"


def describe_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[str, str]:
    """``(change_kind, text)`` between two version records: kind is content, calendar or both; the text
    lists each change, calendar first, e.g. "deadline moved from 2026-01-15 to 2026-02-01"."""
    if old is None:
        return "both", "changed (previous version unavailable)"
    calendar = [_describe(f, old.get(f), new.get(f)) for f in schema.CALENDAR_FIELDS
                if old.get(f) != new.get(f)]
    content = [_describe(f, old.get(f), new.get(f)) for f in schema.CONTENT_FIELDS
               if old.get(f) != new.get(f)]
    kind = "both" if calendar and content else "calendar" if calendar else "content"
    return kind, "; ".join(calendar + content) or "changed"


def _describe(f: str, old: Any, new: Any) -> str:
    if f == "deadlines":
        return _describe_deadlines(list(old or []), list(new or []))
    label = _LABELS[f]
    if isinstance(old, list) or isinstance(new, list):
        added = [v for v in new or [] if v not in (old or [])]
        removed = [v for v in old or [] if v not in (new or [])]
        parts = ([f"added {', '.join(map(str, added))}"] if added else []) + (
            [f"removed {', '.join(map(str, removed))}"] if removed else [])
        return f"{label} changed: " + ("; ".join(parts) or "reordered")
    if f in _SHOW_VALUES:
        quoted = f in _QUOTED
        if old in (None, ""):
            return f"{label} set to {_show(new, quoted)}"
        if new in (None, ""):
            return f"{label} removed (was {_show(old, quoted)})"
        verb = "moved" if f == "opens_on" else "changed"
        return f"{label} {verb} from {_show(old, quoted)} to {_show(new, quoted)}"
    return f"{label} changed"


def _describe_deadlines(old: list[str], new: list[str]) -> str:
    if len(old) == 1 and len(new) == 1:
        return f"deadline moved from {old[0]} to {new[0]}"
    if not old:
        return f"deadline{'s' if len(new) > 1 else ''} set to {', '.join(new)}"
    if not new:
        return f"deadline{'s' if len(old) > 1 else ''} {', '.join(old)} removed"
    added = [d for d in new if d not in old]
    removed = [d for d in old if d not in new]
    parts = ([f"added {', '.join(added)}"] if added else []) + (
        [f"removed {', '.join(removed)}"] if removed else [])
    return "deadlines changed: " + "; ".join(parts)


def _show(value: Any, quoted: bool) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if quoted:
        return '"' + (text if len(text) <= 80 else text[:77] + "...") + '"'
    return text
