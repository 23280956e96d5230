"""Operators' view: a request id from the request into its background work, /metrics for Prometheus,
JSON logs — in-process for the rules, and through `flask serve` (gunicorn's workers and the runner
adding their figures up) the way an operator meets them."""

import json
import os
import re
import time

import pytest
from sqlalchemy import select

from lms.core import outbox
from lms.core.models import OutboxMessage
from tests.e2e.servers import embedded_server
from tests.webclient import WebClient


def test_a_request_gets_an_id_and_a_well_formed_one_from_the_proxy_is_kept(client):
    fresh = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["X-Request-ID"])
    assert client.get("/healthz", headers={"X-Request-ID": "nginx-4f2a9c01"}).headers["X-Request-ID"] == "nginx-4f2a9c01"
    forged = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)


def test_work_queued_by_a_request_carries_its_id(app, db_session):
    with app.test_request_context("/", headers={"X-Request-ID": "req-000000042"}):
        app.preprocess_request()
        message = outbox.enqueue("certificates.repair")
        db_session.flush()
    assert db_session.scalar(select(OutboxMessage.request_id).where(OutboxMessage.id == message.id)) == "req-000000042"


def test_metrics_answer_this_machine_or_the_token_only(app, client, monkeypatch):
    client.get("/healthz")
    local = client.get("/metrics")
    body = local.get_data(as_text=True)
    assert local.status_code == 200 and local.mimetype == "text/plain"
    assert re.search(r'lms_request_seconds_count\{endpoint="core.healthz",method="GET",status="2xx"\} [1-9]', body)
    assert 'lms_outbox_messages{state="queued"}' in body and "lms_database_up 1.0" in body
    assert "lms_certificates_issued_total" in body and "lms_attempts_in_progress" in body
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    monkeypatch.setitem(app.config, "LMS_METRICS_TOKEN", "s3cret-token-for-prometheus")
    assert client.get("/metrics", environ_base=outside,
                      headers={"Authorization": "Bearer wrong"}).status_code == 403
    allowed = client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer s3cret-token-for-prometheus"})
    assert allowed.status_code == 200 and b"lms_request_seconds" in allowed.data


@pytest.fixture(scope="module")
def served():
    if os.environ.get("LMS_TEST_DATABASE_URL"):
        pytest.skip("`flask serve` in the embedded default runs in the SQLite pass")
    with embedded_server(LMS_LOG_FORMAT="json", LMS_RUNNER_POLL_SECONDS="0.2") as live:
        yield live


def _log(live) -> str:
    return (live.instance / "serve.log").read_text(errors="replace")


def _wait_for(predicate, what: str, live, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout:.0f} s; log:\n{_log(live)[-3000:]}")


def test_metrics_add_up_every_gunicorn_worker_and_the_runner(served):
    web = WebClient(served.base)
    # /healthz answers 503 until the runner's first heartbeat (a loaded machine may take a while).
    _wait_for(lambda: web.get("/healthz").status == 200, "/healthz to answer 200", served, timeout=60)
    before = _count(web.get("/metrics").text, "core.healthz")
    for _ in range(40):  # two gunicorn workers of four threads: the requests land on both
        assert web.get("/healthz").status == 200
    body = web.get("/metrics").text
    assert _count(body, "core.healthz") == before + 40, body[:2000]
    # The runner (another process) ran its schedule; its task figures reach the web's /metrics.
    assert _wait_for(lambda: re.search(r'lms_task_seconds_count\{outcome="success",task="core.reconcile_outbox"\} [1-9]',
                                       web.get("/metrics").text), "the runner's task figures on /metrics", served)


def _count(body: str, endpoint: str) -> int:
    found = re.search(rf'lms_request_seconds_count\{{endpoint="{re.escape(endpoint)}",method="GET",status="2xx"\}} '
                      r'([0-9.]+)', body)
    return int(float(found.group(1))) if found else 0


def test_one_request_id_follows_a_request_into_its_task_in_json_logs(served):
    admin = WebClient(served.base)
    admin.login("quantri@demo.vn", "quantri-demo-2025")
    admin.get("/admin/background")
    queued = admin.post("/admin/background/repair", headers={"X-Request-ID": "operator-check-0001"})
    assert queued.status in (200, 303) and queued.headers["X-Request-ID"] == "operator-check-0001"

    def task_line():
        for line in _log(served).splitlines():
            if line.startswith("{") and "operator-check-0001" in line:
                record = json.loads(line)
                if record.get("logger") == "lms.core.celery":
                    return record
        return None

    record = _wait_for(task_line, "a JSON log line of the repair task with the request's id", served)
    assert record["request_id"] == "operator-check-0001" and record["level"] == "INFO"
    assert record["message"].startswith("certificates.repair (outbox ") and "finished" in record["message"]
    assert re.search(r'"POST /admin/background/repair HTTP/1.1" 303 .* rid=operator-check-0001', _log(served))


def test_the_grafana_dashboard_asks_only_for_figures_the_app_exports(client):
    from pathlib import Path

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "deploy/grafana/lms-dashboard.json").read_text())
    client.get("/healthz")
    exported = client.get("/metrics").get_data(as_text=True)
    names = {name for panel in dashboard["panels"] for target in panel["targets"]
             for name in re.findall(r"\blms_[a-z_]+", target["expr"])}
    assert len(names) >= 8
    families = {re.sub(r"_(bucket|count|sum|total)$", "", name) for name in names}
    missing = sorted(family for family in families
                     if f"# TYPE {family} " not in exported and f"# TYPE {family}_total " not in exported)
    assert not missing, missing
