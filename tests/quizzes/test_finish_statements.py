"""A submission's grading in four Core statements (lms/quizzes/operations.py finish_attempt; issue 17: 5,000 exam
takers on two cores): close the attempt, read its questions with their stored responses, write every score in ONE
INSERT … VALUES (…), (…) …, write the result. Before, the ORM loaded whole questions, the driver sent one upsert per
question, and the ORM's bulk UPDATE ran twice: most of a submission's CPU on exam day."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from lms.quizzes.models import Attempt, AttemptAnswer
from tests.quizzes.test_answer_versions import save
from tests.quizzes.test_attempts import by_type, start

pytestmark = pytest.mark.usefixtures("english")

CONTROL = ("begin", "savepoint", "release", "commit", "rollback")


def test_a_submission_grades_in_four_statements_with_one_multi_row_score_write(client, setup, db_session, statements):
    quiz, _ = setup()
    attempt_id = start(client, quiz)
    questions = by_type(quiz)
    single, multiple = questions["single"], questions["multiple"]
    right = single.answer[0]
    save(client, attempt_id, single.id, right, version=1000)
    save(client, attempt_id, multiple.id, "b", version=1000)  # the wrong half: a negative fraction, clamped to 0
    question_ids = [slot["q"] for slot in db_session.get(Attempt, attempt_id).layout]
    statements.clear()

    response = client.post(f"/attempts/{attempt_id}/finish", headers={"Accept": "application/json"})

    assert response.status_code == 200 and response.get_json()["finished"] is True
    grading = [s for s in statements if not s.startswith(CONTROL) and ("attempt_answers" in s or "update attempts" in s)]
    closing, read, scores, result = grading[-4:]
    assert closing.startswith("update attempts set submitted_at") and "submitted_at is null" in closing
    assert read.startswith("select questions.id") and "left outer join attempt_answers" in read
    assert scores.startswith("insert into attempt_answers") and "on conflict" in scores
    # One statement carries every question's row (SQLAlchemy's "insertmanyvalues"), not one statement per question.
    assert sum(1 for s in statements if s.startswith("insert into attempt_answers")) == 1
    assert scores.count("), (") == len(question_ids) - 1, scores[:400]
    assert result.startswith("update attempts set score")

    db_session.expire_all()
    stored = {a.question_id: a for a in db_session.scalars(select(AttemptAnswer)
                                                           .where(AttemptAnswer.attempt_id == attempt_id))}
    assert set(stored) == set(question_ids)  # every question has its row, unanswered ones too
    assert stored[single.id].score == Decimal(1) and stored[single.id].response == [right]
    assert stored[multiple.id].score == Decimal(0) and stored[multiple.id].response == ["b"]
    attempt = db_session.get(Attempt, attempt_id)
    assert attempt.submitted_at is not None and attempt.score is not None and attempt.score > 0


def test_a_second_submission_changes_nothing(client, setup, db_session):
    quiz, _ = setup()
    attempt_id = start(client, quiz)
    first = client.post(f"/attempts/{attempt_id}/finish", headers={"Accept": "application/json"})
    db_session.expire_all()
    before = db_session.get(Attempt, attempt_id)
    submitted_at, score = before.submitted_at, before.score
    again = client.post(f"/attempts/{attempt_id}/finish", headers={"Accept": "application/json"})
    assert first.get_json()["finished"] and again.get_json()["finished"]
    db_session.expire_all()
    after = db_session.get(Attempt, attempt_id)
    assert (after.submitted_at, after.score) == (submitted_at, score)
