"""Request ids and log format: one id follows a request into the background work it causes.

Every request gets an id (the proxy's `X-Request-ID` when it is well formed, else a new one); it is
answered in the `X-Request-ID` header, written on every log line of the request, stored on the
outbox messages the request queues, and set again while a worker runs that message — so an operator
can grep one id across nginx, gunicorn, the app and the worker. `LMS_LOG_FORMAT=json` writes one JSON
object per line (python-json-logger) for a log collector; the default stays human-readable.
"""

import contextvars
import logging
import re
import sys
import uuid

from flask import Flask, g, request

_REQUEST_ID = contextvars.ContextVar("lms_request_id", default=None)
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


def current_request_id() -> str | None:
    return _REQUEST_ID.get()


def bind_request_id(value: str | None):
    """Set the id for this context (a request, a task run); returns the token to reset it with."""
    return _REQUEST_ID.set(value)


def unbind_request_id(token) -> None:
    _REQUEST_ID.reset(token)


def _incoming_or_new() -> str:
    return request_id_from(request.environ.get("HTTP_X_REQUEST_ID", ""))  # the header, without the Headers view


def request_id_from(given: str) -> str:
    """The proxy's id when it is well formed, else a new one (also for requests answered below Flask)."""
    return given if _WELL_FORMED.match(given) else uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record, "-" outside a request or task."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _REQUEST_ID.get() or "-"
        return True


def configure_logging(log_format: str, level: str = "INFO") -> None:
    """One handler on the root logger, in the chosen format. Idempotent (the factory may run twice)."""
    root = logging.getLogger()
    if any(getattr(handler, "_lms_handler", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._lms_handler = True
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level",
                                                                       "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


def install_request_ids(app: Flask) -> None:
    @app.before_request
    def _bind_request_id():
        g.request_id = _incoming_or_new()
        g.request_id_token = bind_request_id(g.request_id)

    @app.after_request
    def _answer_request_id(response):
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response

    @app.teardown_request
    def _unbind_request_id(_error):
        token = g.pop("request_id_token", None)
        if token is not None:
            unbind_request_id(token)
