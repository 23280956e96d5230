"""Grading and recording quiz attempts, all on the server."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.core.db import utcnow
from lms.enrollment import operations as enrollment_ops
from lms.extensions import db
from lms.quizzes.models import Attempt, AttemptAnswer, Question, Quiz


class QuizError(ValueError):
    pass


def attempts_used(quiz: Quiz, user) -> int:
    return db.session.scalar(select(func.count(Attempt.id)).where(Attempt.quiz_id == quiz.id, Attempt.user_id == user.id))


def attempts_since_restart(quiz: Quiz, user) -> int:
    """Attempts that count against the limit: after a renewal restart, only those made since.

    A learner who used every attempt before the certificate expired must be able to pass again.
    """
    enrollment = enrollment_ops.find_enrollment(user, quiz.course)
    where = [Attempt.quiz_id == quiz.id, Attempt.user_id == user.id]
    if enrollment is not None and enrollment.restarted_at is not None:
        where.append(Attempt.submitted_at >= enrollment.restarted_at)
    return db.session.scalar(select(func.count(Attempt.id)).where(*where))


def attempts_left(quiz: Quiz, user) -> int | None:
    if not quiz.max_attempts:
        return None
    return max(0, quiz.max_attempts - attempts_since_restart(quiz, user))


def grade_question(question: Question, response: list[str]) -> Decimal:
    """Fraction of the question's points earned, 0–1.

    Single choice: all or nothing. Multiple choice: each right option chosen earns its share,
    each wrong option chosen costs one share, never below zero (Moodle's usual weighting).
    """
    chosen = set(response)
    correct = set(question.answer)
    if question.type == "single":
        return Decimal(1) if chosen == correct else Decimal(0)
    valid = {option["id"] for option in question.options}
    right = len(chosen & correct)
    wrong = len((chosen & valid) - correct)
    return max(Decimal(0), Decimal(right - wrong) / Decimal(len(correct)))


def submit_attempt(quiz: Quiz, user, responses: dict[int, list[str]]) -> Attempt:
    """Grade and store one attempt. `responses` maps question id → chosen option ids."""
    enrollment = enrollment_ops.find_enrollment(user, quiz.course)
    if enrollment is None:
        raise QuizError(_l("Enrol in the course before taking its quiz."))
    left = attempts_left(quiz, user)
    if left == 0:
        raise QuizError(_l("You have used all your attempts for this quiz."))
    questions = quiz.active_questions()
    number = attempts_used(quiz, user) + 1
    attempt = Attempt(quiz=quiz, user=user, enrollment=enrollment, number=number, submitted_at=utcnow())
    total = earned = Decimal(0)
    for question in questions:
        response = [r for r in responses.get(question.id, []) if r in {o["id"] for o in question.options}]
        fraction = grade_question(question, response)
        attempt.answers.append(AttemptAnswer(question=question, response=response, score=fraction))
        total += Decimal(question.points)
        earned += Decimal(question.points) * fraction
    attempt.score = (earned * 100 / total).quantize(Decimal("0.01")) if total else Decimal(0)
    attempt.passed = attempt.score >= quiz.pass_mark
    try:
        # A savepoint: two tabs submitting at once collide on (quiz, user, number) and the
        # loser gets a clear message instead of a duplicate attempt.
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:
        raise QuizError(_l("This attempt was already submitted from another window.")) from None
    if attempt.passed:
        enrollment_ops.check_completion(enrollment)
    return attempt


def best_attempt(quiz: Quiz, user) -> Attempt | None:
    return db.session.scalar(select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.user_id == user.id)
                             .order_by(Attempt.score.desc(), Attempt.id).limit(1))
