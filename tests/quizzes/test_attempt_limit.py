"""The attempt limit and "one running attempt" hold in the database, whatever arrives at once.

On PostgreSQL: 20 learner tabs released together by a barrier, each request on its own
connection, committing for real; a start keeps the enrolment row locked while it counts and
inserts, and a partial unique index allows one running attempt per (quiz, learner). The first
request to hold the lock keeps it until the other 19 are seen waiting for it, so every round
proves the requests really met.
"""

import os
import re
import sqlite3

import flask_migrate
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.core.db import utcnow
from lms.enrollment.models import Enrollment
from lms.enrollment.queries import find_enrollment
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.models import Attempt, Quiz
from tests.conftest import TEST_DB_URL
from tests.quizzes.crowd import PASSWORD, HeldLock, committed_exam, crowd_app, together
from tests.test_migrations import _app, keep_logging  # noqa: F401 — keep_logging is a fixture

TABS = 20
ROUNDS = 8

on_postgresql = pytest.mark.skipif(not TEST_DB_URL, reason="needs PostgreSQL (the second pass of `make test`)")


@pytest.fixture()
def two_attempt_exam(app, tmp_path):
    """A committed course whose quiz allows two attempts; `learner()` makes an enrolled user (email)."""
    with committed_exam(app, tmp_path, attempts=2, prefix="limit") as exam:
        yield exam


def _tabs(app, email, count):
    """`count` browser tabs of one logged-in learner (one log-in; the tabs share its cookie)."""
    first = app.test_client()
    assert first.post("/login", data={"login": email, "password": PASSWORD}).status_code == 302
    cookie = first.get_cookie("session", domain="lms.test")
    tabs = [first]
    for _ in range(count - 1):
        tab = app.test_client()
        tab.set_cookie("session", cookie.value, domain=cookie.domain)
        tabs.append(tab)
    return tabs


def _attempt_in(response) -> int | None:
    """The attempt a start redirected to, or None when it was refused (back to the quiz page)."""
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    found = re.search(r"/attempts/(\d+)$", response.headers["Location"])
    return int(found.group(1)) if found else None


def _learner_tab(client, quiz_id):
    """Start (or resume), submit what it got, start again: what a learner's double clicks and
    two tabs do, squeezed together. Returns the attempts it was given."""
    given = [_attempt_in(client.post(f"/quizzes/{quiz_id}/start"))]
    if given[0] is not None:
        assert client.post(f"/attempts/{given[0]}/finish").status_code == 303
    given.append(_attempt_in(client.post(f"/quizzes/{quiz_id}/start")))
    return given


@on_postgresql
def test_twenty_tabs_at_once_never_exceed_the_limit_nor_run_two_attempts(app, two_attempt_exam, monkeypatch):
    quiz_id, learner = two_attempt_exam
    crowd = crowd_app()
    real_lock = operations.lock_enrollment_row  # the first start of every tab takes the light path (quick_start)
    for _ in range(ROUNDS):
        user_id, email = learner()
        tabs = _tabs(crowd, email, TABS)
        held = HeldLock(real_lock, waiters=TABS - 1)
        monkeypatch.setattr(operations, "lock_enrollment_row", held)
        results = together([lambda tab=tab: _learner_tab(tab, quiz_id) for tab in tabs])
        assert not [r for r in results if isinstance(r, BaseException)], results
        # The requests met: while the first start held the enrolment, all 19 others waited for it.
        assert held.seen == TABS - 1, held.seen
        with app.app_context():
            attempts = db.session.execute(select(Attempt.id, Attempt.number, Attempt.submitted_at).where(
                Attempt.quiz_id == quiz_id, Attempt.user_id == user_id).order_by(Attempt.number)).all()
        assert [a.number for a in attempts] == [1, 2], attempts
        assert sum(1 for a in attempts if a.submitted_at is None) <= 1
        given = {attempt for result in results for attempt in result if attempt is not None}
        assert given == {a.id for a in attempts}  # every tab was sent to one of those two
        assert all(result[1] in (None, attempts[1].id) for result in results)  # never back to the first
    monkeypatch.setattr(operations, "lock_enrollment_row", real_lock)


@on_postgresql
def test_the_database_refuses_a_second_running_attempt_even_past_the_lock(app, two_attempt_exam, monkeypatch):
    """If a start ever ran without the lock, the partial unique index still allows one running attempt."""
    quiz_id, learner = two_attempt_exam
    crowd = crowd_app()
    monkeypatch.setattr(operations, "lock_enrollment", lambda user, quiz: find_enrollment(user, quiz.course))
    monkeypatch.setattr(operations, "lock_enrollment_row", lambda user_id, course_id: db.session.execute(
        select(Enrollment.id, Enrollment.restarted_at).where(Enrollment.user_id == user_id,
                                                             Enrollment.course_id == course_id)).first())
    for _ in range(3):
        user_id, email = learner()
        tabs = _tabs(crowd, email, TABS)
        results = together([lambda tab=tab: _attempt_in(tab.post(f"/quizzes/{quiz_id}/start")) for tab in tabs])
        assert not [r for r in results if isinstance(r, BaseException)], results
        with app.app_context():
            running = db.session.scalars(select(Attempt.id).where(Attempt.quiz_id == quiz_id, Attempt.user_id == user_id,
                                                                  Attempt.submitted_at.is_(None))).all()
        assert len(running) == 1 and set(results) == set(running)


def test_a_second_running_attempt_is_refused_by_the_database(db_session, create_user, course):
    quiz = db_session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    user = create_user("Lê Văn Bình")
    db_session.add(Attempt(quiz=quiz, user=user, number=1, started_at=utcnow(), layout=[]))
    db_session.flush()
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(Attempt(quiz=quiz, user=user, number=2, started_at=utcnow(), layout=[]))
        db_session.flush()
    db_session.expunge_all()
    # Once the first is submitted, the next one may run.
    first = db_session.scalar(select(Attempt).where(Attempt.user_id == user.id))
    first.submitted_at = utcnow()
    db_session.add(Attempt(quiz=quiz, user=user, number=2, started_at=utcnow(), layout=[]))
    db_session.flush()


@pytest.mark.skipif(bool(os.environ.get("LMS_TEST_DATABASE_URL")), reason="SQLite pass (the same SQL runs on both)")
def test_the_migration_closes_extra_running_attempts_left_by_the_old_race(tmp_path, keep_logging):  # noqa: F811
    """Databases already holding several running attempts of one learner keep the newest running."""
    database = tmp_path / "old.sqlite3"
    app = _app(f"sqlite:///{database}")
    with app.app_context():
        flask_migrate.upgrade(revision="0008")
        with sqlite3.connect(database) as connection:
            for number in (1, 2, 3):
                connection.execute("INSERT INTO attempts (quiz_id, user_id, number, started_at, needs_grading, layout, page)"
                                   " VALUES (7, 9, ?, '2026-11-30 08:00:00', 0, '[]', 0)", (number,))
            connection.execute("INSERT INTO attempts (quiz_id, user_id, number, started_at, needs_grading, layout, page)"
                               " VALUES (8, 9, 1, '2026-11-30 08:00:00', 0, '[]', 0)")
        flask_migrate.upgrade()
        db.session.remove()
        db.engine.dispose()
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT quiz_id, number, submitted_at IS NULL, needs_grading FROM attempts"
                                  " ORDER BY quiz_id, number").fetchall()
    # The older two wait for the trainer's Regrade; the newest runs on; the other quiz is untouched.
    assert rows == [(7, 1, 0, 1), (7, 2, 0, 1), (7, 3, 1, 0), (8, 1, 1, 0)]
