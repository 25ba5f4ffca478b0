"""The local fixture portal: serves every source's saved pages on 127.0.0.1 under ``/<source>/``.

Each ``spiders/fixtures/<source>/portal.json`` declares its routes::

    {"routes": [
      {"method": "GET", "path": "/api/aids/", "query": {"page": "2"}, "file": "aids-page-2.json",
       "content_type": "application/json", "require_header": "Authorization"},
      ...]}

A request ``/<source><path>?<query>`` matches the first route with the same method and path whose
``query`` items are all present in the request (extra request parameters are ignored). Optional keys:
``status`` (default 200), ``content_type`` (guessed from the file name otherwise), ``headers``,
``require_header`` (answer 401 when the request lacks it). ``/robots.txt`` allows everything.

Faults for tests: ``faults={"source": 500}`` answers that status on every route of that source.
Overlays: ``overlay_dirs`` are searched before the fixtures folder, source by source (a changed
fixture set for a second harvest).
"""

from __future__ import annotations

import json
import mimetypes
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pipeline.settings import FIXTURES_DIR


class FixtureRoutes:
    """Pure routing of a request to a fixture file (no sockets): used by the portal and by offline tests."""

    def __init__(self, fixtures_dir: Path = FIXTURES_DIR, *, overlay_dirs: Iterable[Path] = (),
                 faults: dict[str, int] | None = None):
        self.dirs = [Path(d) for d in overlay_dirs] + [Path(fixtures_dir)]
        self.faults = dict(faults or {})

    def source_dir(self, source: str) -> Path | None:
        for d in self.dirs:
            if (d / source / "portal.json").is_file():
                return d / source
        return None

    def resolve(self, method: str, path: str, query: str, headers: dict[str, str]
                ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for a request path ``/<source><live path>``."""
        method = method.upper()
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"
        source, _, rest = path.lstrip("/").partition("/")
        rest = "/" + rest
        if source in self.faults:
            return self.faults[source], {"Content-Type": "text/plain"}, b"injected fault"
        sdir = self.source_dir(source)
        if sdir is None:
            return 404, {"Content-Type": "text/plain"}, f"no fixtures for source {source!r}".encode()
        routes = json.loads((sdir / "portal.json").read_text(encoding="utf-8"))["routes"]
        params = dict(parse_qsl(query, keep_blank_values=True))
        lower_headers = {k.lower() for k in headers}
        for route in routes:
            if route.get("method", "GET").upper() not in (method, "GET" if method == "HEAD" else method):
                continue
            if route["path"] != rest:
                continue
            if any(params.get(k) != str(v) for k, v in (route.get("query") or {}).items()):
                continue
            need = route.get("require_header")
            if need and need.lower() not in lower_headers:
                return 401, {"Content-Type": "application/json"}, b'{"detail": "authentication required"}'
            file = sdir / route["file"]
            body = file.read_bytes()
            ctype = route.get("content_type") or mimetypes.guess_type(file.name)[0] or "text/html"
            if ctype.startswith("text/") or ctype in ("application/json", "application/rss+xml",
                                                      "application/xml"):
                if "charset" not in ctype:
                    ctype += "; charset=utf-8"
            hdrs = {"Content-Type": ctype, **(route.get("headers") or {})}
            return int(route.get("status", 200)), hdrs, body
        return 404, {"Content-Type": "text/plain"}, f"no route for {method} {rest}?{query}".encode()


class FixturePortal:
    """A threaded HTTP server on 127.0.0.1 (free port by default) over :class:`FixtureRoutes`.
    Use as a context manager."""

    def __init__(self, fixtures_dir: Path = FIXTURES_DIR, *, overlay_dirs: Iterable[Path] = (),
                 faults: dict[str, int] | None = None, port: int = 0):
        self.routes = FixtureRoutes(fixtures_dir, overlay_dirs=overlay_dirs, faults=faults)
        self.requests: list[tuple[str, str, int]] = []
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                portal._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                portal._handle(self, "POST")

            def do_HEAD(self) -> None:  # noqa: N802
                portal._handle(self, "HEAD")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, source: str) -> str:
        return f"{self.url}/{source}"

    def start(self) -> FixturePortal:
        self._thread = threading.Thread(target=self.server.serve_forever, name="fixture-portal", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FixturePortal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        if length:
            h.rfile.read(length)
        try:
            status, headers, body = self.routes.resolve(method, parts.path, parts.query, dict(h.headers.items()))
        except Exception as exc:  # a broken fixture must show as a 500, never kill the portal
            status, headers, body = 500, {"Content-Type": "text/plain"}, f"portal error: {exc}".encode()
        self.requests.append((method, h.path, status))
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if method != "HEAD":
            h.wfile.write(body)


def main() -> None:
    """``python -m pipeline.portal [PORT]``: serve the fixtures until interrupted."""
    import sys
    import time

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    with FixturePortal(port=port) as p:
        print(f"fixture portal on {p.url}/<source>/ (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
