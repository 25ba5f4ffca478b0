"""A fork server for crawl processes: Scrapy and the spiders imported once, each crawl a fork of it.

A crawl runs in its own OS process (see :mod:`pipeline.crawl`). Started as a fresh interpreter, each one
spent about 0.75 s of CPU importing Scrapy, Twisted and the spiders before its first request — most of the
cost of a crawl whose pages are all unchanged. ``python -m pipeline.crawlserver`` imports them once
(nothing that starts a reactor or an event loop) and, for each request read on its stdin, forks a child
that runs :func:`pipeline.crawl.main` with the request's arguments and environment, its output going to
the crawl's log file. The server is single-threaded (safe to fork) and reports each child's exit code on
its stdout. It ends, killing any crawl still running, when its stdin closes (its client has gone).

:func:`run` is the client: one server per process, started on first use, shared by threads, and stopped
once no crawl has run for :data:`IDLE_S` seconds (the server holds about 62 MB; a harvest's crawls follow
one another closely, its load and exports come after them).

A harvest keeps the catalogue the server sent next to its page stores (:func:`catalogue_cache`), valid
while the spiders' files are unchanged: a rerun whose sources can all be revalidated without Scrapy
(:mod:`pipeline.revalidate`) starts no server at all (:func:`start_unless_planned`).

Protocol, one JSON object per line: ``{"op": "run", "id", "argv", "env", "log"}`` or
``{"op": "kill", "id"}`` in; ``{"id", "code"}`` out when a child has ended. The server's first line is
``READY`` and the sources' catalogue as JSON (see :func:`catalogue`).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import traceback
import uuid
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import IO, Any

#: packages that itemadapter (under Scrapy) imports only to accept their objects as items. Our spiders
#: yield dicts, and pydantic (installed for Dagster, with Cython behind its v1 module) would weigh 7 MB in
#: the server and again in each crawl forked from it; the server marks them absent before Scrapy loads.
ITEM_LIBRARIES_UNUSED = ("pydantic",)


def _preload() -> dict[str, Any]:
    """Import Scrapy and every spider; returns the sources' catalogue (``spiders.registry.catalogue``).
    Only called in the server's own process: the packages of :data:`ITEM_LIBRARIES_UNUSED` are made
    unimportable there."""
    for name in ITEM_LIBRARIES_UNUSED:
        sys.modules.setdefault(name, None)  # type: ignore[assignment]
    from pipeline.crawl import import_scrapy_first

    import_scrapy_first()
    import scrapy.core.downloader.handlers.http11  # noqa: F401
    import scrapy.crawler  # noqa: F401

    import spiders.settings  # noqa: F401
    from spiders.registry import catalogue

    return catalogue()


def _child(request: dict[str, Any]) -> None:
    """In the forked child: the request's environment, output to its log file, the crawl; never returns."""
    code = 1
    try:
        os.environ.clear()
        os.environ.update(request["env"])
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        from pipeline.crawl import main

        code = main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


def serve(stdin: IO[bytes], stdout: IO[str]) -> int:
    """The server loop (see the module docstring)."""
    # Ctrl-C reaches the crawls themselves (they stop gracefully); the server ends when its client does
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sources = _preload()
    children: dict[int, str] = {}
    fd = stdin.fileno()
    pending = b""
    stdout.write("READY " + json.dumps(sources) + "\n")
    stdout.flush()
    open_input = True
    while open_input or children:
        readable = select.select([fd], [], [], 0.05)[0] if open_input else []
        if readable:
            chunk = os.read(fd, 1 << 16)
            if not chunk:  # the client has gone: no one will read the results
                open_input = False
                for pid in children:
                    os.kill(pid, signal.SIGKILL)
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                if request["op"] == "run":
                    pid = os.fork()
                    if pid == 0:
                        _child(request)
                    children[pid] = request["id"]
                elif request["op"] == "kill":
                    for pid, rid in children.items():
                        if rid == request["id"]:
                            os.kill(pid, signal.SIGKILL)
        if not open_input and not children:
            break
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            rid = children.pop(pid, None)
            if rid is not None and open_input:
                stdout.write(json.dumps({"id": rid, "code": os.waitstatus_to_exitcode(status)}) + "\n")
                stdout.flush()
    return 0


class _Client:
    """The server process and the crawls waiting for it."""

    def __init__(self) -> None:
        """Start the server process; it imports Scrapy while its client goes on (see :meth:`ready`)."""
        self.proc = subprocess.Popen([sys.executable, "-m", "pipeline.crawlserver"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.write_lock = threading.Lock()
        self.waiting: dict[str, Future[int]] = {}
        self.reader = threading.Thread(target=self._read, name="crawl-server-reader", daemon=True)
        self._ready_lock = threading.Lock()
        self._started = False
        #: the sources' catalogue the server sent with its READY line
        self.sources: dict[str, Any] = {}

    def ready(self) -> None:
        """Wait until the server has imported everything (once); raises when it could not start."""
        with self._ready_lock:
            if self._started:
                return
            assert self.proc.stdout is not None
            line = self.proc.stdout.readline()
            if not line.startswith("READY "):
                self.proc.kill()
                raise RuntimeError(f"the crawl server did not start: {line[:300]!r}")
            self.sources = json.loads(line[len("READY "):])
            self.reader.start()
            self._started = True

    def alive(self) -> bool:
        return self.proc.poll() is None and (not self._started or self.reader.is_alive())

    def close(self) -> None:
        """End the server (no crawl is running: it exits at once)."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            answer = json.loads(line)
            future = self.waiting.pop(answer["id"], None)
            if future is not None:
                future.set_result(int(answer["code"]))
        for future in list(self.waiting.values()):  # the server has died
            future.set_result(-1)
        self.waiting.clear()

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        with self.write_lock:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()

    def run(self, argv: list[str], env: dict[str, str], log: str, timeout: float) -> int | None:
        self.ready()
        rid = uuid.uuid4().hex
        future: Future[int] = Future()
        self.waiting[rid] = future
        try:
            self._send({"op": "run", "id": rid, "argv": argv, "env": env, "log": log})
        except OSError:  # the server has died
            self.waiting.pop(rid, None)
            return -1
        if not self.reader.is_alive() and not future.done():
            return -1
        try:
            return future.result(timeout)
        except FutureTimeout:
            try:
                self._send({"op": "kill", "id": rid})
                future.result(30)
            except (OSError, FutureTimeout):
                pass
            return None


#: seconds without a crawl after which the server is stopped
IDLE_S = 2.0
_client: _Client | None = None
_running = 0
_client_lock = threading.Lock()


#: seconds a server started ahead of its first crawl (:func:`start`) waits for it before stopping
START_GRACE_S = 60.0


def _current() -> _Client:
    """The running server, started when there is none (call with ``_client_lock`` held)."""
    global _client
    if _client is None or not _client.alive():
        _client = _Client()
    return _client


def start() -> None:
    """Start the server now, without waiting for it: a harvest calls this first, so that the server's
    imports run while the harvest prepares its own work. Stopped if no crawl comes within
    :data:`START_GRACE_S` seconds."""
    if not hasattr(os, "fork"):
        return
    with _client_lock:
        _stop_later(_current(), START_GRACE_S)


def catalogue(cache: Path | None = None) -> dict[str, dict[str, Any]]:
    """The sources' catalogue (``spiders.registry.catalogue``) as the server has it: a harvest gets it
    without importing Scrapy itself (the server is started if needed; without ``fork`` there is no server
    and the catalogue is built here). With ``cache``, the catalogue is read from that file while the
    spiders' code is the one it was written for (:func:`cached_catalogue`), and written there otherwise."""
    sources = cached_catalogue(cache) if cache is not None else None
    if sources is not None:
        return sources
    if not hasattr(os, "fork"):
        from spiders.registry import catalogue as build

        sources = build()
    else:
        with _client_lock:
            client = _current()
            _stop_later(client, START_GRACE_S)
        client.ready()
        sources = client.sources
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"code": _spiders_code(), "sources": sources}), encoding="utf-8")
        os.replace(tmp, cache)
    return sources


def _spiders_code() -> str:
    """Hash of the spiders' Python files (what the catalogue is drawn from), as the page stores hash code
    (``spiders.pages.files_hash``)."""
    import spiders
    from spiders.pages import files_hash

    return files_hash([str(p) for p in Path(spiders.__file__).parent.rglob("*.py")])


def cached_catalogue(cache: Path) -> dict[str, dict[str, Any]] | None:
    """The catalogue :func:`catalogue` wrote to ``cache``, or None when there is none or the spiders' code
    has changed since."""
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("code") != _spiders_code():
        return None
    return data.get("sources")


def start_unless_planned(raw_dir: Path, sources: list[str] | None = None) -> None:
    """:func:`start`, unless each of ``sources`` (every source of the cached catalogue when None) has the
    plan of a complete crawl next to its page store (``spiders.pages.read_plan``): its crawl will most
    likely be a revalidation without Scrapy (:mod:`pipeline.revalidate`), and a source that does need a
    crawl starts the server then."""
    from pipeline.crawl import store_path
    from spiders.pages import read_plan

    names = sources or list(cached_catalogue(catalogue_cache(raw_dir)) or ())
    if not names or any(read_plan(store_path(raw_dir / f"{name}.jsonl", name)) is None for name in names):
        start()


def catalogue_cache(raw_dir: Path) -> Path:
    """Where a harvest whose raw JSONL goes to ``raw_dir`` keeps the sources' catalogue: next to the page
    stores."""
    return raw_dir / "pages" / "catalogue.json"


def _stop_later(client: _Client, delay: float) -> None:
    timer = threading.Timer(delay, _stop_if_idle, args=(client,))
    timer.daemon = True
    timer.start()


def run(argv: list[str], env: dict[str, str], log: str, timeout: float) -> int | None:
    """Run ``pipeline.crawl.main(argv)`` in a fork of the server with environment ``env``, its output
    appended to ``log``; its exit code, or None when it was killed after ``timeout`` seconds."""
    global _running
    with _client_lock:
        client = _current()
        _running += 1
    try:
        return client.run(argv, env, log, timeout)
    finally:
        with _client_lock:
            _running -= 1
            if not _running:
                _stop_later(client, IDLE_S)


def stop() -> None:
    """Stop the server now unless a crawl is running (a harvest whose crawls are all done frees the
    server's memory before its load and exports instead of after :data:`IDLE_S`). Returns at once: the
    server is waited for in a background thread."""
    with _client_lock:
        client = _client
    if client is not None:
        threading.Thread(target=_stop_if_idle, args=(client,), name="crawl-server-stop", daemon=True).start()


def _stop_if_idle(client: _Client) -> None:
    global _client
    with _client_lock:
        if _running or _client is not client:
            return
        _client = None
    client.close()  # a new server may start meanwhile: this one is no longer handed out


if __name__ == "__main__":
    sys.exit(serve(sys.stdin.buffer, sys.stdout))
