"""Unbound extensions; `create_app` binds them."""

from functools import lru_cache
from hashlib import sha512

from flask import request, session
from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints so Alembic migrations are stable on PostgreSQL and SQLite batch mode.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()


class _LoginManager(LoginManager):
    """Flask-Login whose session protection leaves a session nobody is logged into alone.

    Flask-Login's "basic" protection writes `_fresh = False` into any non-empty session whose
    identifier it did not set, and an anonymous one (a CSRF token, a language) never has it. That
    write makes a background request answer with the session cookie as it was when the request
    left: the service worker's update check (`/sw.js`, fetched by the browser after a navigation)
    then overwrote the cookie of the sign-in that had just stored its OpenID state, and the
    return from the provider failed with "mismatching_state". Nobody is logged in, so there is
    nothing to protect and nothing to write."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._session_identifier_generator = _session_identifier

    def _session_protection_failed(self):
        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


def _session_identifier() -> str:
    """flask_login.utils._create_identifier's value (the same headers, the same hash), hashed once per
    (address, browser) in this process instead of on every request (~1.5 % of a light page's CPU)."""
    environ = request.environ
    return _identifier(environ.get("HTTP_X_FORWARDED_FOR", request.remote_addr), environ.get("HTTP_USER_AGENT"))


@lru_cache(maxsize=4096)
def _identifier(address: str | None, user_agent: str | None) -> str:
    if address is not None:  # the first address of an X-Forwarded-For list, as Flask-Login takes it
        address = address.encode("utf-8").split(b",")[0].strip()
    if user_agent is not None:
        user_agent = user_agent.encode("utf-8")
    return sha512(f"{address}|{user_agent}".encode()).hexdigest()


login_manager = _LoginManager()
babel = Babel()
csrf = CSRFProtect()
compress = Compress()
