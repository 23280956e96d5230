"""Overload shedding (lms/core/overload.py, lms/core/queue_timed_worker.py): a request that waited longer
than LMS_QUEUE_LIMIT_MS for a gunicorn thread is answered 503 + Retry-After without work; below the
limit, or when the wait was not measured (any other worker), the site answers as usual."""

import pytest
from gunicorn.workers.gthread import ThreadWorker

from lms.core import overload
from lms.core.metrics import REQUESTS_SHED
from lms.core.queue_timed_worker import QueueTimedWorker


@pytest.fixture
def waited_ms():
    def set_wait(ms):
        overload.waited.ms = ms
    yield set_wait
    overload.waited.ms = None


def test_a_request_that_queued_too_long_is_refused_at_once_with_retry_after(app, client, waited_ms):
    limit = app.config["LMS_QUEUE_LIMIT_MS"]
    shed_before = REQUESTS_SHED._value.get()
    waited_ms(limit + 1)
    page = client.get("/courses")
    assert page.status_code == 503
    assert 2 <= int(page.headers["Retry-After"]) <= 6
    assert "Dịch vụ tạm thời gián đoạn" in page.get_data(as_text=True)  # the site's language, no session to ask
    assert "Set-Cookie" not in page.headers  # no session was opened

    waited_ms(limit + 1)
    save = client.post("/attempts/1/save", headers={"Accept": "application/json"}, data={"shown": "1", "q1": "a"})
    assert save.status_code == 503 and save.is_json and save.get_json()["error"] == 503
    assert save.headers["Retry-After"].isdigit()  # the quiz page and the bench retry after it
    assert REQUESTS_SHED._value.get() == shed_before + 2  # operators see the refusals on /metrics


@pytest.mark.parametrize("ms", [None, 0.0, "limit"])
def test_below_the_limit_or_unmeasured_nothing_changes(app, client, waited_ms, ms):
    waited_ms(app.config["LMS_QUEUE_LIMIT_MS"] if ms == "limit" else ms)
    assert client.get("/healthz").status_code == 200


def test_the_worker_measures_the_wait_from_handing_the_connection_to_the_pool(monkeypatch):
    seen = []
    monkeypatch.setattr(ThreadWorker, "enqueue_req", lambda self, conn: None)
    monkeypatch.setattr(ThreadWorker, "handle", lambda self, conn: seen.append(overload.queued_ms()) or True)

    class Conn:
        pass

    worker, conn = object.__new__(QueueTimedWorker), Conn()
    QueueTimedWorker.enqueue_req(worker, conn)
    assert QueueTimedWorker.handle(worker, conn) is True
    assert seen[0] is not None and seen[0] >= 0
    assert overload.queued_ms() is None  # cleared for the thread's next connection
    QueueTimedWorker.handle(worker, Conn())  # never queued (not through enqueue_req): not measured
    assert seen[1] is None


@pytest.fixture
def start_header(app, monkeypatch):
    """The app's shedding middleware reading nginx's X-Request-Start (LMS_REQUEST_START_HEADER)."""
    shedder = app.wsgi_app
    assert isinstance(shedder, overload.ShedLateRequests)
    monkeypatch.setattr(shedder, "start_key", "HTTP_X_REQUEST_START")
    return shedder


def test_sync_workers_shed_by_the_proxys_request_start_stamp(app, client, start_header):
    import time

    limit = app.config["LMS_QUEUE_LIMIT_MS"]
    shed_before = start_header.shed
    late = f"t={time.time() - (limit + 500) / 1000:.3f}"  # nginx's $msec, passed on limit + 0.5 s ago
    save = client.post("/attempts/1/save", headers={"Accept": "application/json", "X-Request-Start": late},
                       data={"shown": "1", "q1": "a"})
    assert save.status_code == 503 and save.get_json()["error"] == 503 and save.headers["Retry-After"].isdigit()
    assert "Set-Cookie" not in save.headers and start_header.shed == shed_before + 1
    fresh = f"t={time.time() - 0.2:.3f}"
    assert client.get("/healthz", headers={"X-Request-Start": fresh}).status_code == 200
    assert client.get("/healthz", headers={"X-Request-Start": "nonsense"}).status_code == 200
    assert client.get("/healthz").status_code == 200 and start_header.shed == shed_before + 1


def test_the_stamp_is_read_only_when_configured(app, client):
    assert app.config["LMS_REQUEST_START_HEADER"] == ""  # the default: a client's header means nothing
    assert client.get("/healthz", headers={"X-Request-Start": "t=1000000000.000"}).status_code == 200


def test_the_gthread_clock_wins_over_the_stamp(app, client, start_header, waited_ms):
    waited_ms(0.0)  # measured by QueueTimedWorker: the header is not read
    assert client.get("/healthz", headers={"X-Request-Start": "t=1000000000.000"}).status_code == 200


@pytest.mark.parametrize(("stamp", "ms"), [
    ("t=1765000000.250", 750.0), ("1765000000.250", 750.0), ("t=1765000000250", 750.0),
    ("t=1765000000250000", 750.0), ("t=1765000002.000", 0.0), ("", None), ("t=", None), ("t=abc", None),
    ("t=nan", None), ("t=inf", None), ("t=12", None)])
def test_proxy_stamps_in_seconds_milliseconds_or_microseconds(stamp, ms):
    assert overload.proxy_wait_ms(stamp, now=1765000001.0) == ms
