"""The page store's data, without Scrapy: what each page gave at the last harvest, and the plan of the
last complete crawl (see :mod:`spiders.pagestore` for the crawl's side, :mod:`pipeline.revalidate` for a
rerun that asks the portal whether anything changed without starting Scrapy).

Nothing here imports Scrapy, so that a harvest process can read a store (a pickle of :class:`Page`) and
revalidate its pages on its own.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: request meta key marking a detail request whose ``cb_kwargs`` are the listing's card of the page
CARD = "aap_card"
#: bump when :class:`Page` or the plan changes: an older store is ignored (the next crawl is a full one)
FORMAT = 3
#: headers that make a request unfit to store (credentials)
SECRET_HEADERS = (b"Authorization", b"Proxy-Authorization", b"Cookie", b"X-Auth-Token", b"X-Api-Key")
#: response validator → the request header that sends it back
VALIDATORS = {b"ETag": b"If-None-Match", b"Last-Modified": b"If-Modified-Since"}


@dataclass
class Page:
    """What one page gave: validators, when last confirmed (epoch seconds; only read for a detail page, by
    :func:`unasked`), the request's arguments, the raw items (their JSONL lines) and the follow-up requests
    (as ``spiders.pagestore.request_data`` dicts, each with its request fingerprint under ``fp``)."""

    validators: dict[bytes, bytes]
    checked: float
    cb_kwargs: dict[str, Any]
    items: list[bytes] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


def age_limit(fp: bytes, max_age: float) -> float:
    """How long the detail page ``fp`` is re-emitted without asking the portal (from half the max age to all
    of it, drawn from the fingerprint, so that revalidations spread over several harvests)."""
    return max_age * (0.5 + fp[0] / 510)


def unasked(page: Page | None, cb_kwargs: dict[str, Any], fp: bytes, now: float, max_age: float) -> bool:
    """Whether a detail request (one with ``meta[CARD]``) is answered from the store without asking: its page
    is stored for the same card and was confirmed less than :func:`age_limit` ago."""
    return page is not None and page.cb_kwargs == cb_kwargs and now - page.checked < age_limit(fp, max_age)


def files_hash(files: list[str]) -> str:
    """Hash of the contents of ``files`` (the code the stored outputs were drawn with)."""
    digest = hashlib.sha256()
    for name in sorted(set(files)):
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()


class PageStore:
    """The pages of one source, loaded at the start of a crawl and written once at its end."""

    def __init__(self, path: Path, code: str = ""):
        self.path = path
        self.code = code
        self.old: dict[bytes, Page] = {}
        self.new: dict[bytes, Page] = {}
        self.dropped: set[bytes] = set()
        #: JSONL lines of the items re-emitted in this crawl (appended to the raw JSONL after the crawl)
        self.replayed: list[bytes] = []
        #: the crawl's first requests (``request_data`` dicts); None once one of them cannot be stored
        self.start: list[dict[str, Any]] | None = []
        try:
            with open(path, "rb") as fh:
                data = pickle.load(fh)
            if data.get("format") == FORMAT and data.get("code") == code:
                self.old = data["pages"]
        except FileNotFoundError:
            pass
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, KeyError, TypeError, ImportError):
            self.old = {}  # an unreadable store only costs a full crawl

    def get(self, fp: bytes) -> Page | None:
        if fp in self.dropped:
            return None
        return self.new.get(fp) or self.old.get(fp)

    def put(self, fp: bytes, page: Page) -> None:
        self.dropped.discard(fp)
        self.new[fp] = page

    def keep(self, fp: bytes, page: Page) -> None:
        """The page is still listed (kept as stored, its ``checked`` time unchanged)."""
        self.new.setdefault(fp, page)

    def drop(self, fp: bytes) -> None:
        self.dropped.add(fp)
        self.new.pop(fp, None)

    def save(self, complete: bool, plan: dict[str, Any] | None = None) -> None:
        """Write the pages seen in this crawl; after an incomplete crawl, also those it did not reach. The
        ``plan`` of a complete crawl (see :func:`read_plan`) is written next to the store; any other crawl
        removes the old one."""
        pages = dict(self.new) if complete else {**{k: v for k, v in self.old.items() if k not in self.dropped},
                                                 **self.new}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        plan_file = plan_path(self.path)
        plan_file.unlink(missing_ok=True)  # never a plan next to a store it does not describe
        _write(self.path, {"format": FORMAT, "code": self.code, "pages": pages})
        if complete and plan is not None:
            stat = self.path.stat()
            _write(plan_file, {**plan, "format": FORMAT, "code": self.code,
                               "store": [stat.st_size, stat.st_mtime_ns]})


def _write(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def plan_path(store: Path) -> Path:
    return store.with_name(store.stem + ".plan")


def read_plan(store: Path) -> dict[str, Any] | None:
    """The plan of the crawl that wrote ``store``, or None (no complete crawl since, another format, or a
    store written after it). A plan holds what a crawl needs to be replayed without Scrapy: ``key`` (the
    crawl's arguments, ``pipeline.crawl.crawl_key``), ``files`` and ``code`` (the spider's code),
    ``start`` (the first requests), ``headers`` (those every request carried), ``robots`` (robots.txt
    obeyed), ``delay`` (seconds between two requests to a host), ``concurrency`` (requests at once to a
    host), ``timeout`` and ``max_age`` (seconds), ``empty_ok`` (the source may list nothing)."""
    try:
        with open(plan_path(store), "rb") as fh:
            plan = pickle.load(fh)
        stat = store.stat()
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None
    if not isinstance(plan, dict) or plan.get("format") != FORMAT or plan.get("store") != [stat.st_size,
                                                                                           stat.st_mtime_ns]:
        return None
    return plan
