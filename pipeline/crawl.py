"""One Scrapy crawl per OS process.

``python -m pipeline.crawl --source S --out raw.jsonl --stats stats.json [--base-url URL]`` runs one
spider and writes its raw items (JSON Lines) and a stats file. :func:`run_crawl` runs the same in a
child process (a fork of :mod:`pipeline.crawlserver`, which has Scrapy imported already) and returns the
stats: a second crawl in one process would raise ReactorNotRestartable, and a crawl off the main thread
fails on signal handlers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: ``finish_reason`` of a source revalidated without a crawl (:mod:`pipeline.revalidate`)
REVALIDATED = "revalidated"


@dataclass
class CrawlResult:
    """What one crawl did; ``ok`` is False when the source must not count as a successful harvest."""

    source: str
    ok: bool
    items: int = 0
    requests: int = 0
    responses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failed_urls: list[str] = field(default_factory=list)
    bytes_downloaded: int = 0
    #: pages the portal confirmed unchanged (304) and that were not parsed again; detail pages not asked
    #: for (card unchanged, confirmed recently); items re-emitted from the page store (see spiders.pagestore)
    pages_unchanged: int = 0
    details_not_asked: int = 0
    items_replayed: int = 0
    duration_s: float = 0.0
    started_at: str = ""
    finished_at: str = ""
    finish_reason: str = ""
    reason: str = ""
    out: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: Path) -> None:
        """The crawl's statistics file (read back by :func:`run_crawl`)."""
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")


def store_path(out: Path, source: str) -> Path:
    """The page store of the crawl of ``source`` whose raw JSONL is ``out`` (``spiders.pagestore``)."""
    return Path(out).resolve().parent / "pages" / f"{source}.pickle"


def crawl_key(source: str, base_url: str | None, settings: dict[str, Any] | None) -> str:
    """What a crawl's outcome depends on besides the portal and the code: its source, portal address and
    setting overrides. A plan (``spiders.pages.read_plan``) is only replayed for the same key."""
    text = json.dumps([source, base_url or "", settings or {}], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def run_crawl(source: str, out: Path, *, base_url: str | None = None, timeout: float = 600,
              settings: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> CrawlResult:
    """Crawl ``source`` in a child process; never raises for a failing source. The child is a fork of
    :mod:`pipeline.crawlserver`, which has Scrapy and the spiders imported already; its output (and any
    traceback) goes to the log file next to the raw output. First, when the last complete crawl left a plan
    for the same arguments, the source is revalidated without Scrapy (:mod:`pipeline.revalidate`): while
    every page answers 304 that is the whole crawl, otherwise the crawl follows (the log file says why)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stats_path = out.with_suffix(".stats.json")
    log_path = out.with_suffix(".log")
    for p in (out, stats_path, log_path):  # Scrapy appends to an existing log file
        p.unlink(missing_ok=True)
    started = time.monotonic()
    key = crawl_key(source, base_url, settings)
    walk = None
    if "AAP_PAGE_STORE" not in (settings or {}):  # (a crawl with a store of its own, or none, is never replayed)
        from pipeline.revalidate import revalidate

        walk = revalidate(source, out, store_path(out, source), key)
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{'revalidated without a crawl' if walk.result else 'not revalidated, crawled'}: {walk.why}\n")
        if walk.result is not None:
            walk.result.save(stats_path)
            return walk.result
    result = _crawl_child(source, out, base_url, settings, env, key, timeout, started)
    if walk is not None:
        walk.add_to(result)
    return result


def _crawl_child(source: str, out: Path, base_url: str | None, settings: dict[str, Any] | None,
                 env: dict[str, str] | None, key: str, timeout: float, started: float) -> CrawlResult:
    """The crawl in a child process (see :func:`run_crawl`)."""
    stats_path = out.with_suffix(".stats.json")
    log_path = out.with_suffix(".log")
    argv = ["--source", source, "--out", str(out), "--stats", str(stats_path), "--log", str(log_path)]
    if base_url:
        argv += ["--base-url", base_url]
    for k, v in {**(settings or {}), "AAP_CRAWL_KEY": key}.items():
        argv += ["--set", f"{k}={json.dumps(v)}"]
    child_env = {**os.environ, **(env or {})}
    if hasattr(os, "fork"):
        from pipeline import crawlserver

        code = crawlserver.run(argv, child_env, str(log_path), timeout)
    else:
        with open(log_path, "ab") as log:
            try:
                code = subprocess.run([sys.executable, "-m", "pipeline.crawl", *argv], stdout=log, stderr=log,
                                      timeout=timeout, env=child_env).returncode
            except subprocess.TimeoutExpired:
                code = None
    if code is None:
        return CrawlResult(source, ok=False, reason=f"crawl timed out after {timeout:.0f}s",
                           duration_s=time.monotonic() - started, out=str(out))
    if stats_path.is_file():
        data = json.loads(stats_path.read_text(encoding="utf-8"))
        return CrawlResult(**data)
    text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.is_file() else ""
    tail = text.strip().splitlines()[-5:]
    return CrawlResult(source, ok=False, reason=f"crawl process exited {code}: " + " | ".join(tail),
                       duration_s=time.monotonic() - started, out=str(out))


def import_scrapy_first() -> None:
    """Import Scrapy's TLS context factory from a shallow call stack, before anything else of Scrapy: on
    import that module defines three deprecated aliases, and each one walks the whole call stack with
    inspect.stack(), reading every frame's source file. Imported from deep inside the crawler's start-up
    (through the download handler) that cost ~0.3 s of every crawl process."""
    import scrapy.core.downloader.contextfactory  # noqa: F401


def _crawl_in_this_process(source: str, out: Path, stats_path: Path, log_path: Path | None,
                           base_url: str | None, overrides: dict[str, Any]) -> CrawlResult:
    import_scrapy_first()
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    import spiders.settings as project_settings
    from spiders.demo import DEMO_SETTINGS
    from spiders.registry import get_spider

    spider_cls = get_spider(source)
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    if base_url:
        settings.update(DEMO_SETTINGS, priority="project")
    settings.set("FEEDS", {str(out): {"format": "jsonlines", "encoding": "utf-8", "overwrite": True}})
    # the page store (validators + what each page gave) lives next to the raw output, one file per source
    settings.set("AAP_PAGE_STORE", str(store_path(out, source)))
    if log_path:
        settings.set("LOG_FILE", str(log_path))
    for k, v in overrides.items():
        settings.set(k, v, priority="cmdline")

    errors: list[str] = []

    def on_spider_error(failure: Any, response: Any, spider: Any) -> None:
        errors.append(f"{failure.type.__name__}: {failure.getErrorMessage()} ({response.url})")

    def on_item_error(item: Any, response: Any, spider: Any, failure: Any) -> None:
        errors.append(f"item error: {failure.getErrorMessage()}")

    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    # Scrapy's root handler writes to LOG_FILE when one is given (to stderr otherwise)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider_cls)
    # Scrapy leaves its loggers at NOTSET and filters in the handler: a debug record ("Scraped from …",
    # "Crawled (200) …") would still be built for every item and page, then dropped
    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL") or "DEBUG")
    crawler.signals.connect(on_spider_error, signals.spider_error)
    crawler.signals.connect(on_item_error, signals.item_error)
    kwargs = {"base_url": base_url} if base_url else {}
    process.crawl(crawler, **kwargs)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    # items re-emitted from the page store join the raw JSONL once Scrapy has closed its feed
    store = getattr(crawler, "aap_page_store", None)
    if store is not None and store.replayed:
        with open(out, "ab") as fh:
            fh.writelines(store.replayed)

    responses = {k.rsplit("/", 1)[-1]: v for k, v in stats.items()
                 if k.startswith("downloader/response_status_count/")}
    # pages lost for good (after retries); recovered failures are not errors
    failed_urls = sorted(set(getattr(crawler, "aap_final_failures", [])))
    if failed_urls:
        errors.append(f"{len(failed_urls)} page(s) lost after retries (download error or HTTP error), "
                      f"first: {failed_urls[0]}")
    items = int(stats.get("item_scraped_count", 0)) + int(stats.get("aap/items_replayed", 0))
    ok, reason = True, ""
    if errors:
        ok, reason = False, f"{len(errors)} error(s); first: {errors[0]}"
    elif items == 0 and not spider_cls.empty_ok:
        ok, reason = False, "zero items and the source does not declare that an empty listing is possible"
    finish_reason = str(stats.get("finish_reason", ""))
    if ok and finish_reason not in ("finished", ""):
        ok, reason = False, f"crawl ended early: {finish_reason}"
    result = CrawlResult(
        source=source, ok=ok, items=items,
        requests=int(stats.get("downloader/request_count", 0)), responses=dict(Counter(responses)),
        errors=errors[:50], failed_urls=failed_urls[:200],
        bytes_downloaded=int(stats.get("downloader/response_bytes", 0)),
        pages_unchanged=int(stats.get("aap/pages_unchanged", 0)),
        details_not_asked=int(stats.get("aap/details_not_asked", 0)),
        items_replayed=int(stats.get("aap/items_replayed", 0)),
        duration_s=round(time.monotonic() - t0, 3), started_at=started_at.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"), finish_reason=finish_reason,
        reason=reason, out=str(out))
    result.save(stats_path)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline.crawl", description=__doc__)
    ap.add_argument("--source", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--stats", required=True, type=Path)
    ap.add_argument("--log", type=Path)
    ap.add_argument("--base-url")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON")
    args = ap.parse_args(argv)
    overrides = {}
    for kv in args.set:
        k, _, v = kv.partition("=")
        overrides[k] = json.loads(v)
    result = _crawl_in_this_process(args.source, args.out, args.stats, args.log, args.base_url, overrides)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
