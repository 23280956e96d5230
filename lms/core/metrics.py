"""Prometheus metrics at `/metrics` (prometheus_client).

Two kinds of figures:
- measured in the process that does the work — request latency per endpoint, task durations and
  failures, the database pool in use. Under gunicorn (several worker processes) and beside a worker
  on the same host, prometheus_client's multiprocess mode adds them up: every process of a host
  writes to `PROMETHEUS_MULTIPROC_DIR` (`flask serve` sets one under instance/; deploy/ sets it for
  systemd), and `/metrics` reads the whole directory.
- read from the database at scrape time, identical on every host — outbox depth and lag (how old
  the oldest unfinished message is), failed messages, certificates issued, attempts in progress.

`/metrics` answers only to a bearer token (`LMS_METRICS_TOKEN`) or to the addresses in
`LMS_METRICS_ALLOW` (default: this machine), because endpoint names and volumes are operational facts.
"""

import ipaddress
import os
import time

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from lms.core.lifecycle import view

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUEST_SECONDS = Histogram("lms_request_seconds", "Time to answer a request, by endpoint",
                            ["endpoint", "method", "status"], buckets=_BUCKETS)
TASK_SECONDS = Histogram("lms_task_seconds", "Background task run time, by task and outcome",
                         ["task", "outcome"], buckets=(*_BUCKETS, 30.0, 60.0, 300.0))
TASK_FAILURES = Counter("lms_task_failures", "Background task runs that raised", ["task"])
REQUESTS_SHED = Counter("lms_requests_shed", "Requests answered 503 at once: they queued for a thread longer than "
                        "LMS_QUEUE_LIMIT_MS (lms/core/overload.py)")
ANSWERED_BELOW_FLASK = Counter("lms_answered_below_flask", "Requests answered in front of Flask: the JSON autosave "
                               "(lms/quizzes/fast_save.py) and kept pages read again (lms/core/fast_pages.py)",
                               ["endpoint"])
KEPT_ROWS = Counter("lms_kept_rows", "Reads of the pages answered below Flask, by where their rows came from: kept "
                    "in the process (lms/core/change_feed.py) or read from the database", ["source"])
CHANGE_FEED_NOTIFICATIONS = Counter("lms_change_feed_notifications", "Database change notifications applied to the "
                                    "kept rows (lms/core/change_feed.py)")
CHANGE_FEED_LISTENING = Gauge("lms_change_feed_listening", "Processes whose change feed is listening (rows may be "
                              "kept)", multiprocess_mode="livesum")
DB_POOL_IN_USE = Gauge("lms_db_pool_connections_in_use", "Database connections checked out of the pool",
                       multiprocess_mode="livesum")


def record_task(task_name: str, seconds: float, failed: bool) -> None:
    TASK_SECONDS.labels(task_name, "failure" if failed else "success").observe(seconds)
    if failed:
        TASK_FAILURES.labels(task_name).inc()


class DatabaseCollector:
    """Figures every host agrees on, read when Prometheus scrapes (a few indexed counts)."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        from sqlalchemy import func, select

        from lms.core.db import utcnow
        from lms.core.models import OutboxMessage
        from lms.core.signals import metrics_collected
        from lms.extensions import db

        with self.app.app_context():
            try:
                by_state = dict(db.session.execute(
                    select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())
                oldest = db.session.scalar(select(func.min(OutboxMessage.created_at))
                                           .where(OutboxMessage.state.in_(("queued", "dispatched", "running"))))
                # The features' own figures (certificates issued, attempts in progress): core names none.
                figures = [figure for _, part in metrics_collected.send(self.app) for figure in part]
            except Exception:  # noqa: BLE001 - the database is away: say so rather than fail the scrape
                yield GaugeMetricFamily("lms_database_up", "Whether the database answered this scrape", value=0)
                return
            finally:
                db.session.remove()
        yield GaugeMetricFamily("lms_database_up", "Whether the database answered this scrape", value=1)
        depth = GaugeMetricFamily("lms_outbox_messages", "Background work by state", labels=["state"])
        for state in ("queued", "dispatched", "running", "done", "failed"):
            depth.add_metric([state], by_state.get(state, 0))
        yield depth
        lag = (utcnow() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily("lms_outbox_lag_seconds", "Age of the oldest unfinished background work", value=lag)
        for kind, name, description, value in figures:
            yield (CounterMetricFamily if kind == "counter" else GaugeMetricFamily)(name, description, value=value)


def _allowed() -> bool:
    token = current_app.config.get("LMS_METRICS_TOKEN")
    if token and request.headers.get("Authorization") == f"Bearer {token}":
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in current_app.config["LMS_METRICS_ALLOW"])


def _exposition(registry: CollectorRegistry) -> bytes:
    """This app's database figures, plus the process figures: summed over the host's processes in
    multiprocess mode, else this process's own (the global registry)."""
    from prometheus_client import REGISTRY

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest(registry)
    return generate_latest(REGISTRY) + generate_latest(registry)


def install_metrics(app: Flask) -> None:
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(app))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)

    @app.before_request
    def _start_clock():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("metrics_started", None)
        asked = request._get_current_object()  # one proxy lookup, not three
        if started is not None and asked.endpoint != "metrics":
            observe_request(asked.endpoint or "not_found", asked.method, response.status_code,
                            time.perf_counter() - started)
        return response

    def metrics():
        if not _allowed():
            abort(403)
        return Response(_exposition(registry), mimetype=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", endpoint="metrics", view_func=view(metrics))


_series = {}  # (endpoint, method, status class) → its histogram: labels() checks and hashes on every call


def observe_request(endpoint: str, method: str, status: int, seconds: float, engine=None, below_flask=False) -> None:
    """One answered request in the per-endpoint figures (also those answered below Flask: lms/quizzes/fast_save.py,
    lms/core/fast_pages.py, which also count in ANSWERED_BELOW_FLASK)."""
    if below_flask:
        ANSWERED_BELOW_FLASK.labels(endpoint).inc()
    key = (endpoint, method, f"{status // 100}xx")
    histogram = _series.get(key)
    if histogram is None:
        histogram = _series[key] = REQUEST_SECONDS.labels(*key)
    histogram.observe(seconds)
    _sample_pool(engine)


def _sample_pool(engine=None) -> None:
    from lms.extensions import db

    pool = (engine or db.engine).pool
    DB_POOL_IN_USE.set(pool.checkedout() if hasattr(pool, "checkedout") else 0)
