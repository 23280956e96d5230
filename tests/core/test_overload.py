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
