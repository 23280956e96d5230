"""Transactional outbox (DESIGN.md §6).

`enqueue` writes an OutboxMessage in the caller's transaction, so background work exists if
and only if the change committed. After the commit, `dispatch_ready` hands the messages to
Celery and stamps them; if the broker is down they stay undispatched and the periodic
`core.relay_outbox` task (or `flask outbox relay`) sends them later. Tasks are idempotent, so
a message sent twice (crash between send and stamp) does no harm.
"""

import logging
from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from lms.core.db import utcnow
from lms.core.models import OutboxMessage
from lms.extensions import db

log = logging.getLogger(__name__)
_PENDING = "lms_outbox_pending"
_READY = "lms_outbox_ready"


def enqueue(task: str, **kwargs) -> OutboxMessage:
    message = OutboxMessage(task=task, kwargs=kwargs)
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append(message.id)
    return message


def enqueue_many(task: str, kwargs_list: list[dict]) -> None:
    """`enqueue` for a batch: one multi-row INSERT instead of a flush per message."""
    messages = [OutboxMessage(task=task, kwargs=kwargs) for kwargs in kwargs_list]
    if not messages:
        return
    db.session.add_all(messages)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).extend(m.id for m in messages)


_hooks_installed = False


def install_session_hooks() -> None:
    """Promote pending ids to ready on commit; forget them on rollback (every Session)."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True

    @event.listens_for(Session, "after_commit")
    def _after_commit(session):
        pending = session.info.pop(_PENDING, [])
        if pending:
            session.info.setdefault(_READY, []).extend(pending)

    @event.listens_for(Session, "after_rollback")
    def _after_rollback(session):
        session.info.pop(_PENDING, None)


def dispatch_ready() -> int:
    """Send the messages committed in this session. Called after requests, CLI commands, tasks."""
    ids = db.session.info.pop(_READY, [])
    if not ids:
        return 0
    return _send(db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.dispatched_at.is_(None))
    ).all())


def relay(older_than_seconds: int = 30) -> int:
    """Re-send messages that were committed but never reached the broker."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    messages = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.dispatched_at.is_(None), OutboxMessage.created_at <= cutoff)
        .order_by(OutboxMessage.id)
        .limit(500)
    ).all()
    return _send(messages)


def _send(messages) -> int:
    celery_app = current_app.extensions["celery"]
    sent = 0
    for message in messages:
        message.attempts += 1
        try:
            celery_app.tasks[message.task].apply_async(kwargs=message.kwargs)
        except Exception as exc:  # broker down: keep the row for the relay
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("outbox %s not dispatched: %s", message.id, exc)
        else:
            message.dispatched_at = utcnow()
            sent += 1
        db.session.commit()
    return sent


@shared_task(name="core.relay_outbox")
def relay_outbox_task():
    return relay()
