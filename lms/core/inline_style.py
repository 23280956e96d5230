"""The site stylesheet inlined on a first visit, so that a page is readable after one round trip (issue 16).

On "Slow 3G" every request costs 2 s of latency: a page that links its stylesheet needs two rounds (the
HTML, then the stylesheet) before anything is drawn. A browser that has no `css=<fingerprint>` cookie
(first visit, or the stylesheet changed since) gets the stylesheet's exact bytes in a <style> element,
a low-priority `<link rel="prefetch">` that puts the fingerprinted, immutable file in its HTTP cache
after the page has loaded, and the cookie. Later visits link the stylesheet as before: cached, no
request. The <style> is allowed by its sha256 hash in the Content-Security-Policy (no 'unsafe-inline'),
computed once from the very bytes sent.

The inline copy is the built (fingerprinted) stylesheet with its relative `url(...)`s (fonts) made
absolute, since they are now read against the page's address.
"""

import base64
import hashlib
import posixpath
import re
from dataclasses import dataclass

from flask import current_app, g, request
from markupsafe import Markup

COOKIE = "css"
STYLESHEET = "css/app.css"
ONE_YEAR = 365 * 24 * 3600
_RELATIVE_URL = re.compile(r"url\((['\"]?)(?!data:|https?:|/)([^'\")]+)\1\)")


@dataclass(frozen=True)
class InlineStyle:
    css: Markup  # what goes between <style> and </style>, byte for byte
    csp_source: str  # "'sha256-…'"
    fingerprint: str  # the stylesheet's content hash, the cookie's value


def build(css: str, stylesheet_url: str, fingerprint: str) -> InlineStyle:
    """`css` as served at `stylesheet_url` (absolute path), made to work inline."""
    folder = posixpath.dirname(stylesheet_url)

    def absolute(match):
        quote, reference = match.groups()
        return f"url({quote}{posixpath.normpath(posixpath.join(folder, reference))}{quote})"

    text = _RELATIVE_URL.sub(absolute, css)
    if "</" in text:
        raise ValueError("the stylesheet cannot be inlined: it contains '</'")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    # Our own stylesheet file: bandit's B704 does not apply.
    return InlineStyle(Markup(text), f"'sha256-{digest}'", fingerprint)  # nosec B704


def init_app(app, built_css: str, hashed_name: str) -> None:
    """Called by lms.core.assets once the stylesheet is built: the inline copy for the app's own root."""
    fingerprint = hashed_name.rsplit(".", 2)[-2]
    styles: dict[str, InlineStyle] = {}

    def for_root(script_root: str) -> InlineStyle:
        # Mounted under another prefix, the fonts' absolute URLs (so the bytes and the hash) differ.
        style = styles.get(script_root)
        if style is None:
            url = f"{script_root}{app.static_url_path}/{hashed_name}"
            style = styles[script_root] = build(built_css, url, fingerprint)
        return style

    for_root("")  # at start-up: a stylesheet that cannot be inlined stops the server now
    app.extensions["lms_inline_style"] = for_root
    app.jinja_env.globals["inline_stylesheet"] = inline_stylesheet
    app.jinja_env.globals["stylesheet_inlined_here"] = stylesheet_inlined_here
    app.after_request(_remember_the_stylesheet)


def current() -> InlineStyle | None:
    for_root = current_app.extensions.get("lms_inline_style")
    return for_root(request.script_root) if for_root else None


def inline_stylesheet() -> Markup:
    return current().css


def stylesheet_inlined_here() -> bool:
    """True when this browser has not got the current stylesheet: the page inlines it (and the response
    will carry the cookie). Called by base.html once per page."""
    style = current()
    if style is None or request.cookies.get(COOKIE) == style.fingerprint:
        return False
    g.lms_stylesheet_inlined = True
    return True


def _remember_the_stylesheet(response):
    if g.get("lms_stylesheet_inlined") and response.status_code < 400:
        response.set_cookie(COOKIE, current().fingerprint, max_age=ONE_YEAR, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
