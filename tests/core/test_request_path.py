"""The shared request path's shortcuts (docs/performance.md, "2026-12-06: the shared request path"):
a session cookie opened once per process, a signed CSRF token reused for a few minutes, no rate-limit
work on page views. Each keeps what it replaced: a tampered or expired cookie opens nothing, a session's
changes never leak into the kept copy, a reused token validates, another session gets its own."""

import time

import pytest
from flask import session
from flask_wtf.csrf import validate_csrf

from lms.core import csrf_tokens


def _opened(app, cookie):
    """The session the app opens for a request carrying `cookie`."""
    from flask import request

    name = app.config.get("SESSION_COOKIE_NAME", "session")
    with app.test_request_context("/", headers={"Cookie": f"{name}={cookie}"}):
        return dict(app.session_interface.open_session(app, request))


def _cookie(app, data: dict) -> str:
    return app.session_interface.get_signing_serializer(app).dumps(data)


def test_a_cookie_opened_again_gives_a_fresh_copy_and_a_tampered_one_nothing(app):
    cookie = _cookie(app, {"lang": "en", "notes": {"seen": 1}})
    first = _opened(app, cookie)
    assert first == {"lang": "en", "notes": {"seen": 1}}
    first["notes"]["seen"] = 2  # a request changing its session must not change what the next one opens
    assert _opened(app, cookie) == {"lang": "en", "notes": {"seen": 1}}
    assert _opened(app, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) == {}
    other = app.session_interface.get_signing_serializer(app)
    assert _opened(app, other.dumps({"lang": "vi"})) == {"lang": "vi"}


def test_a_kept_cookie_still_expires_with_the_session_lifetime(app, monkeypatch):
    cookie = _cookie(app, {"lang": "en"})
    assert _opened(app, cookie) == {"lang": "en"}  # now kept
    lifetime = app.permanent_session_lifetime
    later = time.time() + lifetime.total_seconds() + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert _opened(app, cookie) == {}


def test_a_flat_session_opened_again_is_a_copy_changes_never_reach(app):
    from flask import request

    cookie = _cookie(app, {"lang": "en", "_user_id": "7:1", "_fresh": True})
    assert _opened(app, cookie) == {"lang": "en", "_user_id": "7:1", "_fresh": True}  # now kept
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    with app.test_request_context("/", headers={"Cookie": f"{name}={cookie}"}):
        first = app.session_interface.open_session(app, request)  # the session object a request changes
        first["lang"], first["extra"] = "vi", 1
        del first["_fresh"]
    assert _opened(app, cookie) == {"lang": "en", "_user_id": "7:1", "_fresh": True}


def test_the_signed_csrf_token_is_reused_validates_and_is_per_session(app):
    with app.test_request_context("/"):
        first = csrf_tokens.csrf_token()
        raw = session["csrf_token"]
    with app.test_request_context("/"):
        session["csrf_token"] = raw
        again = csrf_tokens.csrf_token()
        assert again == first
        validate_csrf(again)  # raises when it is not a token of this session
    with app.test_request_context("/"):
        other = csrf_tokens.csrf_token()
        assert other != first and session["csrf_token"] != raw
        with pytest.raises(Exception, match="do not match"):
            session["csrf_token"] = raw + "x"
            validate_csrf(first)


def test_the_reuse_window_is_a_tenth_of_a_csrf_time_limit(app, monkeypatch):
    assert csrf_tokens._reuse_seconds(None) == csrf_tokens.REUSE_SECONDS
    assert csrf_tokens._reuse_seconds(600) == 60
    with app.test_request_context("/"):
        first = csrf_tokens.csrf_token()
        raw = session["csrf_token"]
    signed_at = time.time()
    monkeypatch.setattr(time, "time", lambda: signed_at + csrf_tokens.REUSE_SECONDS + 1)
    with app.test_request_context("/"):
        session["csrf_token"] = raw
        assert csrf_tokens.csrf_token() != first  # signed again, with the later time in it


def test_signed_csrf_tokens_are_bounded_dropping_the_least_recent(app, monkeypatch):
    monkeypatch.setattr(csrf_tokens, "_MAX_TOKENS", 2)
    app.extensions.pop("lms_csrf_tokens", None)
    raws = []
    for _ in range(3):
        with app.test_request_context("/"):
            csrf_tokens.csrf_token()
            raws.append(session["csrf_token"])
    tokens = app.extensions["lms_csrf_tokens"]
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    assert len(tokens) == 2
    assert tokens.get((secret, raws[0])) is None and tokens.get((secret, raws[2])) is not None


def test_page_views_skip_the_rate_limiter_and_posts_still_count(app):
    limiter = app.extensions["lms_limiter"]
    (exempt,) = limiter._request_filters
    with app.test_request_context("/login", method="GET"):
        assert exempt() is True
    with app.test_request_context("/login", method="POST"):
        assert exempt() is False


def test_flask_limiters_hooks_run_only_for_posts(monkeypatch):
    import os

    from lms import create_app
    from tests.conftest import _TMP, _database_url

    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": _database_url(), "SECRET_KEY": "test-secret-key",
        "CELERY_EAGER": True, "CELERY_BROKER_URL": "", "WTF_CSRF_ENABLED": False,
        "LMS_FILE_STORE": os.path.join(_TMP, "files"), "SERVER_NAME": "lms.test",
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"})
    limiter = app.extensions["lms_limiter"]
    asked = []
    identify = limiter.identify_request
    monkeypatch.setattr(limiter, "identify_request", lambda: asked.append(1) or identify())
    client = app.test_client()
    assert client.get("/courses").status_code == 200
    assert asked == []  # a page view: the limiter is not even asked
    # An empty form: the limiter's hook runs before the view, and the view writes nothing (this app is not
    # the suite's rolled-back one: a failed log-in would leave its row for later tests on PostgreSQL).
    client.post("/login", data={})
    assert asked  # a form sent: checked as before


@pytest.mark.parametrize("headers", [{}, {"User-Agent": "Mozilla/5.0 (X11) Tiếng Việt"},
                                     {"User-Agent": "a", "X-Forwarded-For": "203.0.113.7, 10.0.0.1"},
                                     {"X-Forwarded-For": " 198.51.100.2 "}])
def test_the_kept_session_identifier_is_flask_logins(app, headers):
    """Session protection compares the same identifier as Flask-Login makes (hashed once per address and
    browser here): a session tied to one browser still fails from another."""
    from flask_login.utils import _create_identifier

    from lms.extensions import login_manager

    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.9"}):
        first = login_manager._session_identifier_generator()
        assert first == _create_identifier()
    with app.test_request_context("/", headers={**headers, "User-Agent": "another"}):
        assert login_manager._session_identifier_generator() == _create_identifier() != first


def test_a_post_without_a_csrf_token_is_still_refused_and_a_get_never_checked(app, client):
    """Flask-WTF's check is skipped at once for GET (never checked); a POST still goes through it."""
    assert client.get("/login").status_code == 200
    assert client.post("/login", data={"login": "x", "password": "y"}).status_code == 400


def test_csrf_tokens_was_checked_against_the_installed_flask_wtf_and_its_assumptions_hold(app):
    """lms/core/csrf_tokens.py finds Flask-WTF's hook by module and name and reads the signed token from `g`: an
    upgrade that renamed the hook would silently leave it unwrapped, one that kept the token elsewhere would sign
    on every page again."""
    from flask import g
    from flask_wtf.csrf import generate_csrf

    from tests.pinned import assert_checked_against

    assert_checked_against(csrf_tokens.CHECKED_AGAINST, "lms/core/csrf_tokens.py",
                           "install (CSRFProtect.init_app's before_request hook `csrf_protect` in flask_wtf.csrf) and "
                           "csrf_token (generate_csrf: the session's raw token, `g.<WTF_CSRF_FIELD_NAME>`)")
    hooks = app.before_request_funcs[None]
    assert [hook.__name__ for hook in hooks].count("checked_csrf_protect") == 1
    assert not [hook for hook in hooks if hook.__module__ == "flask_wtf.csrf"]  # wrapped, none left as it was
    with app.test_request_context("/"):
        token = generate_csrf()
        assert g.get(app.config["WTF_CSRF_FIELD_NAME"]) == token and session["csrf_token"]
        assert csrf_tokens.csrf_token() == token  # read back from g, not signed again
