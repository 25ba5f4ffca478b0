"""Scrapy settings shared by every aap crawl. Polite by default: robots.txt obeyed, identifying
User-Agent with a contact URL, AutoThrottle, retries with backoff, cookies off.

Conditional requests: every response that carries a validator (``ETag`` or ``Last-Modified``) is stored in
an HTTP cache (``<raw dir>/httpcache/<source>.db``; :mod:`pipeline.crawl` sets the place). The
next harvest asks again for every page, with ``If-None-Match``/``If-Modified-Since``: an unchanged page
costs the portal a bodiless 304 and the stored copy is parsed. The cache never answers on its own: a
page is never taken from it without asking the portal (a stale copy would hide new calls), and a server
error or a timeout stays a failure of the harvest (the stored copy is not served in its place).
"""

from typing import Any

from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import RFC2616Policy

from pipeline.settings import USER_AGENT
from spiders.middlewares import ENCODING_REPAIR_PRIORITY, FINAL_FAILURES_PRIORITY


class RevalidatingPolicy(RFC2616Policy):
    """RFC 2616 caching that revalidates every stored page and never stands in for a failed answer."""

    def is_cached_response_fresh(self, cachedresponse: Any, request: Any) -> bool:
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(self, cachedresponse: Any, response: Any, request: Any) -> bool:
        return response.status == 304


class RevalidatingCacheMiddleware(HttpCacheMiddleware):
    """The HTTP cache middleware without its error recovery (a download error is never answered with
    the stored page, so the retry middleware and the crawl statistics still see it), and without
    rewriting a stored page the portal has just confirmed unchanged."""

    def process_exception(self, request: Any, exception: Exception, spider: Any = None) -> None:
        request.meta.pop("cached_response", None)
        return None

    def _cache_response(self, response: Any, request: Any) -> None:
        # a copy the portal just confirmed (304) is already stored: writing it again costs a page write
        if "cached" in response.flags:
            return
        super()._cache_response(response, request)


BOT_NAME = "aap"
SPIDER_MODULES = ["spiders.sources"]
NEWSPIDER_MODULE = "spiders.sources"
USER_AGENT = USER_AGENT
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
#: one item per page: Scrapy's default of 100 parallel slots per response costs more than it saves
CONCURRENT_ITEMS = 8
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "spiders.settings.RevalidatingPolicy"
#: one DBM file per source: a folder of six files per page made a 1 000-page crawl ~60 % slower
HTTPCACHE_STORAGE = "scrapy.extensions.httpcache.DbmCacheStorage"
HTTPCACHE_DIR = "httpcache"
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "spiders.settings.RevalidatingCacheMiddleware": 900,
    "spiders.middlewares.FinalFailures": FINAL_FAILURES_PRIORITY,
    "spiders.middlewares.EncodingRepair": ENCODING_REPAIR_PRIORITY,
}
LOG_LEVEL = "INFO"

#: overrides applied when crawling the local fixture portal (demo, tests): no throttling
DEMO_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "RETRY_TIMES": 2,
    "DOWNLOAD_TIMEOUT": 10,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
}
