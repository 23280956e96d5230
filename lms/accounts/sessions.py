"""A person's sessions on the server side (OWASP ASVS 3.3.1, 3.3.3, 3.3.4).

Two checks, both made by the user loader in one query (lms/__init__.py):
- the cookie names the account's `session_version` (User.get_id); ending every session at once
  (role change, erasure) is one increment (`operations.end_sessions`);
- the signed session holds the key of a `SessionRecord` made at log-in; the record must not be ended.
  Log-out ends this browser's record; "Your sessions" ends one or all the others.
Only the database decides, so any host behind the load balancer agrees.
"""

import secrets
from datetime import timedelta

from flask import g, request, session
from flask_login import current_user, login_user, user_logged_in, user_logged_out
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from lms.accounts import operations
from lms.accounts.models import SessionRecord
from lms.core.db import utcnow
from lms.extensions import db

SESSION_KEY = "sid"
# Ended sessions (with their address and browser: personal data) are kept this long, then deleted.
KEEP_ENDED = timedelta(days=30)
# "Last seen" is written at most this often per session, not on every request.
TOUCH_EVERY = timedelta(minutes=5)
_KEEP_RECORD = "lms_keep_session_record"
_TOUCH = "lms_session_touch"


def install(app) -> None:
    user_logged_in.connect(_open_record)
    user_logged_out.connect(_end_record)
    app.after_request(_touch_last_seen)


def current_key() -> str | None:
    return session.get(SESSION_KEY)


def _open_record(_app, user, **_extra) -> None:
    """Every log-in (password, single sign-on, registration) opens a record for this browser."""
    if g.get(_KEEP_RECORD):
        return
    previous = session.get(SESSION_KEY)
    if previous:  # a new log-in in this browser (an assisted session starting or ending) replaces the old one
        db.session.execute(update(SessionRecord).where(SessionRecord.key == previous, SessionRecord.ended_at.is_(None))
                           .values(ended_at=utcnow()))
    key = secrets.token_urlsafe(32)
    db.session.add(SessionRecord(key=key, user_id=user.id, user_agent=request.user_agent.string[:255] or None,
                                 ip=(request.remote_addr or "")[:45] or None))
    # No commit here: every log-in (password, single sign-on, registration, assisted sessions) is a `@view`
    # that answers with a redirect, so the record is committed once with the rest of the request.
    session[SESSION_KEY] = key


def _end_record(_app, user, **_extra) -> None:
    key = session.pop(SESSION_KEY, None)
    if key and getattr(user, "id", None):
        end(user.id, key=key)
        db.session.commit()


def end(user_id: int, *, key: str | None = None, record_id: int | None = None) -> bool:
    """End one of `user_id`'s live sessions (by its cookie key or its id); False when there is none."""
    query = update(SessionRecord).where(SessionRecord.user_id == user_id, SessionRecord.ended_at.is_(None))
    query = query.where(SessionRecord.key == key) if key else query.where(SessionRecord.id == record_id)
    return db.session.execute(query.values(ended_at=utcnow())).rowcount > 0


def end_sessions(user) -> None:
    """Every session of `user` stops working at its next request (flushes; the caller commits)."""
    operations.end_sessions(user)
    db.session.flush()


def end_other_sessions(user) -> None:
    """Every session but the current one: this browser keeps its record, under the new version."""
    user = getattr(user, "_get_current_object", lambda: user)()  # never store the proxy as the user
    this_browser = current_user.is_authenticated and current_user.id == user.id
    operations.end_sessions(user, keep=current_key() if this_browser else None)
    db.session.flush()
    if this_browser:
        g.setdefault(_KEEP_RECORD, True)
        login_user(user)
        g.pop(_KEEP_RECORD, None)


def live_sessions(user_id: int) -> list[SessionRecord]:
    return list(db.session.scalars(select(SessionRecord).where(
        SessionRecord.user_id == user_id, SessionRecord.ended_at.is_(None),
    ).order_by(SessionRecord.last_seen_at.desc(), SessionRecord.id.desc())))


def note_seen(key: str, last_seen_at) -> None:
    """Called by the user loader: ask for a "last seen" write when the record's is older than TOUCH_EVERY."""
    if last_seen_at < utcnow() - TOUCH_EVERY:
        g.setdefault(_TOUCH, key)


def _touch_last_seen(response):
    """After the page is made, one short write; a busy database skips it (the next request tries again)."""
    key = g.pop(_TOUCH, None)
    if key is None or response.status_code >= 400:
        return response
    try:
        db.session.execute(update(SessionRecord).where(SessionRecord.key == key).values(last_seen_at=utcnow()))
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
    return response


def prune_ended() -> int:
    """Delete records ended more than KEEP_ENDED ago (hourly, with the failed log-ins). Flushes only."""
    return db.session.execute(delete(SessionRecord).where(SessionRecord.ended_at < utcnow() - KEEP_ENDED)).rowcount
