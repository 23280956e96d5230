"""SQLite (the embedded default): a page view that turns out to write never fails with "database is locked".

The interleaving is made to happen: between the view's read and its write, another connection
commits — exactly what a second visitor does — so the view's snapshot is stale when it writes.
"""

import sqlite3

import pytest
from sqlalchemy import text

from lms import create_app
from lms.extensions import db

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _file_app(path, **settings):
    """An app on a database file of its own: the locks and the retry are SQLite's, between connections."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "x",
                       "CELERY_EAGER": True, "CELERY_BROKER_URL": "", **settings})


@pytest.fixture()
def probe_app(tmp_path):
    path = tmp_path / "locks.sqlite3"
    app = _file_app(path)
    tries, states = [], []

    @app.route("/probe/visit")
    def visit():
        from flask import session

        # Taken out of the session once, as a sign-in's OpenID Connect state is: each try must find it.
        state = session.pop("one_time", None)
        tries.append(db.session.scalar(text("SELECT count(*) FROM visits")))  # the read
        states.append(state)
        if len(tries) == 1:
            with sqlite3.connect(path) as other:  # someone else's request commits in between
                other.execute("INSERT INTO visits (who) VALUES ('other')")
        db.session.execute(text("INSERT INTO visits (who) VALUES ('me')"))  # the write
        db.session.commit()
        return {"tries": len(tries), "state": state}

    with app.app_context():
        db.session.execute(text("CREATE TABLE visits (id INTEGER PRIMARY KEY, who TEXT)"))
        db.session.commit()
        from lms.core.db import retry_stale_reads

        app.view_functions["visit"] = retry_stale_reads(app.view_functions["visit"])
    app.probe_states = states
    yield app, path, tries
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_second_try_gets_the_session_as_the_request_brought_it(probe_app):
    app, _path, tries = probe_app
    client = app.test_client()
    with client.session_transaction() as session:
        session["one_time"] = {"nonce": "abc", "redirect_uri": "/sso/vneid/callback"}
    response = client.get("/probe/visit")
    assert response.get_json() == {"tries": 2, "state": {"nonce": "abc", "redirect_uri": "/sso/vneid/callback"}}
    assert app.probe_states == [app.probe_states[1]] * 2 and tries == [0, 1]  # both tries found it
    with client.session_transaction() as session:
        assert "one_time" not in session  # and the try that counted took it out


def test_a_page_view_whose_snapshot_went_stale_is_run_again_under_the_write_lock(probe_app):
    app, path, tries = probe_app
    response = app.test_client().get("/probe/visit")
    assert response.status_code == 200 and response.get_json() == {"tries": 2, "state": None}
    # The first try saw 0 rows and was refused; the second saw the other visitor's row and wrote.
    assert tries == [0, 1]
    with sqlite3.connect(path) as connection:
        assert [row[0] for row in connection.execute("SELECT who FROM visits ORDER BY id")] == ["other", "me"]


def test_without_the_retry_the_same_interleaving_fails(probe_app):
    """The control: proves the test above really makes the snapshot stale."""
    app, _path, tries = probe_app
    app.view_functions["visit"] = app.view_functions["visit"].__wrapped__
    response = app.test_client().get("/probe/visit")
    assert response.status_code >= 500 and tries == [0]  # the person would have seen an error page


def test_every_view_of_an_sqlite_app_has_the_retry(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("PostgreSQL has row locks; the retry is for SQLite only")
    assert len(app.view_functions) > 100
    assert [e for e, view in app.view_functions.items() if not getattr(view, "lms_retries_stale_reads", False)] == []


@pytest.fixture()
def login_app(tmp_path, monkeypatch):
    """A file database with one account; the password check looks, while it runs, whether another
    writer can take SQLite's write lock at once (timeout 0), as the next person's form would."""
    from lms.accounts import operations

    path = tmp_path / "login.sqlite3"
    app = _file_app(path, WTF_CSRF_ENABLED=False)
    with app.app_context():
        db.create_all()
        operations.create_user("Người Thử", "mat-khau-dai-2025", email="thu@example.vn")
        db.session.commit()
    others = []
    real_check = operations.check_password_hash

    def check_while_another_writes(hashed, password):
        with sqlite3.connect(path, timeout=0, isolation_level=None) as other:
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                others.append("wrote")
            except sqlite3.OperationalError as error:
                others.append(str(error))
        return real_check(hashed, password)

    monkeypatch.setattr(operations, "check_password_hash", check_while_another_writes)
    yield app, path, others
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_password_check_of_a_log_in_holds_no_write_lock(login_app):
    """Issue: under load a scrypt check takes seconds; held under the write lock, the writers queued behind
    it passed the 10 s busy timeout and answered 503 "database is locked" (tests/core/test_sqlite_concurrency.py)."""
    app, path, others = login_app
    response = app.test_client().post("/login", data={"login": "thu@example.vn", "password": "mat-khau-dai-2025"})
    assert response.status_code == 302 and others == ["wrote"]
    with sqlite3.connect(path) as connection:  # the log-in's own writes still happened, once, after the check
        assert connection.execute("SELECT count(*) FROM session_records WHERE ended_at IS NULL").fetchone() == (1,)


def test_holding_the_transaction_through_the_check_blocks_the_other_writer(login_app, monkeypatch):
    """The control: proves the probe above sees the lock when the transaction is not ended first."""
    from lms.accounts import controllers, operations

    monkeypatch.setattr(controllers, "begin_read", lambda: None)  # the form's first read then takes the lock
    monkeypatch.setattr(operations, "release_before_slow_work", lambda: None)
    app, _path, others = login_app
    response = app.test_client().post("/login", data={"login": "thu@example.vn", "password": "mat-khau-dai-2025"})
    assert response.status_code == 302 and others == ["database is locked"]


def test_a_view_that_cannot_be_run_twice_writes_from_its_first_read(tmp_path):
    """An OpenID Connect callback redeems its code once: after `write_from_here` its reads hold the write lock,
    so another writer's commit cannot make it stale and the view is never run again."""
    from lms.core.db import retry_stale_reads, write_from_here

    path = tmp_path / "once.sqlite3"
    app = _file_app(path)
    redeemed, others = [], []

    @app.route("/probe/callback")
    def callback():
        redeemed.append("code")  # the provider's one-time code
        write_from_here()
        seen = db.session.scalar(text("SELECT count(*) FROM visits"))  # the read: now under the write lock
        with sqlite3.connect(path, timeout=0) as other:  # someone else's commit, between the read and the write
            try:
                other.execute("INSERT INTO visits (who) VALUES ('other')")
                others.append("wrote")
            except sqlite3.OperationalError as error:
                others.append(str(error))
        db.session.execute(text("INSERT INTO visits (who) VALUES ('me')"))
        db.session.commit()
        return {"seen": seen}

    with app.app_context():
        db.session.execute(text("CREATE TABLE visits (id INTEGER PRIMARY KEY, who TEXT)"))
        db.session.commit()
        app.view_functions["callback"] = retry_stale_reads(app.view_functions["callback"])
    try:
        response = app.test_client().get("/probe/callback")
        assert response.status_code == 200 and redeemed == ["code"]  # run once
        assert others == ["database is locked"]  # the other writer waited behind it (here: gave up at once)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
