"""Registration, the commune picker, log-in and its throttle, safe redirects, CSRF, sessions, CLI, language."""

import html
import re
import unicodedata
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.accounts.models import LoginFailure
from lms.core.db import utcnow
from lms.core.text import fold
from tests.accounts.conftest import (
    PASSWORD,
    field_error,
    field_tag,
    find_user,
    html_lang,
    location_path,
    logged_in_user_id,
    registration,
    user_count,
)
from tests.conftest import text_of

# ---------------------------------------------------------------- registration

def test_registration_stores_the_name_in_nfc_with_collapsed_spaces(en, db_session, commune):
    typed = unicodedata.normalize("NFD", "  Trần   Thị\tHoà ")
    response = en.post("/register", data=registration(commune(), full_name=typed))

    assert response.status_code == 302 and location_path(response) == "/courses"
    user = find_user(db_session, email="hoa@example.vn")
    assert user.full_name == "Trần Thị Hoà" and unicodedata.is_normalized("NFC", user.full_name)
    assert user.full_name_folded == "tran thi hoa"
    assert user.locality_id == commune().id and user.audience == "citizen" and user.locale == "en"
    assert logged_in_user_id(en) == f"{user.id}:{user.session_version}"
    assert "Welcome, Trần Thị Hoà" in text_of(en.get("/courses"))


@pytest.mark.parametrize("typed, email, phone", [
    ("  Hoa.Tran@Example.VN ", "hoa.tran@example.vn", None),
    ("0912 345 678", None, "0912345678"),
    ("+84912345678", None, "0912345678"),
    ("+84 912.345.678", None, "0912345678"),
])
def test_registration_normalises_email_and_vietnamese_phone_forms(en, db_session, commune, typed, email, phone):
    response = en.post("/register", data=registration(commune(), login=typed))

    assert response.status_code == 302
    user = find_user(db_session, full_name="Trần Thị Hoà")
    assert (user.email, user.phone) == (email, phone)
    assert "Log-in " + (email or phone) in text_of(en.get("/profile"))


def test_password_is_stored_as_a_scrypt_hash_never_in_plain(en, db_session, commune):
    en.post("/register", data=registration(commune()))

    user = find_user(db_session, email="hoa@example.vn")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD) and not user.check_password("mat-khau-124")


NEUTRAL_TAKEN = ("An account cannot be created with this e-mail or phone number. "
                 "If you already have an account, log in instead.")


@pytest.mark.parametrize("first, second, message", [
    # Neutral (issue 12): the public form does not confirm that the address has an account.
    ("hoa@example.vn", "HOA@example.VN", NEUTRAL_TAKEN),
    ("0912 345 678", "+84912345678", NEUTRAL_TAKEN),
])
def test_duplicate_email_or_phone_is_refused_and_nothing_created(en, db_session, commune, first, second, message):
    assert en.post("/register", data=registration(commune(), login=first)).status_code == 302
    en.post("/logout")
    before = user_count(db_session)

    response = en.post("/register", data=registration(commune(), full_name="Người Khác", login=second))

    assert response.status_code == 400
    assert field_error(response, "login") == message
    assert user_count(db_session) == before
    assert find_user(db_session, full_name="Người Khác") is None
    assert logged_in_user_id(en) is None


@pytest.mark.parametrize("field, changes, message", [
    ("full_name", {"full_name": "   "}, "Enter your full name."),
    ("full_name", {"full_name": "A"}, "Your name must be between 2 and 160 characters."),
    ("full_name", {"full_name": "A" * 161}, "Your name must be between 2 and 160 characters."),
    ("login", {"login": ""}, "Enter an e-mail address or a phone number."),
    ("login", {"login": "hoa@example"}, "Enter a valid e-mail address, e.g. ten@example.com."),
    ("login", {"login": "@example.vn"}, "Enter a valid e-mail address, e.g. ten@example.com."),
    ("login", {"login": "12345"}, "Enter an e-mail address or a 10-digit mobile number starting with 0."),
    ("login", {"login": "091234567890"}, "Enter an e-mail address or a 10-digit mobile number starting with 0."),
    ("password", {"password": "ngan", "confirm": "ngan"}, "The password must have at least 12 characters."),
    ("password", {"password": "", "confirm": ""}, "Choose a password."),
    ("confirm", {"confirm": "mat-khau-999"}, "The two passwords are not the same."),
    ("confirm", {"confirm": ""}, "Repeat the password."),
    ("locality_id", {"locality_id": "0"}, "Choose your commune or ward."),
    ("locality_id", {"locality_id": "abc"}, "Choose your commune or ward."),
])
def test_each_invalid_field_gets_its_message_next_to_it(en, db_session, commune, field, changes, message):
    before = user_count(db_session)
    response = en.post("/register", data=registration(commune(), **changes))

    assert response.status_code == 400
    assert field_error(response, field) == message
    assert 'aria-invalid="true"' in field_tag(response, field)
    # Only this field is marked (a blank password also leaves the repeated one unequal).
    other_fields = {"full_name", "login", "password", "confirm", "locality_id"} - {field, "confirm" * (field == "password")}
    assert all(field_error(response, other) == "" for other in other_fields)
    assert user_count(db_session) == before


def test_an_old_scheme_commune_cannot_be_chosen(en, db_session, commune):
    old = commune("26508", scheme="2025-01")  # Phường Thắng Tam, merged into Phường Vũng Tàu
    response = en.post("/register", data=registration(old))

    assert response.status_code == 400
    assert field_error(response, "locality_id") == "Choose your commune or ward from the list."
    assert find_user(db_session, email="hoa@example.vn") is None


def test_a_current_commune_outside_the_home_area_can_be_chosen(en, db_session, commune):
    nam_dich = commune("01075")  # Xã Nậm Dịch, far from the home area
    assert en.post("/register", data=registration(nam_dich)).status_code == 302
    assert find_user(db_session, email="hoa@example.vn").locality.name == "Xã Nậm Dịch"


def test_an_unknown_audience_is_refused_in_its_fieldset(en, db_session, commune):
    response = en.post("/register", data=registration(commune(), audience="cio"))

    assert response.status_code == 400
    fieldset = re.search(r"<fieldset[^>]*has-error.*?</fieldset>", response.get_data(as_text=True), re.S)
    assert fieldset and "Not a valid choice" in fieldset.group(0)
    assert find_user(db_session, email="hoa@example.vn") is None


# ---------------------------------------------------------------- the commune picker

def test_picker_without_javascript_lists_matches_and_creates_nothing(en, db_session, commune):
    before = user_count(db_session)
    response = en.post("/register", data={"full_name": "Trần Thị Hoà", "login": "hoa@example.vn",
                                          "locality_q": "vung tau", "search": "1"})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', page)
    assert options[1] == (str(commune("26506").id), "Phường Vũng Tàu, Thành phố Hồ Chí Minh")
    assert 'value="Trần Thị Hoà"' in page and 'value="hoa@example.vn"' in page
    assert user_count(db_session) == before and logged_in_user_id(en) is None


def test_picker_finds_a_commune_through_its_former_name(en, commune):
    page = en.post("/register", data={"locality_q": "thang tam", "search": "1"}).get_data(as_text=True)
    label = html.unescape(re.findall(r"<option[^>]*>([^<]*)</option>", page)[1])
    assert label == "Phường Vũng Tàu, Thành phố Hồ Chí Minh (formerly Phường Thắng Tam)"


def test_picker_says_when_nothing_matches(en, db_session):
    response = en.post("/register", data={"locality_q": "khong co xa nao ten nay", "search": "1"})
    assert "No commune or ward matches “khong co xa nao ten nay”." in text_of(response)
    response = en.post("/register", data={"locality_q": "", "search": "1"})
    assert "Type part of the name of your commune or ward." in text_of(response)


def test_locality_search_json_folds_diacritics_and_needs_two_characters(client, commune):
    results = client.get("/localities/search?q=vung tau").get_json()
    assert results[0] == {"id": commune("26506").id, "label": "Phường Vũng Tàu, Thành phố Hồ Chí Minh", "former": None}

    dich = client.get("/localities/search?q=dich").get_json()
    assert any(r["label"].startswith("Xã Nậm Dịch,") and r["former"] is None for r in dich)
    assert all("dich" in fold(r["label"].split(",")[0]) or "dich" in fold(r["former"]) for r in dich)

    dat_do = client.get("/localities/search?q=dat do").get_json()
    assert dat_do[0]["label"].startswith("Xã Đất Đỏ") and dat_do[0]["id"] == commune("26680").id
    assert client.get("/localities/search?q=DAT ĐO").get_json()[0]["id"] == commune("26680").id
    assert client.get("/localities/search?q=v").get_json() == []  # at least two characters
    assert client.get("/localities/search?q=%20%20").get_json() == []


# ---------------------------------------------------------------- log-in

@pytest.mark.parametrize("typed", ["user1@example.vn", "USER1@Example.vn "])
def test_login_by_email(en, create_user, typed):
    user = create_user("Nguyễn Văn An")
    response = en.post("/login", data={"login": typed, "password": PASSWORD})

    assert response.status_code == 302 and location_path(response) == "/my"
    assert logged_in_user_id(en) == f"{user.id}:1"
    assert "Welcome, Nguyễn Văn An!" in text_of(en.get("/profile"))


@pytest.mark.parametrize("typed", ["0987654321", "0987 654 321", "+84987654321"])
def test_login_by_phone(en, phone_user, typed):
    response = en.post("/login", data={"login": typed, "password": PASSWORD})
    assert response.status_code == 302
    assert logged_in_user_id(en) == f"{phone_user.id}:1"
    assert "Lê Văn Bình" in text_of(en.get("/profile"))


def test_wrong_password_is_refused_without_a_session(en, db_session, create_user):
    user = create_user()
    response = en.post("/login", data={"login": user.email, "password": "sai-mat-khau"})

    assert response.status_code == 400
    assert field_error(response, "password") == "The e-mail/phone number or the password is not correct."
    assert logged_in_user_id(en) is None
    assert en.get("/profile").status_code == 302
    assert db_session.scalar(select(func.count(LoginFailure.id)).where(LoginFailure.login == user.email)) == 1

    unknown = en.post("/login", data={"login": "khong-co@example.vn", "password": PASSWORD})
    assert unknown.status_code == 400
    assert field_error(unknown, "password") == "The e-mail/phone number or the password is not correct."
    user.is_active = False  # a deactivated account, even with the right password
    assert en.post("/login", data={"login": user.email, "password": PASSWORD}).status_code == 400
    assert logged_in_user_id(en) is None


def test_five_failures_slow_down_this_address_even_with_the_right_password(en, create_user):
    """From the address that failed, the next try waits (growing delays, tests/security/test_login.py);
    nothing is locked for the owner elsewhere."""
    user = create_user()
    for _ in range(5):
        assert en.post("/login", data={"login": user.email, "password": "sai-mat-khau"}).status_code == 400

    response = en.post("/login", data={"login": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts from here. Please wait 1 second and try again." in text_of(response)
    assert logged_in_user_id(en) is None


def test_throttle_counts_every_way_of_writing_the_same_phone(en, phone_user):
    for typed in ("0987654321", "0987 654 321", "+84987654321", "+84 987 654 321", "84987654321"):
        en.post("/login", data={"login": typed, "password": "sai-mat-khau"})
    assert en.post("/login", data={"login": "0987.654.321", "password": PASSWORD}).status_code == 429
    assert logged_in_user_id(en) is None


def test_a_very_long_login_is_refused_and_still_throttled(en, db_session):
    long_login = "x" * 300 + "@example.vn"
    for _ in range(5):
        response = en.post("/login", data={"login": long_login, "password": "sai-mat-khau"})
        assert response.status_code == 400
        assert field_error(response, "password") == "The e-mail/phone number or the password is not correct."
    assert en.post("/login", data={"login": long_login, "password": PASSWORD}).status_code == 429


def test_throttle_forgets_failures_older_than_the_window(en, db_session, create_user):
    user = create_user()
    old = utcnow() - timedelta(minutes=16)
    db_session.add_all([LoginFailure(login=user.email, at=old) for _ in range(10)])
    db_session.flush()

    assert en.post("/login", data={"login": user.email, "password": PASSWORD}).status_code == 302


def test_throttle_is_per_account(en, create_user):
    victim, other = create_user(), create_user("Phạm Thị Cúc")
    for _ in range(5):
        en.post("/login", data={"login": victim.email, "password": "sai-mat-khau"})
    assert en.post("/login", data={"login": other.email, "password": PASSWORD}).status_code == 302


def test_successful_login_clears_earlier_failures(en, db_session, create_user):
    user = create_user()
    for _ in range(4):
        en.post("/login", data={"login": user.email, "password": "sai-mat-khau"})
    assert en.post("/login", data={"login": user.email, "password": PASSWORD}).status_code == 302
    assert db_session.scalar(select(func.count(LoginFailure.id)).where(LoginFailure.login == user.email)) == 0


# ---------------------------------------------------------------- next, logout, sessions

@pytest.mark.parametrize("target, expected", [
    ("/my", "/my"),
    ("/courses?q=dich", "/courses?q=dich"),
    ("https://evil.example/", "/my"),
    ("//evil.example", "/my"),
    ("/\\evil.example", "/my"),
    ("\\\\evil.example", "/my"),
    ("/\t/evil.example", "/my"),
    ("javascript:alert(1)", "/my"),
    ("http://lms.test.evil.example/", "/my"),
])
def test_login_redirects_only_within_this_site(en, create_user, target, expected):
    user = create_user()
    via_query = en.post("/login", query_string={"next": target}, data={"login": user.email, "password": PASSWORD})
    assert location_path(via_query) == expected
    en.post("/logout")
    via_form = en.post("/login", data={"login": user.email, "password": PASSWORD, "next": target})
    assert location_path(via_form) == expected
    en.post("/logout")
    assert f'name="next" value="{html.escape(target)}"' in en.get("/login", query_string={"next": target}).get_data(as_text=True)


def test_logout_is_post_only_and_clears_the_session(en, create_user, login):
    login(create_user())
    response = en.get("/logout")
    assert response.status_code == 405 and 'class="site-header"' in response.get_data(as_text=True)
    assert logged_in_user_id(en) is not None

    response = en.post("/logout")
    assert response.status_code == 302 and location_path(response) == "/courses"
    assert logged_in_user_id(en) is None
    assert "You have logged out." in text_of(en.get("/courses"))
    assert location_path(en.get("/profile")).startswith("/login?next=")


def test_session_version_bump_logs_other_sessions_out(app, db_session, create_user):
    user = create_user()
    first, second = app.test_client(), app.test_client()
    for browser in (first, second):
        assert browser.post("/login", data={"login": user.email, "password": PASSWORD}).status_code == 302
        assert browser.get("/profile").status_code == 200

    user.session_version += 1
    db_session.commit()

    for browser in (first, second):
        response = browser.get("/profile")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    third = app.test_client()
    third.post("/login", data={"login": user.email, "password": PASSWORD})
    assert "Nguyễn Văn An" in text_of(third.get("/profile"))


# ---------------------------------------------------------------- CSRF

def test_post_without_csrf_token_is_refused_and_nothing_saved(csrf_app, db_session, commune, create_user):
    client = csrf_app.test_client()
    assert client.post("/language", data={"lang": "en"}).status_code == 400
    assert html_lang(client.get("/courses")) == "vi"

    with client.session_transaction() as session:
        session["lang"] = "en"
    response = client.post("/register", data=registration(commune(), login="csrf@example.vn"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="site-header"' in page and "Error 400" in text_of(response) and "Traceback" not in page
    assert "Your form has expired or was sent from another site." in text_of(response)
    assert find_user(db_session, email="csrf@example.vn") is None

    user = create_user()
    assert client.post("/login", data={"login": user.email, "password": PASSWORD}).status_code == 400
    assert logged_in_user_id(client) is None
    assert db_session.scalar(select(func.count(LoginFailure.id))) == 0


def test_post_with_the_csrf_token_from_the_form_is_accepted(csrf_app, db_session, commune):
    client = csrf_app.test_client()
    form = client.get("/register").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    response = client.post("/register", data={**registration(commune(), login="csrf@example.vn"), "csrf_token": token})

    assert response.status_code == 302
    assert find_user(db_session, email="csrf@example.vn").full_name == "Trần Thị Hoà"


# ---------------------------------------------------------------- CLI

def test_cli_create_admin_makes_an_admin_with_a_hashed_password(app, db_session):
    result = app.test_cli_runner().invoke(args=[
        "users", "create-admin", "--name", "Phạm  Quốc Bảo", "--login", "Admin@Example.vn", "--password", "rat-bi-mat-2025"])

    assert result.exit_code == 0, result.output
    assert "administrator: admin@example.vn" in result.output
    admin = find_user(db_session, email="admin@example.vn")
    assert admin.full_name == "Phạm Quốc Bảo" and admin.is_admin and admin.audience == "official"
    assert admin.password_hash.startswith("scrypt:") and "rat-bi-mat-2025" not in admin.password_hash
    assert admin.check_password("rat-bi-mat-2025")


def test_cli_create_admin_promotes_an_existing_account(app, create_user):
    user = create_user()
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--name", "x", "--login", user.email, "--password", "x"])
    assert result.exit_code == 0 and f"administrator: {user.email}" in result.output
    assert user.is_admin and user.full_name == "Nguyễn Văn An" and user.check_password(PASSWORD)


def test_cli_create_admin_refuses_a_bad_login_with_a_message(app, db_session):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "--name", "Ai Đó", "--login", "abc", "--password", "p"])
    # Outside a request the default language (Vietnamese) is used.
    assert result.exit_code == 1 and "Vui lòng cung cấp địa chỉ email hoặc số điện thoại." in result.output
    assert find_user(db_session, full_name="Ai Đó") is None


# ---------------------------------------------------------------- language

def test_language_switch_changes_the_page_language_and_persists(client, db_session, create_user, login):
    assert html_lang(client.get("/courses")) == "vi"
    response = client.post("/language", data={"lang": "en", "next": "/courses"})
    assert location_path(response) == "/courses"
    assert html_lang(client.get("/courses")) == "en" and html_lang(client.get("/login")) == "en"
    assert "Log in" in text_of(client.get("/login"))

    user = create_user()
    login(user)
    client.post("/language", data={"lang": "vi"})
    assert user.locale == "vi"
    client.post("/language", data={"lang": "en"})
    assert find_user(db_session, id=user.id).locale == "en"
    client.post("/logout")
    with client.session_transaction() as session:
        session.pop("lang", None)
    login(user)
    assert html_lang(client.get("/my")) == "en"


def test_unknown_language_is_ignored(client):
    response = client.post("/language", data={"lang": "fr", "next": "/login"})
    assert location_path(response) == "/login"
    assert html_lang(client.get("/login")) == "vi"
    with client.session_transaction() as session:
        assert "lang" not in session


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_language_switch_next_stays_on_this_site(client, target):
    response = client.post("/language", data={"lang": "en", "next": target})
    assert location_path(response) == "/courses"
    assert html_lang(client.get("/courses")) == "en"
