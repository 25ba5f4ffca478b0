"""Crawl settings for the local fixture portal (demo, tests, bench), kept apart from :mod:`spiders.settings`
so that a harvest process can pass them to its crawls without importing Scrapy itself."""

#: overrides applied when crawling the local fixture portal: no throttling
DEMO_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "RETRY_TIMES": 2,
    "DOWNLOAD_TIMEOUT": 10,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
}
