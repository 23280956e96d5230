"""Ending a person's sessions on the server side.

A session names the account's `session_version` (User.get_id); the user loader refuses a session
whose version is not the current one. Ending every session is therefore one increment
(`operations.end_sessions`, also used by logout and role changes).
"""

from flask_login import current_user, login_user

from lms.accounts import operations
from lms.extensions import db


def end_sessions(user) -> None:
    """Every session of `user` stops working at its next request (flushes; the caller commits)."""
    operations.end_sessions(user)
    db.session.flush()


def end_other_sessions(user) -> None:
    """Every session but the current one: the current browser is logged in again under the new version."""
    user = getattr(user, "_get_current_object", lambda: user)()  # never store the proxy as the user
    end_sessions(user)
    if current_user.is_authenticated and current_user.id == user.id:
        login_user(user)
