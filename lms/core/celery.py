"""Celery bound to the Flask app, after Flask's own Celery example.

Every task runs inside an app context; messages carry ids (JSON), never objects. A task sent
from the outbox carries the message id in its Celery task id; the wrapper claims the message
before running and marks it done after, so the outbox knows what finished (lms.core.outbox).
Retries are the outbox's, not Celery's: a failed run is tried again with backoff by the
reconciler, which also covers the cases Celery's own retries cannot (database away, worker killed).
"""

import logging
import time

from celery import Celery, Task
from flask import Flask

from lms.core.metrics import record_task

log = logging.getLogger(__name__)


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return _run_claimed(self, args, kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.task_serializer = "json"
    celery_app.conf.accept_content = ["json"]
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def _run_claimed(task: Task, args, kwargs):
    from flask import g

    from lms.core import outbox
    from lms.core.observability import bind_request_id, unbind_request_id

    message_id = outbox.message_id(task.request.id)
    if message_id is not None and not outbox.claim(message_id):
        log.info("%s: outbox message %s is done or running elsewhere; skipped", task.name, message_id)
        return None
    token = bind_request_id(g.get("lms_request_id"))
    started, failed = time.perf_counter(), True
    try:
        result = _run_and_record(task, args, kwargs, message_id)
        failed = False
        return result
    finally:
        seconds = time.perf_counter() - started
        record_task(task.name, seconds, failed)
        # Logged while the request id of the work is still bound: this line carries it.
        log.info("%s (outbox %s) %s in %.3f s", task.name, message_id, "failed" if failed else "finished", seconds)
        unbind_request_id(token)


def _run_and_record(task: Task, args, kwargs, message_id: int | None):
    from lms.core import outbox
    from lms.extensions import db

    try:
        result = task.run(*args, **kwargs)
    except Exception as exc:
        db.session.rollback()
        if message_id is not None:
            try:
                state = outbox.record_failure(message_id, exc)
                log.warning("%s (outbox %s) failed, now %s: %s", task.name, message_id, state, exc)
            except Exception:  # noqa: BLE001 - database away: the lease runs out and the reconciler resends it
                db.session.rollback()
                log.exception("%s: could not record the failure of outbox message %s", task.name, message_id)
        raise
    if message_id is not None:
        outbox.finish(message_id)
    # Work the task queued through the outbox (e.g. an e-mail for a notification it made) goes out now.
    try:
        outbox.dispatch_ready()
    except Exception:  # noqa: BLE001 - the reconciler sends it later
        log.exception("outbox dispatch after task failed")
    return result
