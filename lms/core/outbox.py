"""Transactional outbox with a lifecycle (DESIGN.md §6 and §10).

`enqueue` writes an OutboxMessage in the caller's transaction, so background work exists if and
only if the change committed. The message then lives through

    queued ──dispatch──▶ dispatched ──claim──▶ running ──▶ done
       ▲                     │                    │
       └──── reconcile ◀─────┴── not started ─────┴── lease over / run failed (backoff) ──▶ failed

- *dispatch*: after the commit the message is handed to Celery (production) or left for the
  embedded runner (`lms.core.runner`), which claims queued messages itself. Tests run it eagerly.
- *claim*: the worker that starts a run takes a lease (`due_at`) in the database; a copy of the
  same message arriving meanwhile (broker redelivery, relay) finds the lease and does nothing.
- *done* is written when the task returned, not when the broker accepted it: a broker that lost
  the message, a worker killed mid-run, or retries used up while the database was away all leave
  the message open, and `reconcile` (beat, or the embedded runner) sends it again once `due_at`
  passes. Tasks are idempotent, so a second run is harmless.
"""

import json
import logging
import re
from datetime import timedelta

from flask import current_app, g
from sqlalchemy import func, or_, select, update

from lms.core.db import existing_session, utcnow
from lms.core.models import OutboxMessage
from lms.core.observability import current_request_id
from lms.core.signals import background_work_failed
from lms.extensions import db

log = logging.getLogger(__name__)

QUEUED, DISPATCHED, RUNNING, DONE, FAILED = "queued", "dispatched", "running", "done", "failed"
OPEN_STATES = (QUEUED, DISPATCHED, RUNNING)
# A run that has not finished by the end of its lease is presumed dead (worker killed, host lost).
# Long tasks extend it as they go (`extend_lease`).
LEASE = timedelta(seconds=120)
# A dispatched message that no worker started by then was probably lost with the broker.
START_WITHIN = timedelta(seconds=90)
# dispatch_ready sends a queued message right after its commit; the relay waits this long first.
RELAY_GRACE = timedelta(seconds=10)
MAX_RUNS = 8
_PENDING = "lms_outbox_pending"
_READY = "lms_outbox_ready"
_TASK_ID = re.compile(r"^outbox-(\d+)-\d+$")


def backoff(runs: int) -> timedelta:
    """Wait before the next run after `runs` failed ones: 10 s, 20 s, 40 s … up to 5 minutes."""
    return timedelta(seconds=min(300, 10 * 2 ** max(0, runs - 1)))


def work_key(task: str, kwargs: dict) -> str:
    return f"{task}:{json.dumps(kwargs, sort_keys=True, separators=(',', ':'))}"[:200]


# ---------------------------------------------------------------- writing

def enqueue(task: str, **kwargs) -> OutboxMessage:
    message = OutboxMessage(task=task, kwargs=kwargs, dedupe_key=work_key(task, kwargs), state=QUEUED,
                            due_at=utcnow(), request_id=current_request_id())
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append(message.id)
    return message


def enqueue_many(task: str, kwargs_list: list[dict]) -> None:
    """`enqueue` for a batch: one multi-row INSERT instead of a flush per message."""
    now = utcnow()
    request_id = current_request_id()
    messages = [OutboxMessage(task=task, kwargs=kwargs, dedupe_key=work_key(task, kwargs), state=QUEUED, due_at=now,
                              request_id=request_id)
                for kwargs in kwargs_list]
    if not messages:
        return
    db.session.add_all(messages)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).extend(m.id for m in messages)


def install_session_hooks(session_class) -> None:
    """Promote pending ids to ready on commit; forget them on rollback."""
    from sqlalchemy import event

    if getattr(session_class, "_lms_outbox_hooks", False):
        return
    session_class._lms_outbox_hooks = True

    @event.listens_for(session_class, "after_commit")
    def _after_commit(session):
        pending = session.info.pop(_PENDING, [])
        if pending:
            session.info.setdefault(_READY, []).extend(pending)

    @event.listens_for(session_class, "after_rollback")
    def _after_rollback(session):
        session.info.pop(_PENDING, None)


# ---------------------------------------------------------------- dispatching

def mode() -> str:
    """'celery' (a broker and workers), 'runner' (the embedded runner polls), or 'eager' (tests)."""
    return current_app.config["LMS_TASK_MODE"]


def dispatch_ready() -> int:
    """Send the messages committed in this session. Called after requests, CLI commands, tasks.

    With the embedded runner there is nothing to send: it claims queued messages from the table.
    """
    session = existing_session()  # no session this request (a light page): nothing was committed
    if session is None:
        return 0
    ids = session.info.pop(_READY, [])
    if not ids or mode() == "runner":
        return 0
    return _send(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.state == QUEUED)
    ).all())


def start_within() -> timedelta:
    return timedelta(seconds=current_app.config.get("LMS_OUTBOX_START_SECONDS", START_WITHIN.total_seconds()))


def task_id_for(message_id: int, attempt: int) -> str:
    # The Celery task id names the message, so the worker can claim it without a change to the task's arguments.
    return f"outbox-{message_id}-{attempt}"


def message_id(task_id: str | None) -> int | None:
    match = _TASK_ID.match(task_id or "")
    return int(match.group(1)) if match else None


def _send(messages) -> int:
    """Hand each message to Celery (or run it, eagerly). Reads every row first: after a commit the
    ORM would reload them, holding a transaction (and on SQLite the write lock) during the send."""
    celery_app = current_app.extensions["celery"]
    work = [(m.id, m.task, dict(m.kwargs), m.attempts + 1) for m in messages]
    db.session.commit()
    sent = 0
    for message_id_, task_name, kwargs, attempt in work:
        try:
            task = celery_app.tasks[task_name]
            if mode() == "eager":
                _stamp(message_id_, attempts=attempt)
                task.apply(kwargs=kwargs, task_id=task_id_for(message_id_, attempt))
            else:
                task.apply_async(kwargs=kwargs, task_id=task_id_for(message_id_, attempt))
                now = utcnow()
                _stamp(message_id_, attempts=attempt, state=DISPATCHED, dispatched_at=now, due_at=now + start_within())
        except Exception as exc:  # broker down: the message stays queued for the relay
            db.session.rollback()
            _stamp(message_id_, attempts=attempt, last_error=f"{type(exc).__name__}: {exc}"[:2000])
            log.warning("outbox %s not dispatched: %s", message_id_, exc)
        else:
            sent += 1
    return sent


def _stamp(message_id_: int, **values) -> None:
    """Record a dispatch on the row in its own short transaction; a run that already started wins."""
    where = [OutboxMessage.id == message_id_]
    if values.get("state") == DISPATCHED:
        where.append(OutboxMessage.state.in_((QUEUED, DISPATCHED)))
    db.session.execute(update(OutboxMessage).where(*where).values(**values))
    db.session.commit()


# ---------------------------------------------------------------- running (called by the task wrapper)

def lease_length() -> timedelta:
    return timedelta(seconds=current_app.config.get("LMS_OUTBOX_LEASE_SECONDS", LEASE.total_seconds()))


def claim(message_id: int, lease: timedelta | None = None) -> bool:
    """Take the message for one run. False when it is finished or another run holds a live lease."""
    lease = lease or lease_length()
    now = utcnow()
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state.in_(OPEN_STATES),
               or_(OutboxMessage.state != RUNNING, OutboxMessage.due_at <= now))
        .values(state=RUNNING, started_at=now, due_at=now + lease, runs=OutboxMessage.runs + 1)
        .returning(OutboxMessage.id, OutboxMessage.request_id).execution_options(synchronize_session=False)
    ).first()
    db.session.commit()
    if claimed is not None:
        g.lms_outbox_id = message_id
        g.lms_request_id = claimed.request_id
    return claimed is not None


def lease_statement(lease: timedelta | None = None):
    """The UPDATE that keeps the running message's lease, or None outside an outbox task."""
    message_id = g.get("lms_outbox_id")
    if message_id is None:
        return None
    return (update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.state == RUNNING)
            .values(due_at=utcnow() + (lease or lease_length())))


def extend_lease(lease: timedelta | None = None) -> None:
    """For long tasks: still alive, keep the lease. Committed with the task's next commit."""
    statement = lease_statement(lease)
    if statement is not None:
        db.session.execute(statement)


def finish(message_id: int) -> None:
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
        state=DONE, finished_at=utcnow(), last_error=None))
    db.session.commit()


def record_failure(message_id: int, exc: Exception) -> str:
    """After a run raised: try again later with backoff, or give up after MAX_RUNS. Returns the new state."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return FAILED
    error = f"{type(exc).__name__}: {exc}"[:2000]
    now = utcnow()
    if message.runs >= MAX_RUNS:
        _give_up(message, error)
    else:
        message.state, message.due_at, message.last_error = QUEUED, now + backoff(message.runs), error
    db.session.commit()
    return message.state


def _give_up(message: OutboxMessage, error: str) -> None:
    """No more runs: the message is failed, and the feature whose job it was hears of it (in this transaction)."""
    message.state, message.finished_at, message.last_error = FAILED, utcnow(), error
    background_work_failed.send(current_app._get_current_object(), task=message.task, kwargs=message.kwargs,
                                error=error)


# ---------------------------------------------------------------- reconciling

def due_messages(limit: int = 500, now=None):
    """Open messages that need a (re)send: queued past the grace, or whose `due_at` passed."""
    now = now or utcnow()
    return (select(OutboxMessage)
            .where(or_(OutboxMessage.state.in_((DISPATCHED, RUNNING)) & (OutboxMessage.due_at <= now),
                       (OutboxMessage.state == QUEUED) & (OutboxMessage.due_at <= now - RELAY_GRACE)))
            .order_by(OutboxMessage.due_at, OutboxMessage.id).limit(limit))


def reconcile(limit: int = 500) -> int:
    """Send again what is not done in time: never sent, lost by the broker, run by a worker that died,
    or waiting for its next try. Messages that used every run are marked failed."""
    messages = db.session.scalars(due_messages(limit)).all()
    to_send = []
    for message in messages:
        if message.state == RUNNING and message.runs >= MAX_RUNS:
            _give_up(message, message.last_error or "the worker never finished it (killed or lost)")
        else:
            message.state = QUEUED
            to_send.append(message)
    db.session.commit()
    if mode() == "runner":
        return len(to_send)  # the runner picks queued messages up itself
    return _send(to_send)


def relay(older_than_seconds: int = 10) -> int:
    """`flask outbox relay`: send now what reconcile would send (queued messages older than the given age too)."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    db.session.execute(update(OutboxMessage).where(OutboxMessage.state == QUEUED, OutboxMessage.created_at <= cutoff)
                       .values(due_at=utcnow() - RELAY_GRACE))
    db.session.commit()
    return reconcile()


def retry(message: OutboxMessage) -> None:
    """An administrator's Retry on a failed message: a fresh set of runs."""
    message.state, message.runs, message.due_at, message.finished_at = QUEUED, 0, utcnow(), None
    db.session.info.setdefault(_PENDING, []).append(message.id)


def stats() -> dict:
    """Counts by state and the age of the oldest open message (for /healthz and the admin page)."""
    counts = dict(db.session.execute(select(OutboxMessage.state, func.count()).where(
        OutboxMessage.state != DONE).group_by(OutboxMessage.state)).all())
    oldest = db.session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.state.in_(OPEN_STATES)))
    return {"open": sum(counts.get(s, 0) for s in OPEN_STATES), "failed": counts.get(FAILED, 0),
            "by_state": counts,
            "oldest_open_seconds": int((utcnow() - oldest).total_seconds()) if oldest else 0}
