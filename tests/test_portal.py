"""The local fixture portal: routing, auth headers, faults, overlays, real HTTP on 127.0.0.1."""

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pipeline.portal import FixturePortal, FixtureRoutes


@pytest.fixture()
def fixtures(tmp_path: Path) -> Path:
    src = tmp_path / "fx" / "demo_src"
    src.mkdir(parents=True)
    (src / "p1.json").write_text('{"page": 1}', encoding="utf-8")
    (src / "p2.json").write_text('{"page": 2}', encoding="utf-8")
    (src / "list.html").write_text("<html><body>Liste é</body></html>", encoding="utf-8")
    (src / "portal.json").write_text(json.dumps({"routes": [
        {"method": "GET", "path": "/api/items", "query": {"page": "2"}, "file": "p2.json"},
        {"method": "GET", "path": "/api/items", "file": "p1.json", "require_header": "Authorization"},
        {"method": "POST", "path": "/search", "file": "p1.json", "content_type": "application/json"},
        {"path": "/fr/appels", "file": "list.html"},
    ]}), encoding="utf-8")
    return tmp_path / "fx"


def test_routes_match_method_path_and_query_subset(fixtures: Path) -> None:
    r = FixtureRoutes(fixtures)
    status, headers, body = r.resolve("GET", "/demo_src/api/items", "page=2&itemsPerPage=100", {})
    assert (status, json.loads(body)) == (200, {"page": 2})
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.resolve("GET", "/demo_src/api/items", "page=1", {})[0] == 401
    assert r.resolve("GET", "/demo_src/api/items", "page=1", {"authorization": "Bearer x"})[0] == 200
    assert r.resolve("POST", "/demo_src/search", "pageNumber=1", {})[0] == 200
    assert r.resolve("GET", "/demo_src/search", "", {})[0] == 404
    assert r.resolve("GET", "/unknown/x", "", {})[0] == 404
    assert r.resolve("GET", "/robots.txt", "", {})[0] == 200


def test_faults_and_overlays(fixtures: Path, tmp_path: Path) -> None:
    assert FixtureRoutes(fixtures, faults={"demo_src": 503}).resolve("GET", "/demo_src/fr/appels", "", {})[0] == 503
    overlay = tmp_path / "overlay" / "demo_src"
    overlay.mkdir(parents=True)
    (overlay / "list.html").write_text("<p>changée</p>", encoding="utf-8")
    (overlay / "portal.json").write_text(json.dumps({"routes": [{"path": "/fr/appels", "file": "list.html"}]}))
    r = FixtureRoutes(fixtures, overlay_dirs=[tmp_path / "overlay"])
    assert "changée" in r.resolve("GET", "/demo_src/fr/appels", "", {})[2].decode()


def test_portal_serves_over_loopback(fixtures: Path) -> None:
    with FixturePortal(fixtures) as portal:
        assert portal.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(portal.base_url("demo_src") + "/fr/appels", timeout=5) as resp:
            assert "Liste é" in resp.read().decode("utf-8")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(portal.base_url("demo_src") + "/nope", timeout=5)
        assert err.value.code == 404
    assert [s for _, _, s in portal.requests] == [200, 404]
