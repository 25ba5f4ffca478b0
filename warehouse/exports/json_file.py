"""JSON: the digest with its sections and theme groups; dates in ISO form."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from warehouse.exports.digest import Digest, DigestItem, dumps

_ITEM_FIELDS = tuple(f.name for f in fields(DigestItem))


def as_dict(digest: Digest) -> dict:
    return {
        "title": digest.title, "week": digest.week, "start": digest.start, "end": digest.end,
        "reference": digest.reference, "generated_at": digest.generated_at, "filters": digest.filters,
        "sections": [{"key": s.key, "title": s.title,
                      "groups": [{"theme": g.theme, "label": g.label, "items": [_item(i) for i in g.items]}
                                 for g in s.groups]}
                     for s in digest.sections],
    }


def _item(item: DigestItem) -> dict:
    """The item's fields (``dataclasses.asdict`` would deep-copy every value first)."""
    return {name: getattr(item, name) for name in _ITEM_FIELDS}


def write(digest: Digest, path: Path) -> Path:
    path.write_text(dumps(as_dict(digest)) + "\n", encoding="utf-8")
    return path
