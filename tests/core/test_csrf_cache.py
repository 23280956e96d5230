"""The verified-CSRF-token cache (lms.core.csrf_tokens.CachedCSRFProtect): a token flask-wtf accepted is
not HMAC-checked again, and the cache accepts nothing flask-wtf would refuse — not another session's
token, not an expired one (with WTF_CSRF_TIME_LIMIT set), not a tampered one, not one of a rotated key."""

import time

import pytest
from flask import g, session
from flask_wtf.csrf import CSRFError
from itsdangerous import URLSafeTimedSerializer

from lms.core import csrf_tokens


@pytest.fixture
def checks(app, monkeypatch):
    """Full signature checks made (itsdangerous' loads), with CSRF on and an empty cache."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    app.extensions.pop("lms_csrf_verified", None)
    made = []
    loads = URLSafeTimedSerializer.loads

    def counted(self, *args, **kwargs):
        made.append(args[0])
        return loads(self, *args, **kwargs)

    monkeypatch.setattr(URLSafeTimedSerializer, "loads", counted)
    return made


def _new_token(app) -> tuple[str, str]:
    """(signed token, raw session token) of a new session."""
    with app.test_request_context("/"):
        return csrf_tokens.csrf_token(), session["csrf_token"]


def _post(app, raw: str, token: str, *, header: bool = False) -> None:
    """CSRFProtect's check of a POST carrying `token`, in a session whose raw token is `raw`."""
    data, headers = ({}, {"X-CSRFToken": token}) if header else ({"csrf_token": token}, {})
    with app.test_request_context("/attempts/1/save", method="POST", data=data, headers=headers):
        session["csrf_token"] = raw
        app.extensions["csrf"].protect()
        assert g.csrf_valid


def test_a_token_is_checked_in_full_once_then_taken_from_the_cache(app, checks):
    token, raw = _new_token(app)
    _post(app, raw, token)
    _post(app, raw, token, header=True)
    _post(app, raw, token)
    assert checks == [token]


def test_another_sessions_token_is_refused_though_cached(app, checks):
    token, raw = _new_token(app)
    _, other_raw = _new_token(app)
    _post(app, raw, token)
    with pytest.raises(CSRFError, match="do not match"):
        _post(app, other_raw, token)
    with (pytest.raises(CSRFError, match="session token is missing"),
          app.test_request_context("/x", method="POST", data={"csrf_token": token})):
        app.extensions["csrf"].protect()  # a session without a raw token at all


def test_a_cached_token_expires_with_the_time_limit(app, checks, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 60)
    token, raw = _new_token(app)
    signed = time.time()
    _post(app, raw, token)
    monkeypatch.setattr(time, "time", lambda: signed + 59)
    _post(app, raw, token)
    assert checks == [token]  # the second from the cache
    monkeypatch.setattr(time, "time", lambda: signed + 62)
    with pytest.raises(CSRFError, match="expired"):
        _post(app, raw, token)
    monkeypatch.setattr(time, "time", lambda: signed - 5)  # the clock went back: itsdangerous refuses a negative age
    with pytest.raises(CSRFError, match="expired"):
        _post(app, raw, token)


def test_no_time_limit_keeps_a_cached_token_valid(app, checks, monkeypatch):
    token, raw = _new_token(app)
    _post(app, raw, token)
    later = time.time() + 30 * 24 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    _post(app, raw, token)
    assert checks == [token]


def test_a_tampered_token_is_refused_though_the_real_one_is_cached(app, checks):
    token, raw = _new_token(app)
    _post(app, raw, token)
    payload, stamp, signature = token.rsplit(".", 2)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for bad in (f"{payload}.{stamp}.{flipped}", f"{payload}.{stamp[:-1]}x.{signature}", token + "x", token[1:]):
        with pytest.raises(CSRFError, match="invalid"):
            _post(app, raw, bad)
    with pytest.raises(CSRFError, match="missing"):
        _post(app, raw, "")


def test_a_rotated_key_refuses_a_token_cached_under_the_old_one(app, checks, monkeypatch):
    token, raw = _new_token(app)
    _post(app, raw, token)
    monkeypatch.setitem(app.config, "WTF_CSRF_SECRET_KEY", "a-new-key")
    with pytest.raises(CSRFError, match="invalid"):
        _post(app, raw, token)


def test_verified_tokens_are_bounded(app, checks, monkeypatch):
    monkeypatch.setattr(csrf_tokens, "_MAX_VERIFIED", 2)
    for _ in range(3):
        token, raw = _new_token(app)
        _post(app, raw, token)
    assert len(app.extensions["lms_csrf_verified"]) == 2
