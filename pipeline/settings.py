"""Configuration of aap, read from the environment with safe defaults.

| variable | default | meaning |
| --- | --- | --- |
| AAP_DATA_DIR | ./data | raw JSONL, warehouse, snapshot, exports |
| AAP_WAREHOUSE | <data>/warehouse.duckdb | the DuckDB file the loader writes (one writer) |
| AAP_SNAPSHOT | <data>/warehouse_readonly.duckdb | the read-only copy analysts open |
| AAP_AT_TOKEN | (none) | Aides-territoires API token (X-AUTH-TOKEN); never logged |
| AAP_CONTACT_URL | project URL | put in the User-Agent of live crawls |
| AAP_WITHDRAW_AFTER | 2 | successful harvests a call may be missing before it is `withdrawn` |
| AAP_ALERT_WEBHOOK | (none) | URL that receives a JSON post when a harvest or check fails |
| AAP_TIMEZONE | Europe/Paris | the time zone of every date aap computes |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo(os.environ.get("AAP_TIMEZONE", "Europe/Paris"))
PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXTURES_DIR = PROJECT_ROOT / "spiders" / "fixtures"
CONTACT_URL = os.environ.get("AAP_CONTACT_URL", "https://github.com/aap-ccas/aap")
USER_AGENT = f"aap/0.1 (+{CONTACT_URL}; veille appels a projets CCAS/CIAS)"


@dataclass(frozen=True)
class Paths:
    """Where a harvest reads and writes. Build with :func:`paths` so overrides apply."""

    data_dir: Path
    warehouse: Path
    snapshot: Path
    raw_dir: Path = field(init=False)
    exports_dir: Path = field(init=False)
    logs_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw_dir", self.data_dir / "raw")
        object.__setattr__(self, "exports_dir", self.data_dir / "exports")
        object.__setattr__(self, "logs_dir", self.data_dir / "logs")

    def ensure(self) -> Paths:
        for p in (self.data_dir, self.raw_dir, self.exports_dir, self.logs_dir, self.warehouse.parent,
                  self.snapshot.parent):
            p.mkdir(parents=True, exist_ok=True)
        return self


def paths(data_dir: str | Path | None = None, warehouse: str | Path | None = None) -> Paths:
    base = Path(data_dir or os.environ.get("AAP_DATA_DIR", "data")).resolve()
    wh = Path(warehouse or os.environ.get("AAP_WAREHOUSE") or base / "warehouse.duckdb").resolve()
    snap = Path(os.environ.get("AAP_SNAPSHOT") or wh.with_name(wh.stem + "_readonly.duckdb")).resolve()
    return Paths(data_dir=base, warehouse=wh, snapshot=snap)


def withdraw_after() -> int:
    return int(os.environ.get("AAP_WITHDRAW_AFTER", "2"))


def load_memory() -> str:
    """DuckDB's memory limit while a harvest's transaction is open (``AAP_LOAD_MEMORY``, default 64MB):
    beyond it the uncommitted rows spill to a temporary file next to the warehouse instead of growing
    the harvest process by about 10 MB per 1 000 calls."""
    return os.environ.get("AAP_LOAD_MEMORY", "64MB")


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def at_token() -> str | None:
    return os.environ.get("AAP_AT_TOKEN") or None


def alert_webhook() -> str | None:
    return os.environ.get("AAP_ALERT_WEBHOOK") or None
