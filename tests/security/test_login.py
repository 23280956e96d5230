"""Finding 2: log-in and registration defences.

An app with the rate limits on (the suite's app has them off) shares the suite's database; each
test's memory storage starts empty. Addresses are set per request, as a proxy-aware server sees them.
"""

import os
import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import create_app
from lms.accounts import operations
from lms.accounts.models import LoginFailure
from lms.accounts.password_policy import password_problems
from tests.accounts.conftest import registration
from tests.conftest import _TMP, _database_url, text_of

PASSWORD = "mat-khau-123"
ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


@pytest.fixture()
def limited(db_session):
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": _database_url(), "SECRET_KEY": "test-secret-key",
        "CELERY_EAGER": True, "CELERY_BROKER_URL": "", "WTF_CSRF_ENABLED": False,
        "LMS_FILE_STORE": os.path.join(_TMP, "files"), "SERVER_NAME": "lms.test",
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", "LMS_REGISTER_IP_LIMIT": "3 per hour",
    })
    return app


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def log_in(client, login, password=PASSWORD):
    return client.post("/login", data={"login": login, "password": password})


def test_an_attackers_failures_never_lock_the_owner_out_elsewhere(limited, create_user):
    user = create_user()
    attacker = client_at(limited, ATTACKER)
    for _ in range(12):
        log_in(attacker, user.email, "sai-mat-khau")
    # The attacker is slowed down, even with the right password…
    slowed = log_in(attacker, user.email)
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1
    assert "Please wait" in text_of(slowed)
    # …the owner, from another address, is not.
    assert log_in(client_at(limited, OWNER), user.email).status_code == 302


def age(db_session, by: timedelta) -> None:
    for failure in db_session.scalars(select(LoginFailure)):
        failure.at -= by
    db_session.flush()


def test_delays_grow_with_each_failure_and_end(limited, create_user, db_session):
    user = create_user()
    attacker = client_at(limited, ATTACKER)
    waits = []
    for _ in range(4):
        for _ in range(5 if not waits else 1):
            assert log_in(attacker, user.email, "sai-mat-khau").status_code == 400
        answer = log_in(attacker, user.email, "sai-mat-khau")
        waits.append(int(answer.headers["Retry-After"]))
        age(db_session, timedelta(seconds=waits[-1]))  # time passes instead of the test sleeping
    assert waits == [1, 2, 4, 8], waits
    age(db_session, timedelta(minutes=16))
    assert log_in(attacker, user.email).status_code == 302  # the window passed: nothing is held against it


def test_one_address_cannot_try_many_accounts_quickly(limited, create_user):
    attacker = client_at(limited, ATTACKER)
    answers = [log_in(attacker, f"nguoi{n}@example.vn", "12345678").status_code for n in range(40)]
    assert answers[:30] == [400] * 30 and set(answers[30:]) == {429}
    # Successful log-ins do not count: a classroom behind one address logs in together.
    classroom = client_at(limited, "192.0.2.10")
    for n in range(35):
        user = create_user(f"Học viên {n}")
        assert log_in(classroom, user.email).status_code == 302
        classroom.post("/logout")


def test_a_guess_spread_over_many_addresses_slows_new_devices_not_the_owners(limited, create_user):
    user = create_user()
    owner = client_at(limited, OWNER)
    assert log_in(owner, user.email).status_code == 302  # the owner's phone: a device cookie
    owner.post("/logout")
    for n in range(25):
        log_in(client_at(limited, f"203.0.113.{n}"), user.email, "sai-mat-khau")
    assert log_in(client_at(limited, "203.0.113.200"), user.email).status_code == 429
    assert log_in(owner, user.email).status_code == 302


def test_unknown_accounts_take_as_long_as_known_ones(app, db_session, create_user, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_PASSWORD_HASH", "scrypt")  # production's cost: the hash must dominate
    user = create_user()

    def cost(login) -> float:
        # CPU time, not the wall clock: on a loaded machine (CI, other tests beside) the scheduler's
        # pauses are noise many times the hash itself; the hash is what must cost the same.
        began = time.process_time()
        operations.authenticate(login, "sai-mat-khau", ip="192.0.2.1")
        return time.process_time() - began

    with app.test_request_context():
        operations.authenticate("khong-co@example.vn", "x")  # the decoy hash is made once
        pairs = [(cost(user.email), cost("khong-co-ai@example.vn")) for _ in range(7)]  # interleaved
    known, unknown = statistics.median(k for k, _ in pairs), statistics.median(u for _, u in pairs)
    assert 0.5 < unknown / known < 2, (known, unknown)


def test_registration_does_not_say_an_address_is_taken(limited, create_user, commune):
    user = create_user()
    response = client_at(limited, OWNER).post("/register", data=registration(commune(), login=user.email,
                                                                              password="ca phe sua da luc 7 gio",
                                                                              confirm="ca phe sua da luc 7 gio"))
    assert response.status_code == 400
    page = text_of(response)
    assert "already registered" not in page and "An account cannot be created with this e-mail" in page


def test_one_address_creates_only_so_many_accounts(limited, commune, db_session):
    client = client_at(limited, ATTACKER)
    answers = []
    for n in range(5):
        answers.append(client.post("/register", data=registration(
            commune(), login=f"bot{n}@example.vn", password="ca phe sua da luc 7 gio",
            confirm="ca phe sua da luc 7 gio")).status_code)
        client.post("/logout")
    assert answers == [302, 302, 302, 429, 429]
    assert client_at(limited, OWNER).post("/register", data=registration(
        commune(), login="nguoi-that@example.vn", password="ca phe sua da luc 7 gio",
        confirm="ca phe sua da luc 7 gio")).status_code == 302


@pytest.mark.parametrize("password, reason", [
    ("12345678", "at least 12 characters"), ("password", "at least 12 characters"),
    ("matkhaucuatoi", "most common"), ("123456789012", "too easy to guess"), ("passwordpassword", "too easy to guess"),
    ("anhyeuem1234", "too easy to guess"), ("NguyenVanAn1990", "too easy to guess"), ("Nguyen Van An", "too easy to guess"),
])
def test_common_and_guessable_passwords_are_refused(limited, commune, password, reason):
    response = client_at(limited, OWNER).post("/register", data=registration(
        commune(), full_name="Nguyễn Văn An", login="an.nguyen@example.vn", password=password, confirm=password))
    assert response.status_code == 400
    assert reason in text_of(response)


def test_password_problems_speak_vietnamese_and_know_the_persons_name(app):
    with app.test_request_context():
        from flask import session

        session["lang"] = "vi"
        problems = password_problems("matkhau12345")
        assert problems and "phổ biến" in problems[0] and "ca phe sua da" in problems[0]
        assert password_problems("NguyenVanAn", user_inputs=("Nguyễn Văn An", "an@example.vn"))
        assert password_problems("ca phe sua da luc 7 gio", user_inputs=("Nguyễn Văn An",)) == []
        assert password_problems("ngắn") and password_problems("x" * 129)


def test_only_accounts_created_count_against_the_address(limited, create_user, commune):
    """A logged-in person posting the form, or a form with mistakes, is not a registration."""
    client = client_at(limited, "192.0.2.44")
    for _ in range(4):
        client.post("/register", data=registration(commune(), login="", password="x", confirm="y"))
    member = client_at(limited, "192.0.2.44")
    member.post("/login", data={"login": create_user().email, "password": PASSWORD})
    for _ in range(4):
        assert member.post("/register", data=registration(commune())).status_code == 302
    assert client.post("/register", data=registration(commune(), login="moi@example.vn")).status_code == 302
