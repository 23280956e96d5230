"""The light path of autosave (lms/quizzes/autosave.py, issue 17: 5,000 exam takers on two cores):
the learner's own open attempt is saved with narrow reads and the upsert — for one answer, the attempt
read with its question, then the upsert; no user with role grants, no ORM attempt — and whatever it does
not take is answered by the full view as before."""

import pytest
from sqlalchemy import select, update

from lms.accounts.models import SessionRecord
from lms.core.db import utcnow
from lms.quizzes.models import Attempt, AttemptAnswer
from tests.quizzes.test_answer_versions import answer_of, save
from tests.quizzes.test_attempts import by_type, start

pytestmark = pytest.mark.usefixtures("english")


def _work(statements) -> list[str]:
    return [s for s in statements if not s.startswith(("begin", "savepoint", "release", "commit", "rollback"))]


def test_an_autosave_reads_the_attempt_with_its_question_then_upserts(client, setup, statements):
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    statements.clear()
    assert answer_of(save(client, attempt_id, qid, "a", version=1000), qid) == {"state": "saved", "version": 1000}
    work = _work(statements)
    assert len(work) == 2, work
    assert "session_records" in work[0] and "role_grants" not in " ".join(work)
    assert "from attempts join quizzes" in work[0] and "left outer join questions on questions.id =" in work[0]
    assert "for share" not in work[0]  # the read locks nothing: the upsert locks the attempt while it stores
    assert work[1].startswith("insert into attempt_answers") and "where exists (select attempts.id from attempts" in work[1]
    assert "attempts.submitted_at is null for share)" in work[1] or "for share" not in work[1]  # SQLite: no locking clause


def test_a_save_of_several_answers_reads_the_attempt_then_its_questions(client, setup, statements):
    quiz, _ = setup()
    attempt_id, questions = start(client, quiz), by_type(quiz)
    single, multiple = questions["single"].id, questions["multiple"].id
    statements.clear()
    response = client.post(f"/attempts/{attempt_id}/save", headers={"Accept": "application/json"}, data={
        "shown": [str(single), str(multiple)], f"q{single}": "a", f"v{single}": "1000", f"q{multiple}": "b",
        f"v{multiple}": "1000"})
    assert response.get_json()["saved"] == sorted([single, multiple])
    work = _work(statements)
    assert "join questions" not in work[0] and work[1].startswith("select questions.id"), work
    # One guarded upsert an answer (operations._save_statement).
    assert [w.split(" (")[0] for w in work[2:]] == ["insert into attempt_answers"] * 2, work


def test_a_question_not_in_the_attempt_is_closed_and_nothing_is_stored(client, setup, db_session, statements):
    """A question of the quiz, but not in this attempt's layout (drawn from a pool, say): answered by the light path
    (its one read, no upsert)."""
    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    layout = db_session.get(Attempt, attempt_id).layout
    db_session.execute(update(Attempt).where(Attempt.id == attempt_id).values(
        layout=[slot for slot in layout if slot["q"] != qid]))
    db_session.commit()
    statements.clear()
    assert answer_of(save(client, attempt_id, qid, "a", version=1000), qid) == {"state": "closed", "version": None}
    assert len(_work(statements)) == 1 and "left outer join questions" in _work(statements)[0]
    assert db_session.scalar(select(AttemptAnswer.id).where(AttemptAnswer.attempt_id == attempt_id)) is None


@pytest.mark.parametrize("qid", [900_000_000, 2**31 - 1, 2**31, 10**20])
def test_a_question_that_does_not_exist_is_closed(client, setup, db_session, statements, qid):
    quiz, _ = setup()
    attempt_id = start(client, quiz)
    statements.clear()
    response = save(client, attempt_id, qid, "a", version=1000)
    assert answer_of(response, qid) == {"state": "closed", "version": None} and response.get_json()["saved"] == []
    assert len(_work(statements)) == 1 and "left outer join questions" in _work(statements)[0]
    assert db_session.scalar(select(AttemptAnswer.id).where(AttemptAnswer.attempt_id == attempt_id)) is None


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
    """The attempt read with its question, and the upsert, skip Connection.execute (lms.core.raw_reads.rows_in), inside
    the save's one transaction: the answer is stored, with the columns' defaults, and a replay stores nothing."""
    from lms.core import raw_reads

    quiz, _ = setup()
    attempt_id, qid = start(client, quiz), by_type(quiz)["single"].id
    ran, real = [], raw_reads._run
    monkeypatch.setattr(raw_reads, "_run", lambda *args: ran.append(args[1].sql.split()[0].lower()) or real(*args))
    assert answer_of(save(client, attempt_id, qid, "a", version=1000), qid) == {"state": "saved", "version": 1000}
    assert ran == ["select", "insert"]
    stored = db_session.scalar(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id,
                                                           AttemptAnswer.question_id == qid))
    assert (stored.response, stored.version, stored.comment, stored.checked_at) == (["a"], 1000, "", None)
    assert answer_of(save(client, attempt_id, qid, "b", version=999), qid) == {"state": "kept", "version": 1000}
    db_session.refresh(stored)
    assert stored.response == ["a"]
