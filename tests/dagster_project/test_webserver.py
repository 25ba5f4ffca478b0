"""``make dagster`` starts the UI: the same command, on a free 127.0.0.1 port with a temporary data folder,
answers GraphQL and lists the project's assets."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from dagster_project.serve import command, environment

QUERY = "{ assetNodes { assetKey { path } } }"
STARTUP_TIMEOUT_S = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.slow
def test_dagster_dev_answers_and_lists_the_assets(tmp_path):
    from dagster_project.definitions import defs

    expected = sorted("/".join(k.path) for k in defs().resolve_asset_graph().get_all_asset_keys())
    port = _free_port()
    env = environment(tmp_path / "data")
    assert (tmp_path / "data" / "dagster_home" / "dagster.yaml").is_file()
    log = (tmp_path / "dagster_dev.log").open("w")
    proc = subprocess.Popen(command(port), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        listed = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                nodes = _graphql(port, QUERY)["data"]["assetNodes"]
            except (urllib.error.URLError, OSError, KeyError, TypeError):
                time.sleep(1)
                continue
            listed = sorted("/".join(n["assetKey"]["path"]) for n in nodes)
            if listed:
                break
            time.sleep(1)
        assert proc.poll() is None, (tmp_path / "dagster_dev.log").read_text()[-3000:]
        assert listed == expected
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
