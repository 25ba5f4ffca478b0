"""Drive a spider over its saved fixtures with no reactor and no network.

Each request the spider yields is answered by :class:`pipeline.portal.FixtureRoutes` (the same routing the
demo portal serves over HTTP), turned into a Scrapy response, and passed to its callback. Used by spider
parse tests and by the per-field validity test over every source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Request
from scrapy.responsetypes import responsetypes
from scrapy.utils.request import RequestFingerprinter

from pipeline.portal import FixtureRoutes
from pipeline.settings import FIXTURES_DIR

PORTAL = "http://portal.test"


@dataclass
class OfflineCrawl:
    items: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def crawl_offline(spider_cls: type, *, fixtures_dir: Path = FIXTURES_DIR, overlay_dirs: Iterable[Path] = (),
                  faults: dict[str, int] | None = None, raise_errors: bool = True, max_requests: int = 1000,
                  **spider_kwargs: Any) -> OfflineCrawl:
    """Run ``spider_cls`` against its fixtures; raise the first callback error unless ``raise_errors``
    is False (then errors are collected)."""
    routes = FixtureRoutes(fixtures_dir, overlay_dirs=overlay_dirs, faults=faults)
    spider = spider_cls(base_url=f"{PORTAL}/{spider_cls.name}", **spider_kwargs)
    fingerprinter = RequestFingerprinter()
    seen: set[bytes] = set()
    queue: list[Request] = list(spider.first_requests())
    out = OfflineCrawl()
    while queue and len(out.requests) < max_requests:
        req = queue.pop(0)
        fp = fingerprinter.fingerprint(req)
        if fp in seen and not req.dont_filter:
            continue
        seen.add(fp)
        parts = urlsplit(req.url)
        headers = {k.decode(): b",".join(v).decode() for k, v in req.headers.items()}
        status, resp_headers, body = routes.resolve(req.method, parts.path, parts.query, headers)
        out.requests.append(f"{req.method} {req.url}")
        out.statuses.append(status)
        if status >= 400 and status not in (req.meta.get("handle_httpstatus_list") or []):
            continue
        cls = responsetypes.from_args(headers=resp_headers, url=req.url, body=body)
        response = cls(url=req.url, status=status, headers=resp_headers, body=body, request=req)
        callback = req.callback or spider.parse
        try:
            for result in callback(response, **(req.cb_kwargs or {})) or ():
                if isinstance(result, scrapy.Request):
                    queue.append(result)
                elif isinstance(result, dict):
                    out.items.append(result)
        except Exception as exc:
            if raise_errors:
                raise
            out.errors.append(exc)
    return out
