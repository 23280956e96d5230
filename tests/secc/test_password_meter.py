"""The live password-strength meter's endpoint: the same answer as the forms' check, in the person's
language, POST with CSRF only, limited per address, and the password never written to a log."""

import logging
import os

import pytest

from lms import create_app
from lms.accounts.password_policy import password_problems
from tests.conftest import _TMP, _database_url


def _ask(client, password, lang="en", **fields):
    with client.session_transaction() as session:
        session["lang"] = lang
    return client.post("/password/strength", data={"password": password, **fields},
                       headers={"Accept": "application/json"})


@pytest.mark.parametrize("password, ok", [("ngan", False), ("password1234", False), ("NguyenVanAn1990", False),
                                          ("ca phe sua da luc bay gio sang", True)])
def test_the_meter_says_what_the_form_will_say(app, client, password, ok):
    answer = _ask(client, password, full_name="Nguyễn Văn An").get_json()
    assert answer["ok"] is ok
    with app.test_request_context(headers={"Accept-Language": "en"}):
        problems = password_problems(password, ["Nguyễn Văn An"])
    assert (answer["message"] == problems[0]) if problems else answer["message"] in (
        "Strong password.", "Good enough. A longer phrase would be even safer.")


def test_vietnamese_by_default_and_the_logged_in_persons_name_counts(client, login, create_user):
    assert "ít nhất 12 ký tự" in _ask(client, "ngan", lang="vi").get_json()["message"]
    assert _ask(client, "thuyduonghoang").get_json()["ok"] is True  # strong for a stranger…
    login(create_user("Hoàng Thị Thuỳ Dương", email="thuyduong@example.vn"))
    assert _ask(client, "thuyduonghoang").get_json()["ok"] is False  # …not for Thuỳ Dương herself


def test_csrf_is_required_and_get_is_not_allowed(app, client, monkeypatch):
    assert client.get("/password/strength").status_code == 405
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    answer = _ask(client, "ca phe sua da luc bay gio sang")
    assert answer.status_code == 400 and "ok" not in (answer.get_json() or {})


def test_limited_per_address_and_the_password_is_never_logged(db_session, caplog):
    limited = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": _database_url(), "SECRET_KEY": "test-secret-key",
        "CELERY_EAGER": True, "CELERY_BROKER_URL": "", "WTF_CSRF_ENABLED": False,
        "LMS_FILE_STORE": os.path.join(_TMP, "files"), "SERVER_NAME": "lms.test",
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", "LMS_PASSWORD_CHECK_LIMIT": "5 per minute"})
    client = limited.test_client()
    with caplog.at_level(logging.DEBUG):
        answers = [_ask(client, "bi-mat-khong-ai-biet-7431").status_code for _ in range(7)]
    assert answers == [200] * 5 + [429, 429]
    assert "bi-mat-khong-ai-biet-7431" not in caplog.text
