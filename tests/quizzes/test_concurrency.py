"""Two tabs at once, for real: concurrent requests on separate PostgreSQL connections.

The other attempt tests run inside one rolled-back transaction, where two requests can only be
simulated. These commit for real (each request has its own session and connection, as behind
gunicorn), so they clean up what they made. A threading barrier or a pause inside one request
forces the interleaving that exam day produces by chance.
"""

import os
import threading
import time
from functools import partial

import psycopg
import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.quizzes import operations, queries, quick_start
from lms.quizzes.models import Attempt, AttemptAnswer, Question
from tests.conftest import TEST_DB_URL
from tests.quizzes.crowd import PASSWORD, HeldLock, committed_exam, together

pytestmark = pytest.mark.skipif(not os.environ.get("LMS_TEST_DATABASE_URL"),
                                reason="needs PostgreSQL (row locks; the second pass of `make test`)")



@pytest.fixture()
def exam(app, tmp_path):
    """A committed course whose quiz allows one attempt, and `learner()` making enrolled users."""
    with committed_exam(app, tmp_path, attempts=1, prefix="race") as made:
        yield made


def _tab(app, email):
    client = app.test_client()
    response = client.post("/login", data={"login": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def _together(*calls):
    """Run the calls in threads released at the same instant; their results in order (none failed)."""
    results = together(list(calls), timeout=30)
    assert not any(isinstance(r, Exception) for r in results), results
    return results


def _attempt_id(response):
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return int(response.headers["Location"].rsplit("/", 1)[1])


@pytest.mark.parametrize("path", ["light", "full"])
def test_two_tabs_starting_at_the_same_instant_get_one_attempt(app, exam, monkeypatch, path):
    quiz_id, learner = exam
    # The first start keeps the enrolment locked until the second is seen waiting for it: they met.
    # The light start (lms/quizzes/quick_start.py) locks it with lock_enrollment_row; the full view with
    # lock_enrollment (the light path off: every start goes through the full view).
    lock = "lock_enrollment_row" if path == "light" else "lock_enrollment"
    held = HeldLock(getattr(operations, lock), waiters=1)
    monkeypatch.setattr(operations, lock, held)
    if path == "full":
        monkeypatch.setattr(quick_start, "start", lambda quiz_id: None)
    _, email = learner()
    first, second = _tab(app, email), _tab(app, email)
    responses = _together(lambda: first.post(f"/quizzes/{quiz_id}/start"),
                          lambda: second.post(f"/quizzes/{quiz_id}/start"))
    assert _attempt_id(responses[0]) == _attempt_id(responses[1]) and held.seen == 1
    monkeypatch.undo()
    with app.app_context():
        assert db.session.scalar(select(Attempt.number).where(Attempt.quiz_id == quiz_id,
                                                              Attempt.user_id == _user_id(email))) == 1
        assert len(db.session.scalars(select(Attempt).where(Attempt.user_id == _user_id(email))).all()) == 1
    # The limit (one attempt) holds: after finishing, both tabs are refused a second one.
    first.post(f"/attempts/{_attempt_id(responses[0])}/finish")
    refused = _together(lambda: first.post(f"/quizzes/{quiz_id}/start"), lambda: second.post(f"/quizzes/{quiz_id}/start"))
    assert all(r.headers["Location"].endswith(f"/quizzes/{quiz_id}") for r in refused)
    with app.app_context():
        assert len(db.session.scalars(select(Attempt).where(Attempt.user_id == _user_id(email))).all()) == 1


def _user_id(email):
    from lms.accounts.models import User

    return db.session.scalar(select(User.id).where(User.email == email))


def _single_question(app, quiz_id):
    with app.app_context():
        return db.session.scalar(select(Question.id).where(Question.quiz_id == quiz_id, Question.type == "single"))


def _save(client, attempt_id, question_id, value):
    return client.post(f"/attempts/{attempt_id}/save", data={"shown": str(question_id), f"q{question_id}": value},
                       headers={"Accept": "application/json"})


def _stored(app, attempt_id, question_id):
    with app.app_context():
        row = db.session.execute(select(AttemptAnswer.response, AttemptAnswer.score).where(
            AttemptAnswer.attempt_id == attempt_id, AttemptAnswer.question_id == question_id)).one()
        return row.response, row.score


def _two_tabs_on_one_attempt(app, exam):
    """(single-choice question id, a tab that saves, a tab that submits, the running attempt's id)."""
    quiz_id, learner = exam
    _, email = learner()
    saving, submitting = _tab(app, email), _tab(app, email)
    return _single_question(app, quiz_id), saving, submitting, _attempt_id(saving.post(f"/quizzes/{quiz_id}/start"))


_SAVE_WAITING = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
      AND query LIKE 'INSERT INTO attempt_answers%FOR SHARE%'"""


def _graded(app, attempt_id, question_id, expected):
    response, score = _stored(app, attempt_id, question_id)
    with app.app_context():
        submitted = db.session.scalar(select(Attempt.submitted_at).where(Attempt.id == attempt_id))
    assert submitted is not None and response == expected and score is not None


def test_a_save_read_before_the_submission_and_written_after_it_is_refused_not_lost(app, exam, monkeypatch):
    """The light autosave reads the attempt without a lock, then stores with one statement that locks it. A
    submission that commits between the two leaves the save nothing to store: it is told 409, never 200."""
    question_id, saving, submitting, attempt_id = _two_tabs_on_one_attempt(app, exam)
    assert _save(saving, attempt_id, question_id, "a").status_code == 200
    read, submitted = threading.Event(), threading.Event()
    real = operations.store_answers

    def after_the_submission(*args, **kwargs):  # the save has read the attempt (open) and is about to store
        read.set()
        assert submitted.wait(15)
        return real(*args, **kwargs)

    monkeypatch.setattr(operations, "store_answers", after_the_submission)

    def submit():
        assert read.wait(15)
        try:
            return submitting.post(f"/attempts/{attempt_id}/finish")
        finally:
            submitted.set()

    late, finished = _together(lambda: _save(saving, attempt_id, question_id, "b"), submit)
    assert finished.status_code == 303
    assert late.status_code == 409 and late.get_json()["error"] == "finished"
    _graded(app, attempt_id, question_id, ["a"])


def test_a_save_arriving_during_the_submission_is_refused_not_lost_silently(app, exam, monkeypatch):
    """The save's upsert waits for the submission's lock on the attempt (seen waiting in pg_stat_activity), then
    finds it submitted and stores nothing: PostgreSQL re-checks the locked row after the wait."""
    question_id, saving, submitting, attempt_id = _two_tabs_on_one_attempt(app, exam)
    assert _save(saving, attempt_id, question_id, "a").status_code == 200
    grading, seen = threading.Event(), []
    real = queries.graded_questions

    def once_the_save_waits(attempt):  # the submission holds the attempt FOR NO KEY UPDATE here
        grading.set()
        deadline = time.monotonic() + 15
        with psycopg.connect(TEST_DB_URL, autocommit=True) as watcher:
            while time.monotonic() < deadline and not seen:
                if watcher.execute(_SAVE_WAITING).fetchone()[0]:
                    seen.append(True)
                time.sleep(0.005)  # polling a condition, not ordering the race
        return real(attempt)

    monkeypatch.setattr(queries, "graded_questions", once_the_save_waits)

    def save_during_the_submission():
        assert grading.wait(15)
        return _save(saving, attempt_id, question_id, "b")

    finished, late = _together(lambda: submitting.post(f"/attempts/{attempt_id}/finish"), save_during_the_submission)
    assert seen == [True]  # the interleaving happened: the save's upsert waited for the submission
    assert finished.status_code == 303
    # The learner is told (the page shows the message and the review), and the graded answer stands.
    assert late.status_code == 409 and late.get_json()["error"] == "finished"
    assert late.get_json()["review"].endswith(f"/attempts/{attempt_id}")
    review = saving.get(late.get_json()["review"]).get_data(as_text=True)
    assert "can no longer change" in review or "không thể thay đổi" in review
    response, score = _stored(app, attempt_id, question_id)
    assert response == ["a"] and float(score) == 0


def test_two_tabs_saving_the_same_new_answer_at_once_both_succeed(app, exam):
    quiz_id, learner = exam
    question_id = _single_question(app, quiz_id)
    for _ in range(5):
        _, email = learner()
        one, two = _tab(app, email), _tab(app, email)
        attempt_id = _attempt_id(one.post(f"/quizzes/{quiz_id}/start"))
        first, second = _together(partial(_save, one, attempt_id, question_id, "a"),
                                  partial(_save, two, attempt_id, question_id, "c"))
        assert first.status_code == second.status_code == 200, (first.get_data(), second.get_data())
        response, _ = _stored(app, attempt_id, question_id)
        assert response in (["a"], ["c"])
