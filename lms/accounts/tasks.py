from celery import shared_task
from sqlalchemy import select

from lms.core import outbox
from lms.core.db import utcnow
from lms.extensions import db

BATCH = 500


@shared_task(name="accounts.invite_imported")
def invite_imported():
    """Send every imported person who has no password and no link yet their set-password link.

    Idempotent: each person is marked invited in the batch that queued their message, so a
    second run (or a run after a crash) sends nobody twice. The messages of a batch are queued
    `DELIVERY_CHUNK` per outbox message, not one each (20,000 people → 200 messages, not 20,000).
    """
    from lms.accounts.models import UNUSABLE_PASSWORD_PREFIX, User
    from lms.accounts.recovery import send_set_password_link
    from lms.core.notices import deliver_in_chunks

    sent = 0
    while True:
        people = db.session.scalars(select(User).where(
            User.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX), User.invited_at.is_(None),
            User.is_active.is_(True)).order_by(User.id).limit(BATCH)).all()
        if not people:
            return sent
        batch: list[int] = []
        for person in people:
            if send_set_password_link(person, batch):
                sent += 1
            person.invited_at = utcnow()
        deliver_in_chunks(batch)
        outbox.extend_lease()
        db.session.commit()
        outbox.dispatch_ready()


@shared_task(name="accounts.prune_login_failures")
def prune_login_failures():
    """Hourly: drop failed log-in rows older than LMS_LOGIN_FAILURE_KEEP_HOURS. Delays only look at the
    last LOGIN_THROTTLE_WINDOW_MINUTES, so older rows are dead weight that an attacker's flood of guesses
    would otherwise grow without end (every failure is one row, known account or not)."""
    from flask import current_app

    from lms.accounts.operations import prune_login_failures as prune
    from lms.accounts.sessions import prune_ended

    removed = prune(current_app.config["LMS_LOGIN_FAILURE_KEEP_HOURS"])
    prune_ended()  # the same hourly sweep: ended sessions' addresses and browsers are not kept for ever
    db.session.commit()
    return removed
