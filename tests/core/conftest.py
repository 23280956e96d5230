"""Extra apps for the core tests: one with a view that fails, one whose database does not answer."""

import contextlib
import os
import uuid

import psycopg
import pytest
from psycopg import sql

from lms import create_app
from tests.conftest import _TMP, _database_url

DEAD_DATABASE = "postgresql://postgres@127.0.0.1:1/none"  # nothing listens on port 1


@contextlib.contextmanager
def sibling_database(test_database_url: str, prefix: str):
    """A PostgreSQL database of its own beside the suite's (same server), dropped afterwards: its URL."""
    base, _, _ = test_database_url.rpartition("/")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = f"{base}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _overrides(**changes):
    overrides = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        "SECRET_KEY": "test-secret-key",
        "CELERY_EAGER": True,
        "CELERY_BROKER_URL": "",
        "WTF_CSRF_ENABLED": False,
        "LMS_FILE_STORE": os.path.join(_TMP, "files"),
        "SERVER_NAME": "lms.test",
    }
    overrides.update(changes)
    return overrides


@pytest.fixture(scope="module")
def failing_app():
    """The session app's database, plus a view that raises (added before the app's first request)."""
    app = create_app(_overrides())

    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom: secret internal detail")

    return app


@pytest.fixture(scope="module")
def dead_db_app():
    app = create_app(_overrides(SQLALCHEMY_DATABASE_URI=DEAD_DATABASE))
    yield app
    with app.app_context():
        from lms.extensions import db

        db.session.remove()
        db.engine.dispose()
