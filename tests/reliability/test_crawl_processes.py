"""Crawl processes are forks of the crawl server: the caller's environment, a log per crawl, failures and
time-outs reported like those of any child process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pipeline import crawlserver
from pipeline.crawl import run_crawl
from pipeline.settings import PROJECT_ROOT
from pipeline.synthetic import Faults, SyntheticPortal
from spiders.demo import DEMO_SETTINGS


def test_a_crashing_crawl_reports_its_exit_code_and_traceback(tmp_path: Path) -> None:
    result = run_crawl("no_such_source", tmp_path / "raw" / "x.jsonl")
    assert not result.ok
    assert result.reason.startswith("crawl process exited 1:") and "unknown source" in result.reason
    assert "Traceback" in (tmp_path / "raw" / "x.log").read_text(encoding="utf-8")


def test_each_crawl_gets_its_callers_environment_and_nothing_else(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("AAP_AT_TOKEN", raising=False)
    closed = "http://127.0.0.1:9/aides_territoires"  # nothing listens: the token exchange fails
    settings = {**DEMO_SETTINGS, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 2, "ROBOTSTXT_OBEY": False}
    with_token = run_crawl("aides_territoires", tmp_path / "a" / "at.jsonl", base_url=closed, settings=settings,
                           env={"AAP_AT_TOKEN": "demo-token"})
    without = run_crawl("aides_territoires", tmp_path / "b" / "at.jsonl", base_url=closed, settings=settings)
    assert not with_token.ok and not without.ok
    # with the token, the spider asked for a JWT (and failed to reach the portal); without, it stopped at once
    assert with_token.failed_urls and "no API token" not in (tmp_path / "a" / "at.log").read_text(encoding="utf-8")
    assert without.requests == 0, "the first crawl's environment must not leak into the next"
    assert "no API token" in (tmp_path / "b" / "at.log").read_text(encoding="utf-8")


def test_a_crawl_past_its_timeout_is_killed(tmp_path: Path) -> None:
    with SyntheticPortal({"grand_est": 3}, seed=3, faults={"grand_est": Faults(timeout_rate=1.0, hang_s=20)}) as portal:
        result = run_crawl("grand_est", tmp_path / "raw" / "grand_est.jsonl", base_url=portal.base_url("grand_est"),
                           settings={**DEMO_SETTINGS, "DOWNLOAD_TIMEOUT": 30}, timeout=3)
    assert not result.ok and result.reason == "crawl timed out after 3s"
    assert not (tmp_path / "raw" / "grand_est.stats.json").exists()


def test_the_server_stops_when_no_crawl_has_run_for_a_while(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(crawlserver, "IDLE_S", 0.2)
    run_crawl("no_such_source", tmp_path / "one.jsonl")
    server = crawlserver._client
    assert server is not None and server.alive()
    time.sleep(1.5)
    assert crawlserver._client is None and server.proc.poll() is not None
    assert "unknown source" in run_crawl("no_such_source", tmp_path / "two.jsonl").reason  # a new server


def test_the_server_sends_the_sources_catalogue_with_its_ready_line() -> None:
    from spiders.registry import catalogue

    assert crawlserver.catalogue() == json.loads(json.dumps(catalogue()))


def test_a_harvest_process_never_imports_scrapy(tmp_path: Path) -> None:
    """Scrapy and the spiders live in the crawl server and its crawls; the harvest process gets the sources'
    metadata from the server (about 40 MB and half a second less in the harvest process)."""
    script = (
        "import sys, json\n"
        "from datetime import datetime, timezone\n"
        "from pipeline.portal import FixturePortal\n"
        "from pipeline.run import demo_env, harvest\n"
        "from pipeline.settings import paths\n"
        "from spiders.demo import DEMO_SETTINGS\n"
        "with FixturePortal() as portal:\n"
        f"    report = harvest(['grand_est'], paths=paths({str(tmp_path)!r}), "
        "now=datetime(2026, 3, 2, 8, tzinfo=timezone.utc), base_url_for=portal.base_url, "
        "crawl_settings=DEMO_SETTINGS, crawl_env=demo_env(), export_formats=())\n"
        "print(json.dumps({'scrapy': 'scrapy' in sys.modules, 'twisted': 'twisted' in sys.modules, "
        "'records': sum(o.transformed for o in report.outcomes.values())}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=PROJECT_ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["records"] > 0
    assert not result["scrapy"] and not result["twisted"]


def test_the_server_and_its_crawls_leave_out_pydantic(tmp_path: Path) -> None:
    """itemadapter imports pydantic when it is installed (Dagster needs it) to accept pydantic models as
    items; the spiders yield dicts, so the server, and each crawl forked from it, does without it."""
    out = tmp_path / "raw" / "grand_est.jsonl"
    with SyntheticPortal({"grand_est": 3}, seed=3) as portal:
        result = run_crawl("grand_est", out, base_url=portal.base_url("grand_est"), settings=DEMO_SETTINGS)
    assert result.ok and result.items == 3
    server = crawlserver._client
    assert server is not None and server.alive()
    maps = Path(f"/proc/{server.proc.pid}/maps").read_text(encoding="ascii", errors="replace")
    assert "twisted" in maps or "_cffi_backend" in maps or "lxml" in maps  # Scrapy's own libraries are there
    assert "pydantic_core" not in maps
