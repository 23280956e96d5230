"""Template helpers: dates in Vietnam's time zone as dd/mm/yyyy, language list, sanitised HTML."""

import functools
from datetime import datetime

from flask import current_app, has_request_context, request
from flask_babel import format_decimal, get_locale
from flask_login import current_user
from markupsafe import Markup

from lms.core.dates import to_local
from lms.core.layout import layout_menu, layout_part
from lms.core.markdown import sanitise
from lms.core.permissions import can


def format_date(value) -> str:
    local = to_local(value) if isinstance(value, datetime) else value
    return local.strftime("%d/%m/%Y") if local else ""


def format_datetime(value) -> str:
    local = to_local(value)
    return local.strftime("%H:%M %d/%m/%Y") if local else ""


def format_number(value, digits: int = 1) -> str:
    """In the page's language (vi: 1.234,5; en: 1,234.5), without a trailing zero on whole numbers."""
    if value is None:
        return ""
    return format_decimal(round(float(value), digits), format="#,##0." + "#" * digits)


def _text_size() -> str:
    if not has_request_context():
        return "normal"
    # one proxy lookup, not three
    return text_size(getattr(current_user._get_current_object(), "text_size", None), request.cookies)


def text_size(account_choice: str | None, cookies) -> str:
    """The account's choice when logged in (it follows the person to any device), else this device's cookie.
    Also for the pages answered below Flask (lms/core/fast_pages.py)."""
    size = account_choice or cookies.get("text_size", "normal")
    return size if size in ("normal", "large", "larger") else "normal"


@functools.cache
def locale_of(tag: str):
    # A Locale, not its tag: Flask-Babel parses a tag again on every request (~2 % of a light page's CPU).
    from babel import Locale

    return Locale.parse(tag)


def language_tag(session_language, config) -> str:
    """The session's language (set at log-in from the account, or by the switch) when the site offers it, else
    the default: the tag lms._select_locale gives Flask-Babel, and the pages answered below Flask read."""
    return session_language if session_language in config["LMS_LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"]


def sanitised(html) -> Markup:
    """HTML cleaned now by the renderer's allowlist, whatever wrote it: stored HTML was cleaned when it was
    rendered, but a page's safety must not depend on every writer (an import, a migration, a script)."""
    # Nh3 cleaned it just now: bandit's B704 does not apply.
    return Markup(sanitise(str(html))) if html is not None else Markup("")  # nosec B704


def register_template_helpers(app):
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["sanitised"] = sanitised
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["layout_part"] = layout_part
    app.jinja_env.globals["layout_menu"] = layout_menu

    @app.context_processor
    def _globals():
        return {"languages": current_app.config["LMS_LANGUAGES"], **request_globals()}


def request_globals() -> dict:
    """What base.html shows of the request itself (lms.core.page_cache keys its pages by these)."""
    return {
        "current_language": str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
        "current_path": request.full_path.rstrip("?") if request else "/",
        "text_size": _text_size(),
    }
