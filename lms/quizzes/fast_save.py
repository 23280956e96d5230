"""Autosave answered below Flask (issue 17 item 2: 5,000 learners in one exam on two cores).

The quiz page's script sends `POST /attempts/<id>/save` with `Accept: application/json` every few
seconds per learner: the one request of an exam that every learner keeps sending. Inside Flask the
light path (lms/quizzes/autosave.py) already does its work in a read or two and an upsert; what remains
is the request around it — the request context, every before/after hook, Flask-Login, Flask-WTF,
the ORM session and its commit. This WSGI layer, installed in front of the Flask app (inside ProxyFix
and the overload shedding of lms/core/overload.py), answers that request itself with only:

- the session cookie opened by the app's own session interface (lms/core/cookie_sessions.py: the same
  keys, salt and lifetime, and its cache of opened cookies);
- the CSRF check Flask-WTF's CSRFProtect makes (`_csrf_ok`: the same token places, serializer, salt,
  time limit, constant-time comparison, and the referrer rule over HTTPS);
- the who/what checks and the upsert of the light path, shared (`autosave.store`): an active user of
  that session version whose session record for this browser is live, their own attempt locked FOR
  SHARE, not finished, within its deadline and grace — stored by `operations.store_answers`;
- the same JSON body, security headers (`app.extensions["lms_security_headers"]`), Vary, compression,
  request id and per-endpoint metrics as the Flask answer.

Anything it does not answer itself — no or bad CSRF token, signed out, another's attempt, finished, time
up, a session record due for its "last seen" write, not JSON, a body it cannot buffer, a database error —
goes to Flask unchanged (its body put back), so refusals, 409s and time-up stay in one place.
"""

import contextlib
import hmac
import io
import logging
import re
import time

from lms.accounts.sessions import TOUCH_EVERY
from lms.core import below_flask, csrf_tokens, thread_connections
from lms.core.db import session_bound_to_connection, utcnow
from lms.core.permissions import wants_json
from lms.quizzes import autosave
from lms.quizzes.forms import shown_ids

log = logging.getLogger(__name__)
_PATH = re.compile(r"/attempts/([1-9][0-9]{0,9})/save")
_MAX_ID = 2**31 - 1  # as lms/core/inputs.py's <int:…> converter: a larger id is Flask's 404
_MAX_BODY = 256 * 1024  # a save is a few hundred bytes; anything larger is Flask's to read
ENDPOINT = "quizzes.save"
# `_csrf_token`/`_csrf_ok` copy Flask-WTF's CSRFProtect.protect() and `compress` in lms.core.below_flask
# Flask-Compress's after_request (with its private _choose_algorithm and _compress_data) as these releases
# have them: an upgrade must re-check the copies (tests/quizzes/test_autosave_below_flask.py fails until this
# says the new versions).
CHECKED_AGAINST = {"flask-wtf": "1.3.0", "flask-compress": "1.25"}


class FastSave(below_flask.Layer):
    """WSGI middleware: the JSON autosave answered here, everything else passed to `wsgi_app`."""

    def __call__(self, environ, start_response):
        match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or environ.get("REQUEST_METHOD") != "POST" or "json" not in environ.get("HTTP_ACCEPT", ""):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        body = _buffered_body(environ)
        response = None
        if body is not None and int(match[1]) <= _MAX_ID:
            response = self.answer_with_id(environ, self._answer, int(match[1]))
            environ["wsgi.input"] = io.BytesIO(body)  # Flask reads the body as it came
        if response is None:
            return self.wsgi_app(environ, start_response)
        return self.counted(ENDPOINT, "POST", response, started)(environ, start_response)

    def _answer(self, environ, attempt_id: int):
        app = self.app
        request = app.request_class(environ, populate_request=False)  # CleanRequest: the form as the view reads it
        if not wants_json(request):
            return None
        cookie_session = app.session_interface.open_session(app, request)
        if cookie_session is not None:
            cookie_session.accessed = True  # as Flask's request context marks it when read: "Vary: Cookie"
        person = autosave.who(cookie_session) if cookie_session is not None else None
        if person is None or not _csrf_ok(app, request, cookie_session):
            return None
        with app.app_context():
            try:
                payload = _store(attempt_id, person, request.form)
            except Exception:  # noqa: BLE001 - the database away, or a fault: Flask answers it (503 and its log)
                log.warning("autosave below Flask failed; Flask answers", exc_info=True)
                return None
        if payload is None:
            return None
        return _response(app, request, cookie_session, payload)


def _store(attempt_id: int, person, form):
    """The shared checks and upsert, committed; None (nothing written) when Flask answers. The usual save, one
    answer, is a read and one upsert in autocommit; several answers are one transaction."""
    now = utcnow()
    if len(shown_ids(form)) == 1 and not session_bound_to_connection():
        from lms.extensions import db

        with thread_connections.autocommit(db.engine) as connection:
            saved = autosave.store(connection, attempt_id, person, form, now, seen_since=now - TOUCH_EVERY)
        return saved[0] if saved is not None else None
    with _transaction() as (connection, transaction):
        saved = autosave.store(connection, attempt_id, person, form, now, seen_since=now - TOUCH_EVERY)
        if saved is None:
            transaction.rollback()
            return None
    return saved[0]


@contextlib.contextmanager
def _transaction():
    """(connection, transaction): on this thread's own connection (lms.core.thread_connections: no checkout
    from the pool, which would ping first; dropped after a failure), or a savepoint on the tests' rolled-back
    transaction's connection. Committed at the end unless rolled back, rolled back when the block raises."""
    from lms.extensions import db

    if session_bound_to_connection():
        connection = db.session.session_factory.kw["bind"]
        with connection.begin_nested() as transaction:
            yield connection, transaction
    else:
        with thread_connections.transaction(db.engine) as (connection, transaction):
            yield connection, transaction


def _csrf_token(config, request) -> str | None:
    """Where Flask-WTF's CSRFProtect looks: the form field, a prefixed form field, then the headers."""
    field = config["WTF_CSRF_FIELD_NAME"]
    if request.form.get(field):
        return request.form[field]
    for key in request.form:
        if key.endswith(field) and request.form[key]:
            return request.form[key]
    for header in config["WTF_CSRF_HEADERS"]:
        if request.headers.get(header):
            return request.headers[header]
    return None


def _csrf_ok(app, request, cookie_session) -> bool:
    """Flask-WTF's CSRFProtect.protect() for this request: True only when it would let it through."""
    config = app.config
    if not (config["WTF_CSRF_ENABLED"] and config["WTF_CSRF_CHECK_DEFAULT"]) or "POST" not in config["WTF_CSRF_METHODS"]:
        return True  # as CSRFProtect: switched off (the test suite), or not for POST
    field = config["WTF_CSRF_FIELD_NAME"]
    data, raw = _csrf_token(config, request), cookie_session.get(field)
    if not data or not isinstance(raw, str):
        return False
    # Flask-WTF's serializer, salt and time limit; verified once per token and process (lms.core.csrf_tokens)
    token = csrf_tokens.verified_token(app, data, config.get("WTF_CSRF_TIME_LIMIT", 3600))
    if not isinstance(token, str) or not hmac.compare_digest(raw, token):
        return False
    if request.is_secure and config["WTF_CSRF_SSL_STRICT"]:
        from flask_wtf.csrf import same_origin

        return bool(request.referrer) and same_origin(request.referrer, f"https://{request.host}/")
    return True


def _response(app, request, cookie_session, payload):
    """The JSON answer as Flask's after-request hooks leave it (headers in the same order)."""
    return below_flask.finish(app, request, cookie_session, app.json.response(payload))


def _buffered_body(environ) -> bytes | None:
    """The request body, read whole (Flask gets a copy), or None for one without a small Content-Length."""
    length = environ.get("CONTENT_LENGTH", "")
    if not (length.isascii() and length.isdigit()) or int(length) > _MAX_BODY:
        return None
    body = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def install(app) -> None:
    """In front of the Flask app (lms/__init__.py calls it before ProxyFix and overload wrap the app)."""
    app.wsgi_app = FastSave(app.wsgi_app, app)
    app.extensions["lms_fast_save"] = app.wsgi_app
