"""Completing courses and programs, and announcing it. Flush only; the caller commits."""

from sqlalchemy import select

from lms.completion.rules import completion_time, unmet_rules
from lms.core.db import utcnow
from lms.core.signals import attempt_graded, course_completed, lesson_completed, program_completed
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.programs.models import Program, ProgramCourse


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


def check_programs_for(user_id: int, course_id: int) -> list[int]:
    """After a course completion: announce every program with a certificate that it completes."""
    programs = db.session.scalars(select(Program).join(ProgramCourse).where(
        ProgramCourse.course_id == course_id, Program.certificate.is_(True))).all()
    completed = [program for program in programs if completion_time(user_id, program) is not None]
    for program in completed:
        program_completed.send(program, user_id=user_id)
    return [program.id for program in completed]


@lesson_completed.connect
def _on_lesson_completed(enrollment: Enrollment, **_details) -> None:
    check_completion(enrollment)


@attempt_graded.connect
def _on_attempt_graded(attempt, **_details) -> None:
    if attempt.passed:
        check_completion(attempt.enrollment)


@course_completed.connect
def _on_course_completed(enrollment: Enrollment, **_details) -> None:
    check_programs_for(enrollment.user_id, enrollment.course_id)
