"""Helpers of the reliability tests: run real spiders over the synthetic portal, hash warehouse state."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Request
from scrapy.responsetypes import responsetypes

from pipeline.synthetic import SyntheticPortal

HOST = "http://synthetic.test"


def spider_items(portal: SyntheticPortal, source: str, *, limit: int = 5000) -> list[dict[str, Any]]:
    """Every raw item the real ``source`` spider yields over ``portal``, answered in memory (no reactor,
    no socket, no retries): checks that the synthetic pages have the shapes the spider parses."""
    from spiders.registry import get_spider

    spider = get_spider(source)(base_url=f"{HOST}/{source}")
    queue: list[Request] = list(spider.first_requests())
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    while queue and len(seen) < limit:
        req = queue.pop(0)
        if req.url in seen:
            continue
        seen.add(req.url)
        parts = urlsplit(req.url)
        reply = portal.resolve(req.method, parts.path, parts.query, {})
        if reply.status != 200:
            continue
        cls = responsetypes.from_args(headers=reply.headers, url=req.url, body=reply.body)
        response = cls(url=req.url, status=200, headers=reply.headers, body=reply.body, request=req)
        for out in (req.callback or spider.parse)(response, **(req.cb_kwargs or {})) or ():
            if isinstance(out, scrapy.Request):
                queue.append(out)
            else:
                items.append(dict(out))
    return items


def state_hash(db_path: Path) -> str:
    """SHA-256 over the ``calls`` table ordered by id, every column included: two warehouses that hold
    the same calls in the same state have the same hash."""
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        cur = con.execute("SELECT * FROM calls ORDER BY id")
        columns = [d[0] for d in cur.description]
        digest = hashlib.sha256(json.dumps(columns).encode())
        for row in cur.fetchall():
            digest.update(json.dumps(row, default=str, sort_keys=True, ensure_ascii=False).encode())
            digest.update(b"\n")
    finally:
        con.close()
    return digest.hexdigest()
