"""Fixtures for the account tests: an English-speaking client and an app with CSRF switched on."""

import html
import os
import re
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from lms import create_app
from lms.accounts import operations
from lms.accounts.models import User
from tests.conftest import _TMP, _database_url


@pytest.fixture()
def en(client):
    """The test client with English chosen, so messages do not depend on the Vietnamese catalogue."""
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


@pytest.fixture(scope="module")
def csrf_app():
    """Same overrides as the session app, but CSRF on. Shares the session app's database (no create_all)."""
    return create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        "SECRET_KEY": "test-secret-key",
        "CELERY_EAGER": True,
        "CELERY_BROKER_URL": "",
        "WTF_CSRF_ENABLED": True,
        "LMS_FILE_STORE": os.path.join(_TMP, "files"),
        "LMS_DEMO": True,
        "SERVER_NAME": "lms.test",
    })


# ---------------------------------------------------------------- helpers

PASSWORD = "mat-khau-123"


def user_count(db_session) -> int:
    return db_session.scalar(select(func.count(User.id)))


def find_user(db_session, **where) -> User | None:
    return db_session.scalar(select(User).filter_by(**where))


def field_error(response, field_id) -> str:
    """The error message rendered next to a form field (empty when there is none)."""
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    return html.unescape(match.group(1)).strip() if match else ""


def registration(locality, **changes) -> dict:
    data = {"full_name": "Trần Thị Hoà", "login": "hoa@example.vn", "password": PASSWORD, "confirm": PASSWORD,
            "audience": "citizen", "locality_id": locality.id, "consent": "y", "submit": "1"}
    data.update(changes)
    return data


def logged_in_user_id(client):
    with client.session_transaction() as session:
        return session.get("_user_id")


def location_path(response) -> str:
    """Where a redirect goes, asserting it stays on this site."""
    location = urlparse(response.headers["Location"])
    assert location.netloc in ("", "lms.test"), response.headers["Location"]
    return location.path + (f"?{location.query}" if location.query else "")


def field_tag(response, field_id) -> str:
    match = re.search(rf'<(?:input|select)\b[^>]*\bid="{field_id}"[^>]*>', response.get_data(as_text=True))
    return match.group(0) if match else ""


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)">', response.get_data(as_text=True)).group(1)


@pytest.fixture()
def phone_user(db_session, commune):
    user = operations.create_user("Lê Văn Bình", PASSWORD, phone="0987 654 321", locality=commune())
    db_session.flush()
    return user
