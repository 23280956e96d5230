"""Forgot password by e-mail link or SMS code: single use, expiry, tries, rate limits, no enumeration."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from lms.accounts import operations
from lms.accounts.models import LoginFailure, OneTimeCode
from lms.core.db import utcnow
from lms.notifications.models import DirectMessage
from tests.conftest import text_of
from tests.identity.conftest import NEW_PASSWORD, PASSWORD, inbox, last_code, last_link


@pytest.fixture()
def citizen(create_user):
    return create_user("Trần Thị Hoà", email="hoa@example.vn")


@pytest.fixture()
def phone_citizen(db_session, commune):
    user = operations.create_user("Lê Văn Bình", PASSWORD, phone="0987 654 321", locality=commune())
    db_session.flush()
    return user


def test_login_page_offers_forgot_password(en):
    page = en.get("/login").get_data(as_text=True)
    assert 'href="/forgot-password"' in page and "Forgot your password?" in page


def test_reset_by_email_link_works_once_and_ends_sessions(en, db_session, citizen):
    other_device = en.application.test_client()
    other_device.post("/login", data={"login": "hoa@example.vn", "password": PASSWORD})
    assert other_device.get("/profile").status_code == 200
    response = en.post("/forgot-password", data={"login": "HOA@example.vn"})
    assert response.status_code == 200 and "If an account uses hoa@example.vn" in text_of(response)
    link = last_link(db_session, "hoa@example.vn", "/reset-password/")
    response = en.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert citizen.check_password(NEW_PASSWORD) and not citizen.check_password(PASSWORD)
    assert other_device.get("/profile").status_code == 302  # logged out there
    again = en.post(link, data={"password": "yet-another-1", "confirm": "yet-another-1"})
    assert again.status_code == 400 and "already used or it expired" in text_of(again)
    assert citizen.check_password(NEW_PASSWORD)
    # The body holding the link is not kept once it was delivered.
    assert db_session.scalar(select(DirectMessage.body).where(DirectMessage.to == "hoa@example.vn")) == ""


def test_unknown_address_gets_the_same_answer_and_nothing_is_sent(en, db_session):
    response = en.post("/forgot-password", data={"login": "nobody@example.vn"})
    assert response.status_code == 200 and "If an account uses nobody@example.vn" in text_of(response)
    assert inbox(db_session, "nobody@example.vn") == []


def test_a_tampered_or_expired_link_is_refused(en, db_session, citizen, app):
    en.post("/forgot-password", data={"login": "hoa@example.vn"})
    link = last_link(db_session, "hoa@example.vn", "/reset-password/")
    assert en.get(link[:-3] + "abc").status_code == 400
    app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] = -1
    try:
        response = en.get(link)
    finally:
        app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] = 3600
    assert response.status_code == 400 and "Ask for a new link" in text_of(response)


def test_reset_ends_the_lock_of_five_wrong_passwords(en, db_session, citizen):
    for _ in range(5):
        en.post("/login", data={"login": "hoa@example.vn", "password": "wrong-password"})
    assert en.post("/login", data={"login": "hoa@example.vn", "password": PASSWORD}).status_code == 429
    en.post("/forgot-password", data={"login": "hoa@example.vn"})
    en.post(last_link(db_session, "hoa@example.vn", "/reset-password/"),
            data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert db_session.scalar(select(func.count(LoginFailure.id)).where(LoginFailure.login == "hoa@example.vn")) == 0
    assert en.post("/login", data={"login": "hoa@example.vn", "password": NEW_PASSWORD}).status_code == 302


def test_reset_by_sms_code(en, db_session, phone_citizen):
    response = en.post("/forgot-password", data={"login": "+84 987 654 321"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/forgot-password/code")
    code = last_code(db_session, "0987654321")
    assert db_session.scalar(select(OneTimeCode.code_hash)) != code  # only a keyed hash is stored
    page = en.get("/forgot-password/code")
    assert "0987654321" in text_of(page)
    response = en.post("/forgot-password/code", data={"code": code, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert phone_citizen.check_password(NEW_PASSWORD)
    again = en.post("/forgot-password/code", data={"code": code, "password": PASSWORD, "confirm": PASSWORD})
    assert again.status_code == 302 and again.headers["Location"].endswith("/forgot-password")


def test_five_wrong_codes_use_the_code_up(en, db_session, phone_citizen):
    en.post("/forgot-password", data={"login": "0987654321"})
    code = last_code(db_session, "0987654321")
    wrong = "000000" if code != "000000" else "111111"
    messages = []
    for _ in range(5):
        response = en.post("/forgot-password/code", data={"code": wrong, "password": NEW_PASSWORD,
                                                          "confirm": NEW_PASSWORD})
        assert response.status_code == 400
        messages.append(text_of(response))
    assert "4 tries left" in messages[0] and "Too many wrong codes" in messages[-1]
    response = en.post("/forgot-password/code", data={"code": code, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400 and "Too many wrong codes" in text_of(response)
    assert phone_citizen.check_password(PASSWORD)


def test_an_expired_code_is_refused(en, db_session, phone_citizen):
    en.post("/forgot-password", data={"login": "0987654321"})
    code = last_code(db_session, "0987654321")
    db_session.execute(update(OneTimeCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = en.post("/forgot-password/code", data={"code": code, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400 and "has expired" in text_of(response)
    assert phone_citizen.check_password(PASSWORD)


def test_a_new_code_replaces_the_old_one(en, db_session, phone_citizen):
    en.post("/forgot-password", data={"login": "0987654321"})
    first = last_code(db_session, "0987654321")
    en.post("/forgot-password", data={"login": "0987654321"})
    second = last_code(db_session, "0987654321")
    if first != second:
        response = en.post("/forgot-password/code", data={"code": first, "password": NEW_PASSWORD,
                                                          "confirm": NEW_PASSWORD})
        assert response.status_code == 400
    assert en.post("/forgot-password/code", data={"code": second, "password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD}).status_code == 302


def test_requests_are_rate_limited_per_login(en, db_session, citizen):
    for _ in range(3):
        assert en.post("/forgot-password", data={"login": "hoa@example.vn"}).status_code == 200
    response = en.post("/forgot-password", data={"login": "hoa@example.vn"})
    assert response.status_code == 429 and "Too many requests" in text_of(response)
    assert len(inbox(db_session, "hoa@example.vn")) == 3


@pytest.mark.parametrize("data, message", [
    ({"login": ""}, "Enter your e-mail or phone number."),
    ({"login": "x" * 5000}, "Field cannot be longer than 254 characters."),
    ({"login": "12345"}, "Enter an e-mail address or a 10-digit mobile number"),
])
def test_bad_input_is_a_clear_400(en, data, message):
    response = en.post("/forgot-password", data=data)
    assert response.status_code == 400 and message in text_of(response)


def test_code_page_without_a_request_goes_back_to_the_start(en):
    response = en.get("/forgot-password/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/forgot-password")


def test_the_code_is_not_logged(en, db_session, phone_citizen, caplog):
    caplog.set_level("DEBUG")
    en.post("/forgot-password", data={"login": "0987654321"})
    code = last_code(db_session, "0987654321")
    assert code not in caplog.text
