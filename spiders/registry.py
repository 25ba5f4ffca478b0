"""Every source spider of aap, discovered from ``spiders.sources``."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

from spiders.base import AapSpider


@cache
def all_spiders() -> dict[str, type[AapSpider]]:
    """Map source slug → spider class, sorted by level then name."""
    import spiders.sources as pkg

    found: dict[str, type[AapSpider]] = {}
    for mod in pkgutil.iter_modules(pkg.__path__):
        module = importlib.import_module(f"{pkg.__name__}.{mod.name}")
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, AapSpider) and obj.__module__ == module.__name__
                    and getattr(obj, "name", None)):
                found[obj.name] = obj
    order = {"europe": 0, "national": 1, "regional": 2, "departmental": 3, "local": 4}
    return dict(sorted(found.items(), key=lambda kv: (order.get(kv[1].source_level, 9), kv[0])))


def meta(cls: type[AapSpider]) -> dict[str, Any]:
    """What the transforms need to know of a source (its records depend on it), as JSON values."""
    return {"source_level": cls.source_level, "funder": cls.funder, "perimeter": dict(cls.perimeter),
            "platform": cls.platform}


def catalogue() -> dict[str, dict[str, Any]]:
    """Source slug → :func:`meta`, in :func:`all_spiders` order (sent by the crawl server to a harvest,
    which then needs no Scrapy of its own)."""
    return {name: meta(cls) for name, cls in all_spiders().items()}


def get_spider(name: str) -> type[AapSpider]:
    spiders = all_spiders()
    if name not in spiders:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(spiders)}")
    return spiders[name]
