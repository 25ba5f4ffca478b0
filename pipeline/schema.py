"""The one record schema of aap and its closed vocabularies.

Two shapes travel through the pipeline:

* a **raw item** (``RAW_FIELDS``) is what a spider writes to JSONL: the source's own words, verbatim,
  plus a few structured values the portal gives directly (dates, labels);
* a **record** (``RECORD_FIELDS``) is what transforms produce and the warehouse stores.

Everything else (transforms, warehouse columns, exports, checks) refers to the names defined here.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from json.encoder import encode_basestring
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# --- closed vocabularies -------------------------------------------------------------------------

SOURCE_LEVELS: Final = ("europe", "national", "regional", "departmental", "local")
PLATFORMS: Final = ("sedia", "at_format", "opendatasoft", "rss_detail", "html_list_detail", "json_api")
DEADLINE_KINDS: Final = ("single", "multiple", "rolling", "unknown")
STATUSES: Final = ("forthcoming", "open", "closing_soon", "closed", "rolling", "unknown")
#: calls that vanished from their source's feed; set by the warehouse only, never by transforms
WAREHOUSE_STATUSES: Final = STATUSES + ("withdrawn",)
CCAS_CLASSES: Final = ("explicit", "likely", "via_commune", "not_eligible", "unknown")
#: Aides-territoires audiences, plus our own ``ccas`` and ``cias``
AUDIENCES: Final = (
    "commune", "epci", "department", "region", "special", "association", "private_person", "farmer",
    "private_sector", "public_cies", "public_org", "researcher", "ccas", "cias",
)
AID_TYPES: Final = (
    "grant", "loan", "recoverable_advance", "cee", "other", "technical_engineering",
    "financial_engineering", "legal_engineering",
)
THEMES: Final = (
    "solidarites-lien-social", "urbanisme-logement-amenagement", "culture-patrimoine-sports",
    "nature-environnement-risques", "developpement-economique", "mobilite-transports",
    "energies-dechets", "eau-milieux-aquatiques", "fonctions-support",
)
PERIMETER_SCALES: Final = ("europe", "national", "region", "department", "epci", "commune", "other")
CLOSING_SOON_DAYS: Final = 14

# --- raw items (spider output) -------------------------------------------------------------------

#: fields a spider may set; ``source``, ``native_id``, ``url`` and ``title`` are required
RAW_FIELDS: Final = (
    "source",            # spider name
    "native_id",         # the portal's own identifier (or None: the canonical URL is hashed)
    "url",               # canonical public URL of the call (the live portal's, even in demo mode)
    "application_url",   # where to apply, when given
    "title",
    "summary",
    "description",       # plain text
    "eligibility_text",  # verbatim "who may apply" text
    "deadline_text",     # verbatim deadline wording
    "opens_on",          # structured opening date from the portal (ISO), if any
    "deadlines",         # structured deadlines from the portal (ISO dates or datetimes), if any
    "status_label",      # the portal's own status word ("Open", "Clôturé"), if any
    "funder",
    "programme",
    "perimeter_label",   # the portal's wording of the area covered
    "audience_labels",   # the portal's labels for who may apply
    "theme_labels",      # the portal's theme/category tags
    "type_labels",       # the portal's aid type labels
    "amount_text",       # verbatim amount wording
    "is_call_label",     # portal's own AAP/AMI flag, when it has one (bool)
    "fetched_at",        # ISO datetime of the response
    "raw",               # the source record as received (dict), or the relevant page fragment
)
RAW_REQUIRED: Final = ("source", "url", "title")
_RAW_FIELD_SET: Final = frozenset(RAW_FIELDS)

# --- records (transform output, warehouse input) -------------------------------------------------

RECORD_FIELDS: Final = (
    "id", "source", "source_level", "native_id", "url", "application_url", "title", "summary",
    "description", "eligibility_text", "deadline_text", "funder", "programme",
    "perimeter_scale", "perimeter_regions", "perimeter_departments", "perimeter_label",
    "opens_on", "deadlines", "deadline_time", "next_deadline", "deadline_kind", "status",
    "deadline_flags", "audiences", "ccas_eligibility", "ccas_evidence", "ccas_rule",
    "themes", "categories", "theme_evidence", "aid_types", "amount_min", "amount_max",
    "is_call_for_projects", "unmapped_labels", "content_hash", "calendar_hash", "raw",
)
#: fields whose change is a *calendar* change (versioned, not flagged)
CALENDAR_FIELDS: Final = ("opens_on", "deadlines", "deadline_time", "deadline_kind")
#: fields whose change is a *content* change (versioned and flagged)
CONTENT_FIELDS: Final = (
    "url", "application_url", "title", "summary", "description", "eligibility_text", "deadline_text",
    "funder", "programme", "perimeter_scale", "perimeter_regions", "perimeter_departments",
    "perimeter_label", "audiences", "ccas_eligibility", "themes", "categories", "aid_types",
    "amount_min", "amount_max", "is_call_for_projects",
)
#: fields every stored record must have non-empty (quarantine otherwise)
REQUIRED_FIELDS: Final = ("id", "source", "source_level", "url", "title", "deadline_kind", "status",
                          "ccas_eligibility", "funder", "perimeter_scale")


class ValidationError(ValueError):
    """A record that cannot be stored; the message is the quarantine reason."""


# --- identity and hashing -------------------------------------------------------------------------

_TRACKING: Final = re.compile(r"^(utm_|xtor$|fbclid$|gclid$|mc_)")


#: an http(s) URL with a plain host, no port, user, query or fragment: its canonical form needs no parsing
_PLAIN_URL: Final = re.compile(r"https?://([A-Za-z0-9.-]+)(/[^?#@\s\x00-\x1f\x7f]*)?")


def compute_status(kind: str, deadlines: list[str] | list[date], opens_on: str | date | None,
                   now: date) -> str:
    """Status against ``now``: forthcoming before opening; closed after the last deadline; closing_soon
    within ``CLOSING_SOON_DAYS`` days of the next deadline (the deadline day itself included);
    rolling for calls without deadlines that stay open; unknown otherwise."""
    today = now.isoformat() if isinstance(now, date) else str(now)
    opens = opens_on.isoformat() if isinstance(opens_on, date) else opens_on
    if opens and today < opens:
        return "forthcoming"
    days = sorted(d.isoformat() if isinstance(d, date) else str(d) for d in deadlines or [])
    if days:
        upcoming = [d for d in days if d >= today]
        if not upcoming:
            return "closed"
        delta = (date.fromisoformat(upcoming[0]) - date.fromisoformat(today)).days
        return "closing_soon" if delta <= CLOSING_SOON_DAYS else "open"
    if kind == "rolling":
        return "rolling"
    return "unknown"


def canonical_url(url: str) -> str:
    """Canonical form of a URL: https, lower-case host, no fragment, no tracking parameters,
    sorted query, no trailing slash (except the root)."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain and not _is_loopback(plain.group(1).lower()):
        path = plain.group(2) or "/"
        return "https://" + plain.group(1).lower() + (path.rstrip("/") if len(path) > 1 else path)
    parts = urlsplit(url.strip())
    scheme = "https" if parts.scheme in ("http", "https") and not _is_loopback(parts.hostname) else parts.scheme
    host = (parts.hostname or "").lower()
    netloc = host + (f":{parts.port}" if parts.port and parts.port not in (80, 443) else "")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k)))
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    return urlunsplit((scheme, netloc, path, query, ""))


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    return host == "localhost" or host.startswith("127.") or host == "::1"


_INF: Final = float("inf")
#: JSON of a text, without ASCII escapes (a constant: the compiled module reads it without a dict lookup)
_encode_text: Final = encode_basestring


def _json_text(value: Any) -> str | None:
    """``json.dumps(value, ensure_ascii=False)`` of text, numbers, None and lists or tuples of them,
    written directly (the encoder's set-up costs more than a record's fields); None for any other value."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is str:
        return _encode_text(value)
    if kind is float:
        if value != value:
            return "NaN"
        if value in (_INF, -_INF):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    if kind is int:
        return int.__repr__(value)
    if kind is list or kind is tuple:
        items = []
        for item in value:
            text = _json_text(item)
            if text is None:
                return None
            items.append(text)
        return f"[{', '.join(items)}]"
    return None


def short_hash(*parts: Any, length: int = 16) -> str:
    """Hex SHA-256 of the JSON of ``parts`` (keys sorted, text kept as it is, other objects as ``str``)."""
    payload = _json_text(parts)
    if payload is None:
        payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:length]


def record_id(source: str, native_id: str | None, url: str) -> str:
    """Stable id: ``source:native-id``, or ``source:`` + hash of the canonical URL. Never a row number."""
    if native_id is not None and str(native_id).strip():
        return f"{source}:{str(native_id).strip()}"
    return f"{source}:{short_hash(canonical_url(url))}"


def content_hash(record: dict[str, Any]) -> str:
    return short_hash(*(record.get(f) for f in CONTENT_FIELDS), length=32)


def calendar_hash(record: dict[str, Any]) -> str:
    return short_hash(*(record.get(f) for f in CALENDAR_FIELDS), length=32)


# --- validation -----------------------------------------------------------------------------------

_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def validate_raw(item: Any) -> None:
    """Raise ValidationError if a raw item cannot even be transformed."""
    if not isinstance(item, dict):
        raise ValidationError(f"raw item is {type(item).__name__}, not an object")
    missing = [f for f in RAW_REQUIRED if not str(item.get(f) or "").strip()]
    if missing:
        raise ValidationError(f"raw item lacks {', '.join(missing)}")
    if not _RAW_FIELD_SET.issuperset(item):
        unknown = sorted(set(item) - _RAW_FIELD_SET)
        raise ValidationError(f"raw item has unknown fields {', '.join(unknown)}")


#: single-valued fields and their vocabularies (as sets: a value is looked up, not compared with each)
_VOCABULARIES: Final[tuple[tuple[str, frozenset[str]], ...]] = tuple((f, frozenset(v)) for f, v in (
    ("source_level", SOURCE_LEVELS), ("deadline_kind", DEADLINE_KINDS), ("status", STATUSES),
    ("ccas_eligibility", CCAS_CLASSES), ("perimeter_scale", PERIMETER_SCALES),
))
#: list fields and the vocabulary of their values
_LIST_VOCABULARIES: Final[tuple[tuple[str, frozenset[str]], ...]] = tuple((f, frozenset(v)) for f, v in (
    ("audiences", AUDIENCES), ("themes", THEMES), ("aid_types", AID_TYPES)))


def validate_record(rec: dict[str, Any]) -> None:
    """Raise ValidationError naming every problem of a record."""
    problems: list[str] = []
    for f in REQUIRED_FIELDS:
        value = rec.get(f)
        if value is None or (isinstance(value, (str, list)) and not value):  # None, "" or []
            problems.append(f"{f} is empty")
    for field, vocab in _VOCABULARIES:
        value = rec.get(field)
        if value is not None and value != "" and (not isinstance(value, str) or value not in vocab):
            problems.append(f"{field}={value!r} not in vocabulary")
    for field, vocab in _LIST_VOCABULARIES:
        bad = [v for v in rec.get(field) or [] if not isinstance(v, str) or v not in vocab]
        if bad:
            problems.append(f"{field} has unknown values {bad}")
    for field in ("opens_on", "next_deadline"):
        v = rec.get(field)
        if v is not None and not _ISO_DATE.match(str(v)):
            problems.append(f"{field}={v!r} is not an ISO date")
    for d in rec.get("deadlines") or []:
        if not _ISO_DATE.match(str(d)):
            problems.append(f"deadline {d!r} is not an ISO date")
    amounts: list[Any] = []  # ints or floats
    for field in ("amount_min", "amount_max"):
        v = rec.get(field)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
            problems.append(f"{field}={v!r} is not a non-negative amount")
        else:
            amounts.append(v)
    if len(amounts) == 2 and amounts[0] > amounts[1]:
        problems.append("amount_min > amount_max")
    url = str(rec.get("url") or "")
    if url and not url.startswith(("http://", "https://")):
        problems.append(f"url {url!r} is not http(s)")
    if problems:
        raise ValidationError("; ".join(problems))


#: list-valued record fields (stored as VARCHAR[]; ``deadlines`` as DATE[])
LIST_FIELDS: Final = ("deadlines", "audiences", "themes", "categories", "aid_types", "perimeter_regions",
                      "perimeter_departments", "deadline_flags", "unmapped_labels")
#: structured record fields (objects or lists), stored as JSON
JSON_FIELDS: Final = ("theme_evidence", "raw")
#: text record fields (``native_id`` may also be a number: it is stored as text)
TEXT_FIELDS: Final = tuple(f for f in RECORD_FIELDS
                           if f not in LIST_FIELDS + JSON_FIELDS
                           + ("native_id", "amount_min", "amount_max", "is_call_for_projects"))
_FIELD_SET: Final = frozenset(RECORD_FIELDS)
#: a hash as the transforms write it: 32 lower-case hexadecimal digits
_HASH: Final = re.compile(r"[0-9a-f]{32}")


def record_problem(rec: dict[str, Any]) -> str | None:
    """Why a record cannot be stored, or None: its fields, then :func:`value_problem`."""
    if rec.keys() != _FIELD_SET:
        missing = [f for f in RECORD_FIELDS if f not in rec]
        unknown = sorted(set(rec) - _FIELD_SET)
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown {', '.join(unknown)}"] if unknown else [])
        return "record fields: " + "; ".join(parts)
    return value_problem(rec)


def value_problem(rec: dict[str, Any]) -> str | None:
    """Why the values of a record that has exactly the fields of ``RECORD_FIELDS`` cannot be stored, or
    None: :func:`validate_record`, the type of each field (as the warehouse stores it), its hashes and
    dates. ``to_record``, which builds its records field by field, runs it on every record it makes."""
    try:
        validate_record(rec)
    except ValidationError as exc:
        return str(exc)
    for f in TEXT_FIELDS:
        value = rec[f]
        if value is not None and not isinstance(value, str):
            return f"{f} is {type(value).__name__}, not text"
    for f in LIST_FIELDS:
        value = rec[f]
        if value and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            return f"{f} is not a list of text"
    if rec["is_call_for_projects"] is not None and not isinstance(rec["is_call_for_projects"], bool):
        return "is_call_for_projects is not a boolean"
    for f in JSON_FIELDS:
        if rec[f] is not None and not isinstance(rec[f], (dict, list)):
            return f"{f} is {type(rec[f]).__name__}, not a JSON object or list"
    for f in ("content_hash", "calendar_hash"):
        if not isinstance(rec[f], str) or _HASH.fullmatch(rec[f]) is None:
            return f"{f} {rec[f]!r} is not a hash computed by the transforms"
    for value in [rec["opens_on"], rec["next_deadline"], *(rec["deadlines"] or [])]:
        if value is not None:
            try:
                date.fromisoformat(str(value))
            except ValueError:
                return f"{value!r} is not a calendar date"
    return None
