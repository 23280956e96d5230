"""Unbound extensions; `create_app` binds them."""

from flask import session
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

    def _session_protection_failed(self):
        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


login_manager = _LoginManager()
babel = Babel()
csrf = CSRFProtect()
compress = Compress()
