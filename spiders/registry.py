"""Every source spider of aap, discovered from ``spiders.sources``."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

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


def get_spider(name: str) -> type[AapSpider]:
    spiders = all_spiders()
    if name not in spiders:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(spiders)}")
    return spiders[name]
