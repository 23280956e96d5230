"""The embedded runner: `make run`'s worker and beat, without a broker (DESIGN.md §10).

On a bare machine there is no Redis, so the outbox table itself is the queue. This process (started
by `flask serve` beside gunicorn, or alone as `flask jobs run`) claims queued messages and runs
their tasks through the very wrapper Celery workers use in production (claim → run → done, failures
retried with backoff), and runs the beat schedule of the configuration. Work therefore happens
after the request's transaction has ended and off the request's thread: a request never waits for
its own lock, and a crash of this process loses nothing (the leases run out and the work is
picked up again at the next start).
"""

import logging
import os
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from celery.schedules import crontab, maybe_schedule
from flask import Flask
from sqlalchemy import select

from lms.core import outbox
from lms.core.db import begin_read, utcnow
from lms.core.models import OutboxMessage, WorkerMark
from lms.extensions import db

log = logging.getLogger(__name__)
HEARTBEAT = "runner.heartbeat"
HEARTBEAT_EVERY = 10.0
RECONCILE_EVERY = 5.0


class Runner:
    def __init__(self, app: Flask, threads: int = 2):
        self.app = app
        self.threads = threads
        self.celery = app.extensions["celery"]
        self.schedule = {name: (entry["task"], maybe_schedule(entry["schedule"], app=self.celery))
                         for name, entry in app.config["CELERY"].get("beat_schedule", {}).items()}
        self.in_flight: dict[object, Future] = {}
        self._last = {"heartbeat": 0.0, "reconcile": 0.0}

    def run_forever(self, stop: threading.Event) -> None:
        poll = self.app.config["LMS_RUNNER_POLL_SECONDS"]
        log.info("embedded runner started (pid %s, %d threads)", os.getpid(), self.threads)
        with ThreadPoolExecutor(self.threads, thread_name_prefix="lms-job") as executor:
            while not stop.is_set():
                started = 0
                try:
                    started = self.tick(executor)
                except Exception:  # noqa: BLE001 - the database may be away for a while; keep polling
                    log.exception("runner tick failed")
                    stop.wait(2.0)
                if not started:
                    stop.wait(poll)
        log.info("embedded runner stopped")

    def tick(self, executor) -> int:
        """One round: heartbeat, reconcile, due schedule entries, due messages. Returns jobs started."""
        self._reap()
        now = time.monotonic()
        with self.app.app_context():
            if now - self._last["heartbeat"] >= HEARTBEAT_EVERY:
                self._mark(HEARTBEAT, {"pid": os.getpid(), "in_flight": len(self.in_flight)})
                self._last["heartbeat"] = now
            if now - self._last["reconcile"] >= RECONCILE_EVERY:
                outbox.reconcile()
                self._last["reconcile"] = now
            started = self._start_due_schedule(executor)
            free = self.threads * 2 - len(self.in_flight)
            for message_id, task, kwargs, attempts in self._due_messages(free) if free > 0 else ():
                self.in_flight[message_id] = executor.submit(self._run, task, kwargs, f"outbox-{message_id}-{attempts}")
                started += 1
        return started

    def _due_messages(self, limit: int):
        busy = [key for key in self.in_flight if isinstance(key, int)]
        query = (select(OutboxMessage.id, OutboxMessage.task, OutboxMessage.kwargs, OutboxMessage.attempts)
                 .where(OutboxMessage.state == outbox.QUEUED, OutboxMessage.due_at <= utcnow())
                 .order_by(OutboxMessage.due_at, OutboxMessage.id).limit(limit))
        if busy:
            query = query.where(OutboxMessage.id.not_in(busy))
        begin_read()
        rows = db.session.execute(query).all()
        db.session.rollback()  # end the read: SQLite must not keep a snapshot open between polls
        return rows

    def _start_due_schedule(self, executor) -> int:
        started = 0
        begin_read()
        marks = {mark.name: mark.at for mark in db.session.scalars(
            select(WorkerMark).where(WorkerMark.name.like("schedule:%")))}
        db.session.rollback()
        for name, (task, schedule) in self.schedule.items():
            key = f"schedule:{name}"
            if key in self.in_flight:
                continue
            last = marks.get(key)
            if last is None and isinstance(schedule, crontab):
                self._mark(key, {})  # a daily job waits for its hour rather than firing at every first start
                continue
            if last is not None and not schedule.is_due(last).is_due:
                continue
            self._mark(key, {"task": task})
            self.in_flight[key] = executor.submit(self._run, task, {}, f"schedule-{uuid.uuid4()}")
            started += 1
        return started

    def _run(self, task_name: str, kwargs: dict, task_id: str) -> None:
        try:
            task = self.celery.tasks[task_name]
        except KeyError:
            log.error("unknown task %s (%s)", task_name, task_id)
            with self.app.app_context():
                message_id = outbox.message_id(task_id)
                if message_id is not None and outbox.claim(message_id):
                    outbox.record_failure(message_id, LookupError(f"no task named {task_name}"))
            return
        result = task.apply(kwargs=kwargs, task_id=task_id)
        if result.failed():
            log.warning("%s (%s) failed: %r", task_name, task_id, result.result)

    def _mark(self, name: str, detail: dict) -> None:
        mark = db.session.get(WorkerMark, name) or WorkerMark(name=name)
        mark.at, mark.detail = utcnow(), detail
        db.session.add(mark)
        db.session.commit()

    def _reap(self) -> None:
        for key, future in list(self.in_flight.items()):
            if future.done():
                del self.in_flight[key]


def heartbeat_age_seconds() -> float | None:
    mark = db.session.get(WorkerMark, HEARTBEAT)
    return None if mark is None else (utcnow() - mark.at).total_seconds()
