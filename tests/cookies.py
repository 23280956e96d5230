"""A signed-in browser without the log-in form, for benchmarks and tests that need many of them or
an app whose database is away: the session a log-in leaves (lms/accounts/sessions.py) — the account
with its `session_version`, and the key of a live `SessionRecord`; without the key the user loader
asks the database nothing and the cookie is anonymous."""

import secrets

from sqlalchemy import insert

from lms.accounts.models import SessionRecord
from lms.accounts.sessions import SESSION_KEY


def open_records(user_ids) -> dict[int, str]:
    """A live session record for each account, as its log-in makes one: {user id: key}. The caller commits."""
    from lms.extensions import db

    keys = {user_id: secrets.token_urlsafe(32) for user_id in user_ids}
    db.session.execute(insert(SessionRecord), [{"key": key, "user_id": user_id} for user_id, key in keys.items()])
    return keys


def sign_in(session, user_id: int, session_version: int, record_key: str) -> None:
    """Fill `session` (Flask's, or a test client's session_transaction) as login_user leaves it."""
    session["_user_id"] = f"{user_id}:{session_version}"
    session[SESSION_KEY] = record_key
    session["_fresh"] = True


def session_cookie(app, session) -> str:
    """The `Cookie:` value a browser holding `session` sends, signed with the app's key."""
    serializer = app.session_interface.get_signing_serializer(app)
    return f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps(dict(session))}"
