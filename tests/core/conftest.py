"""Extra apps for the core tests: one with a view that fails, one whose database does not answer."""

import os

import pytest

from lms import create_app
from tests.conftest import _TMP, _database_url

DEAD_DATABASE = "postgresql://postgres@127.0.0.1:1/none"  # nothing listens on port 1


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
