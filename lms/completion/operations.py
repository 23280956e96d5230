"""Completing courses, and announcing it (programs listen and complete theirs). Flush only; the caller commits."""

from lms.completion.rules import unmet_rules
from lms.core.db import utcnow
from lms.core.signals import attempt_graded, course_completed, lesson_completed
from lms.enrollment.models import Enrollment
from lms.extensions import db


def check_completion(enrollment: Enrollment) -> bool:
    """Mark the enrollment complete when every completion rule of its course is met.

    `course_completed` is sent in this same transaction, so what listeners queue (the certificate,
    through the outbox) exists if and only if the completion was committed.
    """
    if enrollment.completed_at is not None:
        return True
    if unmet_rules(enrollment):
        return False
    enrollment.completed_at = utcnow()
    db.session.flush()
    course_completed.send(enrollment)
    return True


@lesson_completed.connect
def _on_lesson_completed(enrollment: Enrollment, **_details) -> None:
    check_completion(enrollment)


@attempt_graded.connect
def _on_attempt_graded(attempt, **_details) -> None:
    if attempt.passed:
        check_completion(attempt.enrollment)
