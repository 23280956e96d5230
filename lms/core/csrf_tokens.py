"""The signed CSRF token of a session, signed once and reused in this process for a few minutes.

Flask-WTF signs the session's raw token anew on every request that shows a form or a page with a
log-out button (`csrf_token()`): ~5 % of a lesson view's CPU. The signed token carries its own
timestamp, and any token signed for the session's raw token is valid, so a token signed a moment ago
serves as well as a new one. It is reused for REUSE_SECONDS at most — with WTF_CSRF_TIME_LIMIT set, a
tenth of it at most — so a form is accepted for (the time limit − its token's age), as before, give or
take that tenth. The cache is per process and keyed by the raw token and the signing key: a new session,
a new raw token or a rotated key signs again.
"""

import time

from flask import current_app, g, request, session
from flask_wtf.csrf import CSRFProtect, _get_config, generate_csrf, logger, same_origin, validate_csrf
from itsdangerous.encoding import base64_decode, bytes_to_int
from wtforms import ValidationError

from lms.core.bounded_cache import app_cache

REUSE_SECONDS = 300
_MAX_TOKENS = 4096  # sessions seen within REUSE_SECONDS by one process; past it, the least recent go


def csrf_token() -> str:
    """generate_csrf(), from a token this process signed for the same raw token less than a few minutes ago."""
    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field in g:
        return g.get(field)
    tokens = app_cache("lms_csrf_tokens", _MAX_TOKENS)  # (key, raw token) → (signed at, token)
    secret = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    raw = session.get(field)
    if isinstance(raw, str):
        signed = tokens.get((secret, raw))
        if signed is not None and time.time() - signed[0] < _reuse_seconds(config.get("WTF_CSRF_TIME_LIMIT")):
            setattr(g, field, signed[1])
            return signed[1]
    token = generate_csrf()
    tokens.put((secret, session[field]), (time.time(), token))
    return token


def _reuse_seconds(time_limit) -> float:
    return REUSE_SECONDS if not time_limit else min(REUSE_SECONDS, time_limit / 10)


def install(app) -> None:
    """`csrf_token()` in templates (Flask-WTF's CSRFProtect put generate_csrf there)."""
    app.jinja_env.globals["csrf_token"] = csrf_token


# ---- The checking side: a token verified once is not verified again (exam day: every save is a POST).

_MAX_VERIFIED = 16384  # (token, session) pairs a process checked lately; past it, the least recent go


def validate_csrf_cached(data) -> None:
    """flask_wtf.csrf.validate_csrf(data) with the app's configuration, remembering the tokens it accepted.

    HMAC-checking a signed token (itsdangerous: key derivation, base64, HMAC) was ~13 % of an autosave's
    gunicorn CPU, and a learner sends the same token with every save. A token is taken from the cache only
    for the same signing key, the same token string byte for byte (a tampered one is a new key and is
    checked in full, and refused) and the same raw token in this request's session (another session's
    token is checked in full, and refused); its age is checked again on every use against
    WTF_CSRF_TIME_LIMIT as flask-wtf does. Anything not in the cache goes to flask-wtf, whose errors stand.
    """
    # The settings as validate_csrf reads them (its private helper: the same defaults, the same errors).
    secret = _get_config(None, "WTF_CSRF_SECRET_KEY", current_app.secret_key, message="A secret key is required to use CSRF.")
    field = _get_config(None, "WTF_CSRF_FIELD_NAME", "csrf_token", message="A field name is required to use CSRF.")
    time_limit = _get_config(None, "WTF_CSRF_TIME_LIMIT", 3600, required=False)
    raw = session.get(field)
    key = (secret, data, raw)
    verified = app_cache("lms_csrf_verified", _MAX_VERIFIED)  # key → the token's signing time
    signed_at = verified.get(key) if data and isinstance(raw, str) else None
    if signed_at is None:
        validate_csrf(data)  # raises ValidationError as flask-wtf does
        signed_at = _signed_at(data)
        verified.put(key, signed_at)
    # itsdangerous' rule (max_age): refused when the age in whole seconds is over the limit, or negative.
    if time_limit is not None and not 0 <= int(time.time()) - signed_at <= time_limit:
        raise ValidationError("The CSRF token has expired.")


def _signed_at(token: str) -> int:
    """The timestamp of a token itsdangerous has just accepted (payload.timestamp.signature)."""
    return bytes_to_int(base64_decode(token.rsplit(".", 2)[1]))


class CachedCSRFProtect(CSRFProtect):
    """Flask-WTF's CSRFProtect whose check of the request's token goes through validate_csrf_cached."""

    def protect(self, apply_exemptions=False):
        # flask_wtf.csrf.CSRFProtect.protect (Flask-WTF 1.3.0), the token check replaced; the rest as it is there.
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        try:
            validate_csrf_cached(self._get_csrf_token())
        except ValidationError as e:
            logger.info(e.args[0])
            self._error_response(e.args[0])
        if request.is_secure and current_app.config["WTF_CSRF_SSL_STRICT"]:
            if not request.referrer:
                self._error_response("The referrer header is missing.")
            if not same_origin(request.referrer, f"https://{request.host}/"):
                self._error_response("The referrer does not match the host.")
        g.csrf_valid = True  # mark this request as CSRF valid
