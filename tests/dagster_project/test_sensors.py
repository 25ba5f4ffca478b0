"""The publish sensor waits for every run of a harvest; the failure sensor logs and posts to a local webhook."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from dagster_project.alerts import FAILURE_LOG, post_webhook, read_failures
from dagster_project.defs.schedules import BATCH_TAG
from dagster_project.defs.sensors import publish_after_harvest, run_failure_alert

S = dg.DagsterRunStatus


@pytest.fixture
def webhook():
    """A JSON webhook on 127.0.0.1 that stores what it receives; yields (url, received)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append({"content_type": self.headers.get("Content-Type"), "json": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _add(instance: dg.DagsterInstance, status: dg.DagsterRunStatus, job: str = "harvest_source_job",
         assets: tuple[str, ...] = (), **tags: str) -> dg.DagsterRun:
    selection = frozenset(dg.AssetKey(a) for a in assets) or None
    return instance.add_run(dg.DagsterRun(job_name=job, status=status, tags=tags, asset_selection=selection))


def _publish_keys(instance: dg.DagsterInstance) -> set[str]:
    result = publish_after_harvest(dg.build_sensor_context(instance=instance))
    return set() if isinstance(result, dg.SkipReason) else {r.run_key for r in result}


def test_publish_waits_for_every_run_of_the_batch_failed_ones_included():
    with dg.instance_for_test() as instance:
        assert _publish_keys(instance) == set()
        _add(instance, S.SUCCESS, **{BATCH_TAG: "daily-2026-11-26"})
        _add(instance, S.FAILURE, **{BATCH_TAG: "daily-2026-11-26"})
        waiting = _add(instance, S.STARTED, **{BATCH_TAG: "daily-2026-11-26"})
        assert _publish_keys(instance) == set()
        # the last run of the batch finishes
        instance.run_storage.handle_run_event(waiting.run_id, dg.DagsterEvent(
            event_type_value="PIPELINE_SUCCESS", job_name="harvest_source_job"))
        assert _publish_keys(instance) == {"publish:daily-2026-11-26"}


def test_single_runs_and_backfills_are_published_on_their_own():
    with dg.instance_for_test() as instance:
        single = _add(instance, S.SUCCESS)
        _add(instance, S.SUCCESS, **{"dagster/backfill": "abc"})
        _add(instance, S.STARTED, **{"dagster/backfill": "abc"})
        assert _publish_keys(instance) == {f"publish:run-{single.run_id}"}


def test_ui_materializations_that_load_calls_are_published_but_not_other_runs():
    with dg.instance_for_test() as instance:
        ui = _add(instance, S.SUCCESS, job="__ASSET_JOB", assets=("raw_calls", "staged_records", "warehouse_calls"))
        _add(instance, S.SUCCESS, job="__ASSET_JOB", assets=("raw_calls",))
        _add(instance, S.SUCCESS, job="publish_job", assets=("calls_snapshot", "weekly_digest"))
        assert _publish_keys(instance) == {f"publish:run-{ui.run_id}"}


def test_post_webhook_sends_json_and_never_raises(webhook):
    url, received = webhook
    assert post_webhook(url, {"event": "run_failure", "run_id": "r1"}) == "HTTP 204"
    assert received == [{"content_type": "application/json", "json": {"event": "run_failure", "run_id": "r1"}}]
    assert post_webhook("http://127.0.0.1:9/unreachable", {"x": 1}, timeout=2).startswith("error")


def test_failure_sensor_records_and_posts_a_failed_run(webhook, tmp_path, monkeypatch):
    url, received = webhook
    monkeypatch.setenv("AAP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AAP_ALERT_WEBHOOK", url)

    @dg.op
    def broken_step() -> None:
        raise RuntimeError("portal answered 500 on every page")

    @dg.job(tags={BATCH_TAG: "daily-2026-11-26", "dagster/partition": "avise"})
    def broken_job() -> None:
        broken_step()

    with dg.instance_for_test() as instance:
        result = broken_job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        ctx = dg.build_run_status_sensor_context(
            sensor_name=run_failure_alert.name, dagster_instance=instance, dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event()).for_run_failure()
        run_failure_alert(ctx)

    logged = read_failures(tmp_path / "logs" / FAILURE_LOG)
    assert len(logged) == 1 and len(received) == 1
    payload = received[0]["json"]
    assert payload == logged[0]
    assert payload["run_id"] == result.run_id and payload["job"] == "broken_job"
    assert payload["partition"] == "avise" and payload["batch"] == "daily-2026-11-26"
    assert payload["failed_steps"] == ["broken_step"]
