"""Refusing, fast, the requests an overloaded server cannot answer in time (issue 17: exam day ×5).

gunicorn's gthread worker hands each request to a thread pool whose queue has no bound. When
requests arrive faster than the cores serve them they wait there, longer and longer, and are still
served after their client has given up: the quiz page waits 15 s for a save (30 s for Submit), then
sends it again. The server then spends its CPU on answers nobody reads, and the queue never drains.

`lms.core.queue_timed_worker.QueueTimedWorker` (gthread plus a clock) notes how long each request
waited for a thread and leaves it in `waited` (thread-local: the app runs in the thread that took
the request). `install` wraps the WSGI app: a request that waited longer than LMS_QUEUE_LIMIT_MS is
answered at once with 503 and Retry-After — no session, user or database work — which the quiz
page's script and the exam bench treat as "try again" (they back off and honour Retry-After).

Under gunicorn's sync workers a request waits in the kernel's listen queue instead, out of the app's
sight. Behind nginx the wait can still be known: nginx stamps each request with the time it passed it
on (`proxy_set_header X-Request-Start "t=${msec}";`, deploy/nginx/lms-proxy.conf), and with
LMS_REQUEST_START_HEADER naming that header the same limit applies to now − that stamp (the listen
queue, plus the time a busy worker took to accept; the hosts' clocks kept by NTP, a few ms apart).
Only a proxy that overwrites the header may be trusted with it: a client reaching gunicorn directly
could otherwise only get its own requests refused, but the figures would be wrong. Unset (the default),
no header is read and the rule above stands.
"""

import json
import random
import threading
import time
from html import escape

from flask_babel import force_locale
from flask_babel import gettext as _

from lms.core.metrics import REQUESTS_SHED

# Set by the worker thread before it calls the app; absent outside QueueTimedWorker.
waited = threading.local()

# Spread over a few seconds: the pages refused together should not come back together.
RETRY_AFTER_SECONDS = (2, 6)


def queued_ms() -> float | None:
    """How long the current request waited for a worker thread, in milliseconds (None: not measured)."""
    return getattr(waited, "ms", None)


class ShedLateRequests:
    """WSGI middleware: 503 + Retry-After for a request that queued longer than `limit_ms`."""

    def __init__(self, wsgi_app, limit_ms: int, messages: dict, start_header: str = ""):
        self.wsgi_app, self.limit_ms, self.messages = wsgi_app, limit_ms, messages
        # The WSGI key of the proxy's request-start header ("" : not read).
        self.start_key = "HTTP_" + start_header.upper().replace("-", "_") if start_header else ""
        self.shed = 0  # answered without work, in this process (tests; /metrics could report it)

    def __call__(self, environ, start_response):
        ms = queued_ms()
        if ms is None and self.start_key:
            ms = proxy_wait_ms(environ.get(self.start_key, ""))
        if ms is None or ms <= self.limit_ms:
            return self.wsgi_app(environ, start_response)
        self.shed += 1
        REQUESTS_SHED.inc()  # Flask never sees the request: /metrics' per-endpoint figures would miss it
        waited.ms = None  # a second app in the same thread must not see this request's wait
        _read_small_body(environ)
        if "json" in environ.get("HTTP_ACCEPT", ""):
            body, kind = json.dumps({"error": 503, "message": self.messages["text"]}).encode(), "application/json"
        else:
            body, kind = self.messages["html"].encode(), "text/html; charset=utf-8"
        start_response("503 Service Unavailable", [
            ("Content-Type", kind), ("Content-Length", str(len(body))),
            ("Retry-After", str(random.randint(*RETRY_AFTER_SECONDS))), ("Cache-Control", "no-store")])
        return [body]


def proxy_wait_ms(stamp: str, now: float | None = None) -> float | None:
    """Milliseconds since the proxy's stamp ("t=1733475123.456" or the bare number: nginx's $msec, in
    seconds; milliseconds or microseconds, as other proxies write it, told apart by size). None when
    absent or unreadable; a stamp a little ahead of this host's clock counts as no wait."""
    text = stamp.strip().removeprefix("t=")
    try:
        value = float(text)
    except ValueError:
        return None
    if not 1e9 <= value < 1e17:  # not a time since 2001 in s, ms or µs (also NaN, inf)
        return None
    seconds = value / 1e6 if value >= 1e14 else value / 1e3 if value >= 1e11 else value
    return max(0.0, ((time.time() if now is None else now) - seconds) * 1000)


def _read_small_body(environ, limit: int = 64 * 1024) -> None:
    """Read a small request body (a save, a start): gunicorn closes a connection it will not keep with
    whatever is left unread, and a close with unread data is a reset that can overtake the 503."""
    length = environ.get("CONTENT_LENGTH", "")
    if length.isdigit() and 0 < int(length) <= limit:
        environ["wsgi.input"].read(int(length))


def install(app) -> None:
    """Wrap the app when LMS_QUEUE_LIMIT_MS > 0 (it is read only under QueueTimedWorker, or from the
    proxy's header named by LMS_REQUEST_START_HEADER)."""
    limit = app.config["LMS_QUEUE_LIMIT_MS"]
    if limit <= 0:
        return
    # The message in the site's default language, worked out once: a refused request has no session to read.
    with app.app_context(), force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
        text = _("The service is temporarily unavailable. Please try again in a moment.")
    html = (f'<!doctype html><html lang="{escape(app.config["BABEL_DEFAULT_LOCALE"])}"><meta charset="utf-8">'
            f"<title>503</title><p>{escape(text)}</p></html>")
    app.wsgi_app = ShedLateRequests(app.wsgi_app, limit, {"text": text, "html": html},
                                    app.config["LMS_REQUEST_START_HEADER"])
