"""Exam-day shedding under gunicorn's sync workers (lms/core/overload.py, deploy/README.md "Exam day"): a real
sync worker reads nginx's X-Request-Start stamp when LMS_REQUEST_START_HEADER names it, and refuses at once a
request stamped longer ago than LMS_QUEUE_LIMIT_MS; a fresh one is served."""

import http.client
import json
import time


def _save(port: int, stamp: float) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/attempts/1/save", body="shown=1&q1=a", headers={
            "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
            "X-Request-Start": f"t={stamp:.3f}"})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_a_sync_worker_refuses_what_nginx_stamped_too_long_ago(app_processes):
    app_processes.env.update({"LMS_REQUEST_START_HEADER": "X-Request-Start", "LMS_QUEUE_LIMIT_MS": "1000"})
    app_processes.start_web(workers=1, healthy=False)
    status, headers, body = _save(app_processes.port, time.time() - 5)  # waited 5 s before a worker took it
    assert status == 503 and 2 <= int(headers["retry-after"]) <= 6 and "set-cookie" not in headers
    assert json.loads(body) == {"error": 503, "message": "Dịch vụ tạm thời gián đoạn. Vui lòng thử lại sau ít phút."}
    status, headers, body = _save(app_processes.port, time.time())  # fresh: the app's own answer
    assert (status, json.loads(body)["error"]) == (400, 400) and "retry-after" not in headers  # no CSRF token
