"""Scrapy settings shared by every aap crawl. Polite by default: robots.txt obeyed, identifying
User-Agent with a contact URL, AutoThrottle, retries with backoff, cookies off.

Conditional requests and the page store (:mod:`spiders.pagestore`): every page is asked for again with
``If-None-Match``/``If-Modified-Since`` when the previous harvest stored it; an unchanged page costs the
portal a bodiless 304 and is not parsed again (what the spider drew from it last time is re-emitted). A
detail page whose listing card is unchanged is not asked for at all while the portal confirmed it less than
``AAP_DETAIL_MAX_AGE_DAYS`` ago. The store never answers in place of a failure: a server error or a
time-out stays a failure of the harvest. :mod:`pipeline.crawl` sets ``AAP_PAGE_STORE``; empty, the store is
off (the bench's bare crawl).

Scrapy components the crawls never use are left out, which also shortens each crawl process's start-up:
the remote-control server (an HTTP endpoint that runs code, on by default since Scrapy 2.19), the telnet
console, the cookies middleware, and the ``s3``/``ftp``/``file``/``data`` download handlers.
"""

from scrapy.settings import default_settings as _scrapy

from pipeline.settings import USER_AGENT
from spiders.middlewares import ENCODING_REPAIR_PRIORITY, FINAL_FAILURES_PRIORITY
from spiders.pagestore import CONDITIONAL_PRIORITY, REPLAY_PRIORITY

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
FEED_EXPORTERS = {"jsonlines": "spiders.exporters.JsonLinesExporter"}
#: one item per page: Scrapy's default of 100 parallel slots per response costs more than it saves
CONCURRENT_ITEMS = 8
#: Scrapy's HTTP cache stays off: the page store keeps validators and what each page gave, not bodies
HTTPCACHE_ENABLED = False
#: where the page store of this crawl lives ("" = no store); :mod:`pipeline.crawl` sets it per source
AAP_PAGE_STORE = ""
#: a detail page whose listing card is unchanged is re-emitted from the store without asking the portal
#: while it was confirmed less than this many days ago (half to all of it, spread per page); then it is
#: revalidated (one conditional request). A change on a detail page that leaves its card unchanged is
#: seen at most this late.
AAP_DETAIL_MAX_AGE_DAYS = 7
REMOTE_CONTROL_ENABLED = False
#: Scrapy reads and parses the source of a response's callback to warn about generators that return a
#: value; its cache misses for bound methods, so that was one parse per page (a tenth of a rerun's crawl).
#: The spider tests run the same check once over every callback instead.
WARN_ON_GENERATOR_RETURN_VALUE = False
#: components left out of Scrapy's own lists (naming one ``None`` in EXTENSIONS or DOWNLOADER_MIDDLEWARES
#: would still import it: Scrapy resolves the names it is given): remote control (it imports aiohttp), telnet,
#: memory debugger, cookies (off: COOKIES_ENABLED; it imports tldextract), Scrapy's HTTP cache
EXTENSIONS_BASE = {k: v for k, v in _scrapy.EXTENSIONS_BASE.items()
                   if k.rsplit(".", 1)[-1] not in ("RemoteControl", "TelnetConsole", "MemoryDebugger")}
DOWNLOADER_MIDDLEWARES_BASE = {k: v for k, v in _scrapy.DOWNLOADER_MIDDLEWARES_BASE.items()
                               if k.rsplit(".", 1)[-1] not in ("CookiesMiddleware", "HttpCacheMiddleware")}
DOWNLOAD_HANDLERS = {"s3": None, "ftp": None, "file": None, "data": None}
DOWNLOADER_MIDDLEWARES = {
    "spiders.pagestore.ConditionalRequests": CONDITIONAL_PRIORITY,
    "spiders.middlewares.FinalFailures": FINAL_FAILURES_PRIORITY,
    "spiders.middlewares.EncodingRepair": ENCODING_REPAIR_PRIORITY,
}
SPIDER_MIDDLEWARES = {
    "spiders.pagestore.PageReplay": REPLAY_PRIORITY,
}
LOG_LEVEL = "INFO"
