"""The light path of autosave (lms/quizzes/autosave.py, issue 17: 5,000 exam takers on two cores):
the learner's own open attempt is saved with two narrow reads and the upsert — no user with role
grants, no ORM attempt — and whatever it does not take is answered by the full view as before."""

import pytest
from sqlalchemy import select, update

from lms.accounts.models import SessionRecord
from lms.core.db import utcnow
from lms.quizzes.models import Attempt, AttemptAnswer
from tests.quizzes.test_answer_versions import answer_of, save
from tests.quizzes.test_attempts import by_type, start

pytestmark = pytest.mark.usefixtures("english")


def test_an_autosave_reads_the_attempt_and_questions_then_upserts(client, setup, statements):
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    statements.clear()
    assert answer_of(save(client, attempt_id, qid, "a", version=1000), qid) == {"state": "saved", "version": 1000}
    work = [s for s in statements if not s.startswith(("begin", "savepoint", "release", "commit", "rollback"))]
    assert len(work) == 3, work
    assert "session_records" in work[0] and "attempts" in work[0] and "role_grants" not in " ".join(work)
    assert work[1].startswith("select questions.id") and work[2].startswith("insert into attempt_answers")


def test_an_ended_session_record_saves_nothing(client, setup, db_session):
    quiz, user = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    db_session.execute(update(SessionRecord).where(SessionRecord.user_id == user.id).values(ended_at=utcnow()))
    db_session.commit()
    response = save(client, attempt_id, qid, "a", version=1000)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert db_session.scalar(select(AttemptAnswer.id).where(AttemptAnswer.attempt_id == attempt_id)) is None


def test_a_new_session_version_saves_nothing(client, setup, db_session):
    """Signed out everywhere (password changed): the cookie's session version is old."""
    quiz, user = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    user.session_version += 1
    db_session.commit()
    assert save(client, attempt_id, qid, "a", version=1000).status_code == 401
    assert db_session.scalar(select(AttemptAnswer.id).where(AttemptAnswer.attempt_id == attempt_id)) is None


def test_a_submitted_attempt_is_left_to_the_full_view(client, setup, db_session):
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    assert client.post(f"/attempts/{attempt_id}/finish", headers={"Accept": "application/json"}).status_code == 200
    response = save(client, attempt_id, qid, "a", version=1000)
    assert response.status_code == 409 and response.get_json()["error"] == "finished"
    assert db_session.scalar(select(AttemptAnswer.response).where(AttemptAnswer.attempt_id == attempt_id,
                                                                  AttemptAnswer.question_id == qid)) != ["a"]


def test_a_save_after_the_grace_period_finishes_the_attempt(client, setup, db_session):
    quiz, _ = setup("time_limit: 10\ngrace: 0")
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    db_session.execute(update(Attempt).where(Attempt.id == attempt_id).values(deadline=utcnow().replace(year=2000)))
    db_session.commit()
    response = save(client, attempt_id, qid, "a", version=1000)
    assert response.status_code == 409 and response.get_json()["error"] == "time_up"
    db_session.expire_all()
    assert db_session.get(Attempt, attempt_id).submitted_at is not None


def test_a_one_answer_save_runs_on_the_db_api_cursor(client, setup, db_session, monkeypatch):
    """The attempt read, the question read and the upsert skip Connection.execute (lms.core.raw_reads.rows_in), inside
    the save's one transaction: the answer is stored, with the columns' defaults, and a replay stores nothing."""
    from lms.core import raw_reads

    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    ran, real = [], raw_reads._run
    monkeypatch.setattr(raw_reads, "_run", lambda *args: ran.append(args[1].sql.split()[0].lower()) or real(*args))
    assert answer_of(save(client, attempt_id, qid, "a", version=1000), qid) == {"state": "saved", "version": 1000}
    assert ran == ["select", "select", "insert"]
    stored = db_session.scalar(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id,
                                                           AttemptAnswer.question_id == qid))
    assert (stored.response, stored.version, stored.comment, stored.checked_at) == (["a"], 1000, "", None)
    assert answer_of(save(client, attempt_id, qid, "b", version=999), qid) == {"state": "kept", "version": 1000}
    db_session.refresh(stored)
    assert stored.response == ["a"]
