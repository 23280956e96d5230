"""Bearer-token authentication for /api/v1 (no sessions, no cookies, so no CSRF)."""

from functools import wraps

from flask import g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from lms.api.models import ApiToken, hash_token
from lms.core.db import utcnow
from lms.core.lifecycle import save_now
from lms.extensions import db


def token_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _sep, secret = header.partition(" ")
        token = None
        if scheme.lower() == "bearer" and secret.strip():
            token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret.strip()),
                                                             ApiToken.revoked_at.is_(None)))
        if token is None:
            response = jsonify(error=401, message=_("A valid API token is required."))
            response.headers["WWW-Authenticate"] = 'Bearer realm="lms"'
            return response, 401
        now = utcnow()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
            token.last_used_at = now  # coarse, so polling does not write on every call
            save_now()  # the token's use is kept whatever the call answers
        g.api_token = token
        return view(*args, **kwargs)

    return wrapper
