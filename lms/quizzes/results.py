"""A learner's results: finished attempts and the quiz grade by grading method."""

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from lms.extensions import db
from lms.quizzes.models import Attempt, Quiz


def finished_attempts(quiz: Quiz, user) -> list[Attempt]:
    return db.session.scalars(select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.user_id == user.id,
                                                    Attempt.submitted_at.is_not(None)).order_by(Attempt.number)).all()


def quiz_grade(quiz: Quiz, user) -> Decimal | None:
    """The learner's grade for the quiz by its grading method (highest, last, first, average)."""
    scored = [a.score for a in finished_attempts(quiz, user) if a.score is not None and not a.needs_grading]
    if not scored:
        return None
    return _by_method(scored, quiz.grading_method)


def _by_method(scores: list[Decimal], method: str) -> Decimal:
    if method == "last":
        return scores[-1]
    if method == "first":
        return scores[0]
    if method == "average":
        return (sum(scores) / len(scores)).quantize(Decimal("0.01"))
    return max(scores)


def passed_quiz_ids(user_id: int, quiz_ids, since: dt.datetime | None = None, excluding=()) -> set[int]:
    """Quizzes whose grade (by each quiz's grading method over graded attempts submitted since
    `since`, when given, and not among the attempt ids `excluding`) reaches the pass mark."""
    where = [Attempt.user_id == user_id, Attempt.quiz_id.in_(list(quiz_ids)), Attempt.submitted_at.is_not(None),
             Attempt.needs_grading.is_(False), Attempt.score.is_not(None)]
    if excluding:
        where.append(Attempt.id.not_in(list(excluding)))
    if since is not None:
        where.append(Attempt.submitted_at >= since)
    rows = db.session.execute(
        select(Attempt.quiz_id, Attempt.score, Quiz.grading_method, Quiz.pass_mark).join(Quiz, Attempt.quiz_id == Quiz.id)
        .where(*where).order_by(Attempt.number)).all()
    scores, settings = {}, {}
    for quiz_id, score, method, pass_mark in rows:
        scores.setdefault(quiz_id, []).append(Decimal(score))
        settings[quiz_id] = (method, pass_mark)
    return {quiz_id for quiz_id, values in scores.items() if _by_method(values, settings[quiz_id][0]) >= settings[quiz_id][1]}


