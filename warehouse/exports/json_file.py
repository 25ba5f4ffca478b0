"""JSON: the digest with its sections and theme groups; dates in ISO form."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from warehouse.exports.digest import Digest, dumps


def as_dict(digest: Digest) -> dict:
    return {
        "title": digest.title, "week": digest.week, "start": digest.start, "end": digest.end,
        "reference": digest.reference, "generated_at": digest.generated_at, "filters": digest.filters,
        "sections": [{"key": s.key, "title": s.title,
                      "groups": [{"theme": g.theme, "label": g.label, "items": [asdict(i) for i in g.items]}
                                 for g in s.groups]}
                     for s in digest.sections],
    }


def write(digest: Digest, path: Path) -> Path:
    path.write_text(dumps(as_dict(digest)) + "\n", encoding="utf-8")
    return path
