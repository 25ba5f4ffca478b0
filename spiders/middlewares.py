"""Downloader middlewares of aap.

* :class:`FinalFailures` sits just outside the retry middleware, so it only sees what retries could not
  recover: a download error or an HTTP error status after the last retry. The crawl runner reads its list
  to record each lost page by URL — a failure that a retry recovered is not an error.
* :class:`EncodingRepair` fixes pages whose bytes are not the UTF-8 they claim (or claim nothing): French
  portals still serve ISO-8859-1/Windows-1252 pages, and guessing gives "trčs" for "très".
"""

from __future__ import annotations

from typing import Any

from scrapy.http import Response, TextResponse
from w3lib.encoding import html_body_declared_encoding

#: just below RetryMiddleware (550): its hooks run after the retry middleware has given up
FINAL_FAILURES_PRIORITY = 540
#: just below HttpCompressionMiddleware (590)/outside the cache: repair the decoded text of every response
ENCODING_REPAIR_PRIORITY = 580


class FinalFailures:
    """Collects ``"<status or error> <url>"`` for every request that failed for good."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> FinalFailures:
        mw = cls()
        crawler.aap_final_failures = mw.failures
        return mw

    def process_response(self, request: Any, response: Response, spider: Any = None) -> Response:
        allowed = request.meta.get("handle_httpstatus_list") or ()
        if request.url.endswith("/robots.txt"):   # a portal without robots.txt is not a failure
            return response
        if response.status >= 400 and response.status not in allowed:
            self.failures.append(f"{response.status} {request.url}")
        return response

    def process_exception(self, request: Any, exception: Exception, spider: Any = None) -> None:
        if request.url.endswith("/robots.txt"):
            return None
        self.failures.append(f"{type(exception).__name__} {request.url}")
        return None


def _utf8(name: str | None) -> bool:
    return (name or "").lower().replace("-", "").replace("_", "") in ("utf8", "")


class EncodingRepair:
    """Re-decode as Windows-1252 a page that is not valid UTF-8 while it claims UTF-8 or no charset."""

    def process_response(self, request: Any, response: Response, spider: Any = None) -> Response:
        if not isinstance(response, TextResponse) or not response.body:
            return response
        try:
            response.body.decode("utf-8")
            return response
        except UnicodeDecodeError:
            pass
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        header_charset = content_type.split("charset=", 1)[1].split(";")[0].strip() if "charset=" in content_type \
            else None
        declared = header_charset or html_body_declared_encoding(response.body)
        if _utf8(declared):
            return response.replace(encoding="cp1252")
        return response
