"""The signed CSRF token of a session, signed once and reused in this process for a few minutes.

Flask-WTF signs the session's raw token anew on every request that shows a form or a page with a
log-out button (`csrf_token()`): ~5 % of a lesson view's CPU. The signed token carries its own
timestamp, and any token signed for the session's raw token is valid, so a token signed a moment ago
serves as well as a new one. It is reused for REUSE_SECONDS at most — with WTF_CSRF_TIME_LIMIT set, a
tenth of it at most — so a form is accepted for (the time limit − its token's age), as before, give or
take that tenth. The cache is per process and keyed by the raw token and the signing key: a new session,
a new raw token or a rotated key signs again.

The other way round, the autosave answered below Flask (lms/quizzes/fast_save.py) checks the same signed
token ~10 times per learner in an exam: `verified_token` keeps what verifying it gave (the raw token inside and
when it was signed), so a token seen before costs a dictionary look-up, not a signature. Its age is checked
against the time limit at every use, as itsdangerous checks it; a token that fails verification is not kept.
"""

import time

from flask import current_app, g, request, session
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer

from lms.core.bounded_cache import app_cache

REUSE_SECONDS = 300
# `install` finds Flask-WTF's before_request hook by its module and name, and `csrf_token` relies on
# generate_csrf keeping the signed token in `g` under the field name, as this release does: an upgrade must
# re-check both (tests/core/test_request_path.py fails until this says the new version).
CHECKED_AGAINST = {"flask-wtf": "1.3.0"}
_MAX_TOKENS = 4096  # sessions seen within REUSE_SECONDS by one process; past it, the least recent go
_MAX_VERIFIED = 8192  # tokens a process's autosaves present (one or two per learner); past it, the least recent go
_SALT = "wtf-csrf-token"  # Flask-WTF's, for every token it signs


def csrf_token() -> str:
    """generate_csrf(), from a token this process signed for the same raw token less than a few minutes ago."""
    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field in g:
        return g.get(field)
    signed = kept_token(current_app, session.get(field))
    if signed is not None:
        setattr(g, field, signed)
        return signed
    secret = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    token = generate_csrf()
    app_cache("lms_csrf_tokens", _MAX_TOKENS).put((secret, session[field]), (time.time(), token))
    return token


def kept_token(app, raw) -> str | None:
    """The token this process signed for the session's `raw` token a moment ago, or None (none yet, or too old).
    Also for the pages answered below Flask (lms/core/fast_pages.py), which never sign one themselves."""
    tokens = app.extensions.get("lms_csrf_tokens")  # (key, raw token) → (signed at, token)
    if tokens is None or not isinstance(raw, str):
        return None
    config = app.config
    signed = tokens.get((config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, raw))
    if signed is not None and time.time() - signed[0] < _reuse_seconds(config.get("WTF_CSRF_TIME_LIMIT")):
        return signed[1]
    return None


def verified_token(app, signed: str, max_age: int | None):
    """What Flask-WTF's `validate_csrf` finds inside `signed` (the session's raw token, if genuine), or None: a bad
    signature, or older than `max_age` seconds (None: any age) or signed in the future, as itsdangerous refuses it."""
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    verified = app_cache("lms_csrf_verified", _MAX_VERIFIED, app)
    kept = verified.get((secret, signed))  # (raw token, signed at: whole seconds)
    if kept is None:
        try:
            token, signed_at = URLSafeTimedSerializer(secret, salt=_SALT).loads(signed, max_age=max_age,
                                                                                 return_timestamp=True)
        except BadData:  # SignatureExpired is one
            return None
        kept = (token, int(signed_at.timestamp()))
        verified.put((secret, signed), kept)
        return token
    age = int(time.time()) - kept[1]  # itsdangerous's rule (TimestampSigner.unsign), on its whole seconds
    return kept[0] if max_age is None or 0 <= age <= max_age else None


def _reuse_seconds(time_limit) -> float:
    return REUSE_SECONDS if not time_limit else min(REUSE_SECONDS, time_limit / 10)


def install(app) -> None:
    """`csrf_token()` in templates (Flask-WTF's CSRFProtect put generate_csrf there); Flask-WTF's check
    skipped at once for the methods it never checks."""
    app.jinja_env.globals["csrf_token"] = csrf_token
    hooks = app.before_request_funcs.setdefault(None, [])
    for index, hook in enumerate(hooks):
        if hook.__module__ == "flask_wtf.csrf" and hook.__name__ == "csrf_protect":
            hooks[index] = _only_for_checked_methods(app, hook)


def _only_for_checked_methods(app, csrf_protect):
    # Flask-WTF looks up the view's exemptions (four proxy lookups, a string built) before it finds that a
    # GET is never checked: ~2 % of a light page. The same answer, from the method first; every other
    # request goes through Flask-WTF's own hook unchanged.
    def checked_csrf_protect():
        if request.method in app.config["WTF_CSRF_METHODS"]:
            return csrf_protect()
        return None

    return checked_csrf_protect
