"""Whole pages rendered once per (what they show) and filled per request with the few per-person parts.

A lesson page is the same bytes for every learner who reads the same lesson version in the same language,
with the same menu, text size and progress state — but for the CSRF token, the person's id and name and
the bell's count. Rendering it through Jinja each time was a third of its CPU (docs/performance.md,
"2026-12-06: the lesson page's fast path"). `render_page` renders it once with stand-ins for those
parts, keeps the result split at the stand-ins, and later joins the pieces with this request's values.

The cache key is every value the page is drawn from (the caller's `key`, with the page's data itself,
e.g. the lesson's HTML, not a version number that a writer might forget to bump) plus the request's
language, path, text size, stylesheet state and menu. A changed lesson is a different key: every host
shows the edit at once, there is nothing to invalidate, and the cache is only ever a process-local copy.
A page is kept only when filling it gives exactly what a full render gave (checked on the render that
fills the cache), and never when the session carries something shown once (flashed messages, the
community "assisting" banner).
"""

import re
import secrets

from flask import current_app, render_template, request, session
from flask_login import current_user
from markupsafe import escape

from lms.core.bounded_cache import app_cache
from lms.core.csrf_tokens import csrf_token
from lms.core.inline_style import stylesheet_inlined_here
from lms.core.layout import layout_menu
from lms.core.templating import request_globals

# Stand-ins no page can hold by chance: random for each process, and a page that does contain one is
# simply not kept (the fill check below fails).
_TOKEN = secrets.token_hex(12)
_CSRF = f"lmsslot{_TOKEN}csrf"
_USER_ID = f"lmsslot{_TOKEN}userid"
_NAME = f"lmsslot{_TOKEN}name"
_UNREAD = 10**17 + secrets.randbelow(10**17)  # a number: the template formats it with %d
_SLOTS = re.compile(f"({_CSRF}|{_USER_ID}|{_NAME}|{_UNREAD})")


class _StandInUser:
    """What the page templates read of current_user, with stand-ins for the per-person values."""

    is_authenticated = True
    is_anonymous = False
    id = _USER_ID
    full_name = _NAME


def render_page(template_name: str, key: tuple, unread: int | None = None, drawn=None, **context) -> str:
    """render_template(template_name, **context), from a copy kept per `key` and request state when one is.

    `key` must hold every value of `context` that the template shows (ids, titles, HTML, flags). The
    template may use current_user only for is_authenticated, id and full_name, and csrf_token() and
    unread_notifications() for the per-person parts; anything else per person belongs in `key`.
    `unread`: the bell's count when the caller fetched it with its own data (else it is asked for).
    `drawn`: a function giving more of the context, called only when the page is drawn (`key` holds what it shows).
    """
    app = current_app._get_current_object()
    if unread is not None:
        context["unread_notifications"] = lambda: unread
    if app.jinja_env.auto_reload or "_flashes" in session or session.get("assist"):
        return render_template(template_name, **context, **(drawn() if drawn else {}))
    user = current_user._get_current_object()
    signed_in = bool(user and user.is_authenticated)
    if not signed_in:
        unread = 0
    elif unread is None:  # the context processors' bell (lms.notifications), when the caller has no count
        shared = {}
        app.update_template_context(shared)
        unread = shared["unread_notifications"]()
    values = fill_values(csrf_token(), user if signed_in else None, unread)
    shown = request_globals()  # language, path, text size
    full_key = page_key(template_name, key, shown["current_language"], request.script_root, shown["current_path"],
                        shown["text_size"], stylesheet_inlined_here(), layout_menu(), signed_in, unread)
    pages = app_cache("lms_page_cache")
    pieces = pages.get(full_key)
    if pieces is not None:
        return _fill(pieces, values)
    if drawn is not None:
        context.update(drawn())
    page = render_template(template_name, **{**context, "unread_notifications": lambda: unread})
    pieces = _pieces(template_name, context, signed_in, bool(unread))
    if _fill(pieces, values) == page:
        pages.put(full_key, pieces)
    else:
        app.logger.warning("page %s not cached: its stand-ins do not fill back to the page", template_name)
    return page


def page_key(template_name: str, key: tuple, language: str, script_root: str, path: str, text_size: str,
             stylesheet_inlined: bool, menu, signed_in: bool, unread: int) -> tuple:
    """The key a page is kept under: the caller's `key` and the request state the page shows. One function for
    render_page and for the pages answered below Flask (lms/core/fast_pages.py), so both find the same copy."""
    return (template_name, key, language, script_root, path, text_size, stylesheet_inlined, menu, signed_in,
            bool(unread))


def fill_values(csrf: str, user, unread: int) -> dict[str, str]:
    """What the stand-ins are replaced with for this request: `user` is None for a visitor."""
    if user is None:
        return {_CSRF: csrf}
    return {_CSRF: csrf, _USER_ID: str(user.id), _NAME: str(escape(user.full_name)), str(_UNREAD): str(unread)}


def kept_page(app, full_key: tuple, values: dict[str, str]) -> str | None:
    """The page kept under `full_key`, filled with `values`; None when it is not kept (yet)."""
    pieces = app.extensions.get("lms_page_cache")
    pieces = pieces.get(full_key) if pieces is not None else None
    return _fill(pieces, values) if pieces is not None else None


def _pieces(template_name: str, context: dict, signed_in: bool, has_unread: bool) -> tuple[str, ...]:
    """The page with stand-ins, split so that the odd items are the stand-ins."""
    stand_ins = {"csrf_token": lambda: _CSRF, "unread_notifications": lambda: _UNREAD if has_unread else 0}
    if signed_in:
        stand_ins["current_user"] = _StandInUser()
    return tuple(_SLOTS.split(render_template(template_name, **{**context, **stand_ins})))


def _fill(pieces: tuple[str, ...], values: dict[str, str]) -> str:
    return "".join([piece if index % 2 == 0 else values[piece] for index, piece in enumerate(pieces)])
