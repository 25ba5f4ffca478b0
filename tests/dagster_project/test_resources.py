"""Resources follow the environment: demo portal or live portals, the token only for live crawls."""

import urllib.request

import dagster as dg
import pytest

from dagster_project.defs.resources import AapPaths, portal_from_env
from pipeline.run import DEMO_AT_TOKEN
from spiders.demo import DEMO_SETTINGS


def _resolved(resource: dg.ConfigurableResource) -> dg.ConfigurableResource:
    """The resource with its EnvVar fields read, as a run sees it."""
    return resource.process_config_and_initialize()


def test_demo_mode_serves_the_fixtures_for_the_duration_of_the_crawl_step(monkeypatch):
    monkeypatch.delenv("AAP_PORTAL", raising=False)
    portal = _resolved(portal_from_env())
    assert portal.mode == "demo"
    with portal.crawl_target() as target:
        url = target.base_url("avise")
        assert url.startswith("http://127.0.0.1:") and url.endswith("/avise")
        assert target.settings == DEMO_SETTINGS and target.env == {"AAP_AT_TOKEN": DEMO_AT_TOKEN}
        with urllib.request.urlopen(target.portal_url + "/robots.txt", timeout=5) as resp:
            assert resp.status == 200
    with pytest.raises(OSError):
        urllib.request.urlopen(target.portal_url + "/robots.txt", timeout=2)


def test_live_mode_uses_the_real_portals_and_the_token_from_the_environment(monkeypatch):
    monkeypatch.setenv("AAP_PORTAL", "live")
    monkeypatch.setenv("AAP_AT_TOKEN", "secret-from-env")
    portal = portal_from_env()
    assert isinstance(portal.at_token, dg.EnvVar)            # the secret is not copied into the config
    with _resolved(portal).crawl_target() as target:
        assert target.base_url("aides_territoires") is None
        assert target.settings == {} and target.env == {"AAP_AT_TOKEN": "secret-from-env"}
    monkeypatch.delenv("AAP_AT_TOKEN")
    with _resolved(portal_from_env()).crawl_target() as target:
        assert target.env == {}


def test_a_wrong_portal_mode_is_refused(monkeypatch):
    monkeypatch.setenv("AAP_PORTAL", "staging")
    with pytest.raises(ValueError, match="AAP_PORTAL"):
        portal_from_env()


def test_paths_follow_the_environment_or_explicit_config(tmp_path, monkeypatch):
    monkeypatch.setenv("AAP_DATA_DIR", str(tmp_path / "env"))
    assert AapPaths().paths().warehouse == tmp_path / "env" / "warehouse.duckdb"
    explicit = AapPaths(data_dir=str(tmp_path / "cfg"), warehouse=str(tmp_path / "w.duckdb")).paths()
    assert explicit.raw_dir == tmp_path / "cfg" / "raw" and explicit.warehouse == tmp_path / "w.duckdb"
    assert explicit.raw_dir.is_dir()
