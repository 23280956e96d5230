"""The light path of a quiz start (lms/quizzes/quick_start.py, issue 17: 5,000 exam takers on two cores):
the usual start is five narrow statements — no ORM quiz, course or user with grants, no savepoint —
and whatever it does not take (resume, a limit, not enrolled, a closed quiz) is answered by the full view."""

import datetime as dt

import pytest
from sqlalchemy import select, update

from lms.core.db import utcnow
from lms.enrollment.models import Enrollment
from lms.quizzes import quick_start
from lms.quizzes.models import Attempt, Quiz
from tests.quizzes.test_attempts import start

pytestmark = pytest.mark.usefixtures("english")

CONTROL = ("begin", "savepoint", "release", "commit", "rollback")


def _work(seen):
    return [s for s in seen if not s.startswith(CONTROL)]


def test_a_start_is_six_statements_without_orm_loads(client, setup, db_session, statements):
    quiz, user = setup("time_limit: 20")
    quiz_id = quiz.id  # read before counting: the test's own session reloads the quiz after its commit
    statements.clear()
    response = client.post(f"/quizzes/{quiz_id}/start")
    assert response.status_code == 303
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    work = _work(statements)
    # The person (one row), the quiz with its course's status, the enrolment lock, the counts, the
    # drawn questions, the insert. The full view took eleven, and a savepoint.
    assert len(work) == 6, "\n".join(w[:200] for w in work)
    assert "role_grants" in work[0] and "courses.status" in work[1] and "from courses" not in work[1].split("join")[0]
    assert work[2].startswith("select enrollments.id, enrollments.restarted_at")
    assert work[-1].startswith("insert into attempts") and "on conflict do nothing returning" in work[-1]
    attempt = db_session.get(Attempt, attempt_id)
    enrollment = db_session.scalar(select(Enrollment).where(Enrollment.user_id == user.id))
    assert (attempt.quiz_id, attempt.user_id, attempt.enrollment_id, attempt.number) == (quiz.id, user.id, enrollment.id, 1)
    assert attempt.submitted_at is None and not attempt.needs_grading and attempt.page == 0
    assert sorted(slot["q"] for slot in attempt.layout) == sorted(q.id for q in quiz.active_questions())
    assert dt.timedelta(minutes=19) < attempt.deadline - attempt.started_at <= dt.timedelta(minutes=20)


def test_a_reload_resumes_through_the_full_view(client, setup, db_session, monkeypatch):
    quiz, _ = setup()
    taken = []
    real = quick_start.start
    monkeypatch.setattr(quick_start, "start", lambda quiz_id: taken.append(real(quiz_id)) or taken[-1])
    first = start(client, quiz)
    assert start(client, quiz) == first  # the second start found the running attempt: the full view resumed it
    assert taken == [first, None]


def test_the_second_attempt_is_numbered_after_the_first(client, setup, db_session):
    quiz, user = setup("attempts: 2")
    first = start(client, quiz)
    assert client.post(f"/attempts/{first}/finish").status_code == 303
    second = start(client, quiz)
    assert second != first and db_session.get(Attempt, second).number == 2
    assert client.post(f"/attempts/{second}/finish").status_code == 303
    refused = client.post(f"/quizzes/{quiz.id}/start")  # no attempt left: the full view says so
    assert refused.status_code == 303 and refused.headers["Location"].endswith(f"/quizzes/{quiz.id}")
    assert len(db_session.scalars(select(Attempt.id).where(Attempt.user_id == user.id)).all()) == 2


def test_refusals_are_the_full_views(client, setup, db_session):
    quiz, user = setup()
    db_session.execute(update(Quiz).where(Quiz.id == quiz.id).values(opens_at=utcnow() + dt.timedelta(days=1)))
    db_session.commit()
    response = client.post(f"/quizzes/{quiz.id}/start", follow_redirects=True)
    assert "This quiz is not open now." in response.get_data(as_text=True)
    db_session.execute(update(Quiz).where(Quiz.id == quiz.id).values(opens_at=None))
    db_session.execute(Enrollment.__table__.delete().where(Enrollment.user_id == user.id))
    db_session.commit()
    response = client.post(f"/quizzes/{quiz.id}/start", follow_redirects=True)
    assert "Enrol in the course before taking its quiz." in response.get_data(as_text=True)
    db_session.execute(update(Quiz).where(Quiz.id == quiz.id).values(archived_at=utcnow()))
    db_session.commit()
    assert client.post(f"/quizzes/{quiz.id}/start").status_code == 403  # Quiz.can_view, as before
    assert db_session.scalar(select(Attempt.id).where(Attempt.user_id == user.id)) is None
