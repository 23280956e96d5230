"""Test fixtures, after indico's: one app per session, one rolled-back transaction per test,
and `create_*` factories.

The backend comes from LMS_TEST_DATABASE_URL (PostgreSQL in the second pass of `make test`);
without it, a throw-away SQLite file. Localities are loaded once per session and committed;
everything a test writes is rolled back.
"""

import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import select

from lms import create_app
from lms.extensions import db

ROOT = Path(__file__).resolve().parent.parent
# Cheaper scrypt for the accounts the tests make and log in (n=1024 instead of 32768): the hashing was
# ~40 % of the suite's CPU. Servers started as a person would (tests/e2e/servers.py) keep the default;
# tests/accounts/test_password_hash.py checks both.
os.environ.setdefault("LMS_PASSWORD_HASH", "scrypt:1024:8:1")
FIXTURE_COURSES = Path(__file__).parent / "fixtures" / "courses"


def _acceptance_kit() -> Path:
    """Outside material to test against: where LMS_ACCEPTANCE_DIR points, else ../shared/acceptance
    beside the project — or beside the repository this checkout was cloned from, because CI tests a
    fresh clone in a temporary directory (`git clone -q . $d`) and the kit stays beside the original.
    Conformance tests skip cleanly when no kit is found."""
    if os.environ.get("LMS_ACCEPTANCE_DIR"):
        return Path(os.environ["LMS_ACCEPTANCE_DIR"])
    beside = ROOT.parent / "shared" / "acceptance"
    if beside.is_dir():
        return beside
    try:
        origin = subprocess.run(["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"],
                                capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        origin = ""
    if origin and "://" not in origin and Path(origin).is_dir():
        cloned_from = Path(origin).resolve().parent / "shared" / "acceptance"
        if cloned_from.is_dir():
            return cloned_from
    return beside


ACCEPTANCE = _acceptance_kit()
TEST_DB_URL = os.environ.get("LMS_TEST_DATABASE_URL", "")
_TMP = tempfile.mkdtemp(prefix="lms-tests-")


def _database_url() -> str:
    return TEST_DB_URL or f"sqlite:///{_TMP}/test.sqlite3"


class FreshRequestClient(FlaskClient):
    """A test client whose every request starts with an empty `g`, as in production.

    `db_session` keeps an app context pushed and Flask reuses it for the client's requests, so
    per-request state on `g` (Flask-Login's current user, Flask-Babel's locale) would otherwise
    leak from one request into the next.

    What the test set up before the request is committed first (a savepoint released inside the
    test's transaction, see `db_session`), as it would be in production before anyone could ask for
    it: the request's lifecycle (lms.core.lifecycle.view) rolls back a refusal, and must roll back
    only what the request itself wrote.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(g):
                g.pop(name)
            db.session.commit()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app():
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        "SECRET_KEY": "test-secret-key",
        "CELERY_EAGER": True,
        "CELERY_BROKER_URL": "",
        "WTF_CSRF_ENABLED": False,
        "LMS_FILE_STORE": os.path.join(_TMP, "files"),
        "LMS_DEMO": True,
        "SERVER_NAME": "lms.test",
    })
    app.test_client_class = FreshRequestClient
    with app.app_context():
        db.drop_all()
        db.create_all()
        from lms.localities.operations import load_localities

        load_localities()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class _ConnectionBoundSession(FlaskSession):
    """Flask-SQLAlchemy's session picks the app's engine over `bind`; in tests `bind` must win."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind or self.bind or super().get_bind(mapper=mapper, clause=clause, **kwargs)


@pytest.fixture()
def db_session(app):
    """A transaction rolled back after the test; commits inside become savepoint releases."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": _ConnectionBoundSession})
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture()
def client(app, db_session):
    return app.test_client()


# ---------------------------------------------------------------- factories

@pytest.fixture()
def commune(db_session):
    """Find a current-scheme commune by code (default: Phường Vũng Tàu, 26506)."""
    from lms.localities.models import Locality

    def find(code="26506", scheme="2025-07", level="commune"):
        return db_session.scalar(select(Locality).where(
            Locality.scheme == scheme, Locality.level == level, Locality.code == code))

    return find


@pytest.fixture()
def create_user(db_session, commune):
    from lms.accounts import operations

    counter = {"n": 0}

    def create(name="Nguyễn Văn An", *, roles=(), locality=None, audience="citizen", password="mat-khau-123",
               email=None, manager_of=None):
        counter["n"] += 1
        user = operations.create_user(name, password, email=email or f"user{counter['n']}@example.vn",
                                      audience=audience, locality=locality or commune())
        for role in roles:
            operations.grant_role(user, role, locality=manager_of if role == "manager" else None)
        db_session.flush()
        return user

    return create


@pytest.fixture()
def create_course(db_session):
    """Import a course folder (default: the fixture mini-course) and return the Course."""
    from lms.catalog.operations import import_course
    from lms.catalog.queries import course_by_slug
    from lms.catalog.source import read_course

    def create(folder=FIXTURE_COURSES / "mini-course"):
        source = read_course(Path(folder))
        import_course(source)
        db_session.flush()
        return course_by_slug(source.slug)

    return create


@pytest.fixture()
def fast_pages_answered(app):
    """How many requests lms/core/fast_pages.py answered in front of Flask since the test began."""
    layer = app.extensions["lms_fast_pages"]
    before = layer.answered
    return lambda: layer.answered - before


@pytest.fixture()
def returning_browser(app, client):
    """The client as a returning browser: it holds the stylesheet cookie (a first visit is Flask's)."""
    style = app.extensions.get("lms_inline_style")
    if style is not None:
        client.set_cookie("css", style("").fingerprint)
    return client


@pytest.fixture()
def login(client):
    def do_login(user, password="mat-khau-123"):
        response = client.post("/login", data={"login": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do_login


def text_of(response) -> str:
    """The visible text of an HTML response, whitespace collapsed, for content assertions."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def wait_for_celery_worker(process, node: str, broker: str, timeout: float = 300.0) -> None:
    """Until the Celery worker `process` (started with `-n node`) answers a ping. On a loaded machine its
    start-up (the whole app imported) took longer than the worker tests' 30-second waits, which then
    timed out with the job still queued."""
    import time

    from celery import Celery

    control = Celery(broker=broker).control
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the Celery worker exited with {process.returncode}"
        if control.ping(destination=[node], timeout=1.0):
            return
    pytest.fail(f"the Celery worker did not answer within {timeout:.0f} s")
