"""Error pages in the site layout (or JSON for API clients); never a traceback."""

import logging

from flask import jsonify, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from lms.core.permissions import wants_json
from lms.extensions import db

log = logging.getLogger(__name__)


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


def _respond(code: int, message: str | None = None):
    message = message or _messages().get(code, _messages()[500])
    if wants_json():
        return jsonify(error=code, message=message), code
    return render_template("errors/error.html", code=code, message=message), code


def register_error_handlers(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _respond(400, _("Your form has expired or was sent from another site. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        code = error.code or 500
        custom = error.description if getattr(error, "lms_message", False) else None
        return _respond(code, custom)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        log.exception("unhandled error")
        db.session.rollback()
        return _respond(500)
