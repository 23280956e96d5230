"""Error pages in the site layout (or JSON for API clients); never a traceback, and never gunicorn's
bare English "Internal Server Error".

An error page must render when the database is the thing that failed: the language comes from the
session cookie, the header is drawn for an anonymous visitor, and if even that fails a page without
the layout is sent.
"""

import logging

from flask import g, jsonify, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from lms.core.permissions import wants_json
from lms.extensions import db, login_manager

log = logging.getLogger(__name__)
# Short: a database restart takes seconds, and the quiz page waits at least this long before resending.
RETRY_AFTER_SECONDS = 5


def _messages():
    return {
        400: _("The request could not be understood. Please check what you entered and try again."),
        401: _("Please log in to continue."),
        403: _("You do not have permission to open this page."),
        404: _("We could not find this page. It may have been moved or removed."),
        405: _("This action is not allowed here."),
        413: _("The file is too large."),
        429: _("Too many attempts. Please wait a few minutes and try again."),
        500: _("Something went wrong on our side. Your saved work is safe; please try again in a moment."),
        503: _("The service is temporarily unavailable. Please try again in a moment."),
    }


def _respond(code: int, message: str | None = None, headers: dict | None = None):
    message = message or _messages().get(code, _messages()[500])
    if wants_json():
        return jsonify(error=code, message=message), code, headers or {}
    try:
        return render_template("errors/error.html", code=code, message=message), code, headers or {}
    except Exception:  # noqa: BLE001 - the layout itself failed (e.g. the database went away mid-render)
        log.exception("error page could not be rendered in the layout")
        return render_template("errors/bare.html", code=code, message=message), code, headers or {}


def database_unavailable(error) -> bool:
    """The database did not answer (refused, dropped, pool exhausted) — not a bug in a query."""
    if isinstance(error, DisconnectionError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and (error.connection_invalidated or _is_operational(error))


def _is_operational(error) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(error, OperationalError | InterfaceError)


def _forget_the_user():
    """Draw the page for an anonymous visitor, so rendering it needs no database."""
    g._login_user = login_manager.anonymous_user()


def register_error_handlers(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _respond(400, _("Your form has expired or was sent from another site. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        code = error.code or 500
        custom = error.description if getattr(error, "lms_message", False) else None
        # Rate limits (Flask-Limiter) count per minute or hour: a minute is an honest first wait.
        return _respond(code, custom, headers={"Retry-After": "60"} if code == 429 else None)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone
            log.warning("rollback after an error failed too", exc_info=True)
        if database_unavailable(error):
            log.warning("database unavailable: %s", error)
            _forget_the_user()
            return _respond(503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        log.exception("unhandled error")
        if "_login_user" not in g:
            _forget_the_user()
        return _respond(500)
