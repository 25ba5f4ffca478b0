"""Test-wide settings: never a real Aides-territoires token, never the user's data folder."""

from __future__ import annotations

import pytest

from pipeline.run import DEMO_AT_TOKEN


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("AAP_AT_TOKEN", DEMO_AT_TOKEN)
    monkeypatch.setenv("AAP_DATA_DIR", str(tmp_path_factory.mktemp("aap-data")))
    for var in ("AAP_WAREHOUSE", "AAP_SNAPSHOT", "AAP_ALERT_WEBHOOK"):
        monkeypatch.delenv(var, raising=False)
