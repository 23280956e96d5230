"""Kept pages answered below Flask (issue 17 item 1: the lesson page at 40 % of bare Flask; issue 14's library).

A lesson page read again is, for Flask, a request context, six before-request hooks, the user loader, the
view, eight after-request hooks and three teardowns around one statement and one copy of a kept page
(lms/core/page_cache.py): about half of the page's CPU was that machinery (docs/performance.md, "2026-12-06
(fifth)"). This WSGI layer, installed where the JSON autosave is (inside ProxyFix and the overload
shedding), answers a GET of a registered page itself when everything about the request is ordinary:

- the session cookie opened by the app's own session interface, holding nothing but a signed-in person's
  or a visitor's plain keys (no flashed message, no assisted session, no privacy review owed, no
  remembered log-in to refresh, no sign-in in progress);
- Flask-Login's session protection answered as it would answer it without writing to the session;
- the person read with the page's own row in one statement and checked as the user loader checks them
  (lms.accounts.viewer.load_below_flask): active, same session version, session record live and its
  "last seen" not due — and holding no role (menus and scopes of staff are drawn by Flask); on PostgreSQL that
  statement's rows may come from the process's kept copy, which the database's change feed keeps true
  (lms.core.change_feed: no round trip for a page read again);
- the page already kept by `render_page` under the same key (page_cache.page_key) and a CSRF token this
  process signed a moment ago (lms.core.csrf_tokens.kept_token) — this layer never renders or signs;
- the stylesheet already in the browser (no inline copy and cookie to send);
- no query string, unless the page reads one (the library's filters).

The headers are Flask's (lms.core.below_flask.finish), and the request counts in /metrics under the
view's endpoint. Anything else — a query string, HEAD, a write the visit would make, a database error —
goes to Flask unchanged, so every refusal, redirect and write stays in one place. `LMS_FAST_PAGES=0`
switches the layer off. tests/catalog/test_lesson_below_flask.py compares its answers with Flask's byte for byte.
"""

import logging
import re
import time

from lms.core import below_flask
from lms.core.csrf_tokens import kept_token
from lms.core.templating import language_tag, locale_of, text_size

log = logging.getLogger(__name__)
_ROUTES = []  # (path pattern, endpoint, answer)
# What an ordinary session holds (Flask-Login's keys, the session record's, the CSRF token, the language).
_PLAIN_KEYS = frozenset({"_user_id", "_fresh", "_id", "sid", "csrf_token", "lang"})


def page(pattern: str, endpoint: str, query: bool = False):
    """Decorator: `answer(visit, **groups)` gives (body, headers) for a GET of the path `pattern` (a regular
    expression whose named groups are the view's arguments), or None when Flask must answer it. `query`: the
    page reads a query string (visit.request.args); other pages with one are Flask's."""

    def register(answer):
        _ROUTES.append((re.compile(pattern), endpoint, answer, query))
        return answer

    return register


class Visit:
    """A GET as the answers below Flask see it: who the signed session names, the language, the cookies."""

    def __init__(self, app, request, cookie_session, person_ids, database: str):
        self.app, self.request, self.session = app, request, cookie_session
        self.database = database  # the engine's dialect: "sqlite" or "postgresql"
        self.person_ids = person_ids  # (user id, session version, session record key), or None for a visitor
        self.language = str(locale_of(language_tag(cookie_session.get("lang"), app.config)))  # as get_locale() gives it

    def kept_page(self, template_name: str, key: tuple, person, unread: int) -> str | None:
        """The page render_page keeps for `key` and this request, filled; None when Flask must draw it."""
        from lms.core.layout import kept_menu
        from lms.core.page_cache import fill_values, kept_page, page_key

        app, request = self.app, self.request
        csrf = kept_token(app, self.session.get(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")))
        menu = kept_menu(app, self.language, request.script_root, person)
        if csrf is None or menu is None:
            return None
        size = text_size(person.text_size if person is not None else None, request.cookies)
        full_key = page_key(template_name, key, self.language, request.script_root, request.full_path.rstrip("?"),
                            size, False, menu, person is not None, unread if person is not None else 0)
        return kept_page(app, full_key, fill_values(csrf, person, unread))


class FastPages(below_flask.Layer):
    """WSGI middleware: the registered pages answered here when ordinary, everything else passed to `wsgi_app`."""

    def __call__(self, environ, start_response):
        route = _route(environ) if environ.get("REQUEST_METHOD") == "GET" else None
        if route is None:
            return self.wsgi_app(environ, start_response)
        endpoint, answer, match = route
        started = time.perf_counter()
        response = self.answer_with_id(environ, self._answer, answer, match.groupdict())
        if response is None:
            return self.wsgi_app(environ, start_response)
        return self.counted(endpoint, "GET", response, started)(environ, start_response)

    def _answer(self, environ, answer, arguments: dict):
        app = self.app
        if app.jinja_env.auto_reload:  # flask --debug: render_page keeps nothing
            return None
        request = app.request_class(environ, populate_request=False)
        if _stylesheet_to_send(app, request):
            return None
        cookie_session = app.session_interface.open_session(app, request)
        if cookie_session is None or not cookie_session.keys() <= _PLAIN_KEYS:
            return None
        cookie_session.accessed = True  # as Flask's request context marks it when read: "Vary: Cookie"
        person_ids = _person_ids(app, environ, request, cookie_session)
        if person_ids is False:
            return None
        visit = Visit(app, request, cookie_session, person_ids, self.engine.dialect.name)
        with app.app_context():
            try:
                answered = answer(visit, **arguments)
            except Exception:  # noqa: BLE001 - the database away, or a fault: Flask answers it (503 and its log)
                log.warning("page below Flask failed; Flask answers", exc_info=True)
                return None
        if answered is None:
            return None
        body, headers = answered
        return below_flask.finish(app, request, cookie_session, app.response_class(body, headers=headers))


def _route(environ):
    """(endpoint, answer, match) of the registered page this request's path is, or None (a query string only for
    a page that reads one)."""
    path = environ.get("PATH_INFO", "")
    for pattern, endpoint, answer, query in _ROUTES:
        match = pattern.fullmatch(path)
        if match is not None:
            return (endpoint, answer, match) if query or not environ.get("QUERY_STRING") else None
    return None


def _stylesheet_to_send(app, request) -> bool:
    # A first visit gets the stylesheet inline and a cookie (lms.core.inline_style): Flask draws that page.
    for_root = app.extensions.get("lms_inline_style")
    return for_root is not None and request.cookies.get("css") != for_root(request.script_root).fingerprint


def _person_ids(app, environ, request, cookie_session):
    """(user id, session version, session record key) of a signed-in session, None for a visitor, or False when
    Flask-Login would do more than read the session (a remembered log-in, session protection writing)."""
    from lms.extensions import login_manager

    config = app.config
    user_id = cookie_session.get("_user_id")
    if user_id is None:
        asks_more = (config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
                     or login_manager._request_callback is not None
                     or config.get("AUTH_HEADER_NAME", "Authorization") in request.headers)
        return False if asks_more else None
    if config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST"):
        return False
    mode = config.get("SESSION_PROTECTION", login_manager.session_protection)
    if (mode in ("basic", "strong") and _identifier(environ, request) != cookie_session.get("_id")
            and (not (mode == "basic" or cookie_session.permanent) or cookie_session.get("_fresh") is not False)):
        return False  # another browser: Flask-Login would mark the session not fresh (a write) or end it
    raw_id, _, version = str(user_id).partition(":")
    key = cookie_session.get("sid")
    if not (key and raw_id.isascii() and raw_id.isdigit() and version.isascii() and version.isdigit()):
        return False
    return int(raw_id), version, key  # the version as the cookie says it (the user loader compares text)


def _identifier(environ, request) -> str:
    from lms.extensions import _identifier as identifier

    return identifier(environ.get("HTTP_X_FORWARDED_FOR", request.remote_addr), environ.get("HTTP_USER_AGENT"))


def install(app) -> None:
    """In front of the Flask app, beside the autosave's layer (lms/__init__.py); off with LMS_FAST_PAGES=0."""
    if app.config.get("LMS_FAST_PAGES", True):
        app.wsgi_app = FastPages(app.wsgi_app, app)
        app.extensions["lms_fast_pages"] = app.wsgi_app
