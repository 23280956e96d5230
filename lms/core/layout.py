"""Parts of the base layout that are the same for everyone who shares a language and a menu.

The menu, the language and text-size buttons and the footer hold ~25 translated words and ~20 links;
rendered on every page they were a fifth of a page's CPU. Each part is rendered once per app and
(part, language, script root, the flags it is given) and kept as Markup: translations, links and
static file fingerprints are fixed while the process runs, so nothing goes stale. What differs per
person or per request (CSRF token, current path, name, the bell's count) stays in base.html.
"""

from flask import current_app, request
from flask_babel import get_locale
from markupsafe import Markup

from lms.core.permissions import can

_MAX_PARTS = 512  # a handful of languages × menu variants; a bound, should a caller pass something unbounded


def _part_key(name: str, language: str, script_root: str, flags: dict) -> tuple:
    return name, language, script_root, tuple(sorted(flags.items()))


def _menu_flags(signed_in: bool) -> dict:
    """The menu of a visitor, or of a signed-in person who holds no role."""
    return {"signed_in": signed_in, "teach": False, "assist": False, "oversee": False, "administer": False}


def layout_part(name: str, **flags) -> Markup:
    """templates/layout/<name>.html rendered with `flags` (hashable), cached for this app."""
    parts = current_app.extensions.setdefault("lms_layout_parts", {})
    key = _part_key(name, str(get_locale()), request.script_root, flags)
    part = parts.get(key)
    if part is None:
        template = current_app.jinja_env.get_template(f"layout/{name}.html")
        # An autoescaping template's output, kept as what it is: HTML.
        part = Markup(template.render(languages=current_app.config["LMS_LANGUAGES"].items(), **flags))  # nosec B704
        if len(parts) < _MAX_PARTS and not current_app.jinja_env.auto_reload:  # flask --debug: edits show at once
            parts[key] = part
    return part


def layout_menu() -> Markup:
    """The menu's links for this person: the flags are worked out here once, on the user object itself,
    instead of four `can()` calls through the current_user proxy in the template."""
    from flask import session
    from flask_login import current_user

    user = current_user._get_current_object() if current_user else None
    if user is None or not user.is_authenticated:
        return layout_part("menu_links", **_menu_flags(False))
    return layout_part("menu_links", signed_in=True, teach=can("teach", user),
                       assist=can("assist_residents", user) and not session.get("assist"),
                       oversee=can("oversee", user), administer=can("administer", user))


def kept_menu(app, language: str, script_root: str, person) -> Markup | None:
    """The menu layout_menu() gives a visitor (person None) or a signed-in person who holds no role, as this
    app keeps it; None when it is not kept yet (lms/core/fast_pages.py answers only what Flask drew before)."""
    parts = app.extensions.get("lms_layout_parts")
    if parts is None:
        return None
    return parts.get(_part_key("menu_links", language, script_root, _menu_flags(person is not None)))
