"""Failure alerts: a JSON Lines log under the data folder, and a JSON POST to the webhook URL
(``AAP_ALERT_WEBHOOK``) when one is configured. A webhook that is down never hides the failure: the log
line is written first, and the post outcome is returned, not raised."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from pipeline.settings import USER_AGENT

#: the failure log, relative to the logs folder of the data folder
FAILURE_LOG = "dagster_failures.jsonl"


def record_failure(log_path: Path, payload: dict[str, Any]) -> Path:
    """Append ``payload`` as one JSON line to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    return log_path


def post_webhook(url: str, payload: dict[str, Any], *, timeout: float = 10.0) -> str:
    """POST ``payload`` as JSON to ``url``; returns "HTTP <status>" or the error, never raises."""
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"error: {exc}"


def read_failures(log_path: Path) -> list[dict[str, Any]]:
    """The recorded failures, oldest first."""
    if not log_path.is_file():
        return []
    return [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines() if line.strip()]
