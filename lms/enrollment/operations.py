"""Enrollment state changes. Flush only; controllers and tasks commit."""


from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.catalog.models import Course, Lesson
from lms.core.db import insert_ignoring_conflict, utcnow
from lms.core.signals import course_assigned, lesson_completed, lesson_viewed, practice_finished, renewal_started
from lms.enrollment.models import Enrollment, LessonProgress, OfflineProgressRecord
from lms.enrollment.queries import (
    completed_lesson_ids,
    find_enrollment,
    resume_lesson,
    visit_changes_something,
)
from lms.extensions import db
from lms.programs.models import Program
from lms.programs.queries import closed_courses, enrol_refusal, unmet_prerequisites


class EnrollmentError(ValueError):
    pass


def enrol(user, course: Course, source: str = "self", skip_prerequisites=frozenset()) -> Enrollment:
    """Enrol the user (idempotent); the enrollment records the user's locality now.

    Enrolling oneself requires the course's prerequisites completed, except those in
    `skip_prerequisites` (course ids: the other courses of a program being enrolled in).
    """
    existing = find_enrollment(user, course)
    if existing is not None:
        return existing
    if source == "self" and not course.can_enrol(user):
        raise EnrollmentError(_l("This course is not open to you."))
    if source == "self":
        missing = unmet_prerequisites(user, course_id=course.id, skip_course_ids=skip_prerequisites)
        if missing:
            raise EnrollmentError(_l("Complete these first: %(titles)s.", titles=", ".join(missing)))
    # A double-clicked "Enrol" or two tabs: both insert, the unique (user, course) keeps one.
    insert_ignoring_conflict(Enrollment, {
        "user_id": user.id, "course_id": course.id, "source": source, "locality_id": user.locality_id,
        "agency_id": user.agency_id, "enrolled_at": utcnow()}, ("user_id", "course_id"))
    return find_enrollment(user, course)


def _progress_row(enrollment: Enrollment, lesson: Lesson) -> LessonProgress:
    _insert_progress(enrollment, lesson)
    return db.session.scalar(select(LessonProgress).where(
        LessonProgress.enrollment_id == enrollment.id, LessonProgress.lesson_id == lesson.id))


def _insert_progress(enrollment: Enrollment, lesson: Lesson) -> None:
    insert_ignoring_conflict(LessonProgress, {"enrollment_id": enrollment.id, "lesson_id": lesson.id,
                                              "first_seen_at": utcnow()}, ("enrollment_id", "lesson_id"))


@course_assigned.connect
def _enrol_assigned(user, *, course, source: str = "assigned", **_):
    """Another feature (a class roster) put the person on the course."""
    enrol(user, course, source=source)


@lesson_viewed.connect
def record_visit(enrollment: Enrollment, lesson: Lesson, progress: dict[int, object]) -> bool:
    """Remember where the learner is, for "continue where I left off".

    Returns whether anything changed: re-reading the same lesson within VISIT_RESOLUTION
    writes nothing, so a lesson page view is usually read-only.
    """
    seen_before = lesson.id in progress
    moves_on = visit_changes_something(lesson.id, True, enrollment.last_lesson_id, enrollment.last_seen_at)
    if seen_before and not moves_on:
        return False
    if not seen_before:
        _insert_progress(enrollment, lesson)
    if moves_on:
        enrollment.last_lesson_id = lesson.id
        enrollment.last_seen_at = utcnow()
    db.session.flush()
    return True


def mark_done(enrollment: Enrollment, lesson: Lesson, at=None) -> None:
    """`at`: when it was done, if earlier than now (a record made offline and sent later)."""
    row = _progress_row(enrollment, lesson)
    row.completed_at = row.completed_at or at or utcnow()
    enrollment.last_lesson = lesson
    enrollment.last_seen_at = utcnow()
    db.session.flush()
    # "Continue where I left off" must lead to unfinished work, not back to the lesson just done.
    done = completed_lesson_ids(enrollment)
    enrollment.last_lesson = resume_lesson(enrollment, enrollment.course.active_lessons(), done) or lesson
    db.session.flush()
    lesson_completed.send(enrollment, lesson=lesson)


@practice_finished.connect
def _practice_done(enrollment: Enrollment, *, lesson: Lesson, **_) -> None:
    mark_done(enrollment, lesson)


def mark_not_done(enrollment: Enrollment, lesson: Lesson) -> None:
    row = _progress_row(enrollment, lesson)
    row.completed_at = None
    db.session.flush()


def apply_offline_record(user, enrollment: Enrollment, lesson: Lesson, client_id: str, done: bool, done_at) -> bool:
    """Apply a "done"/"not done" made offline, once: False if this record (by the phone's id) came before.

    The phone's clock is trusted only within bounds: never later than now, never before the enrolment.
    """
    done_at = min(max(done_at, enrollment.enrolled_at), utcnow())
    # The unique id decides: of two arrivals (even at once, from two tabs), only the one that inserts applies it.
    if not insert_ignoring_conflict(OfflineProgressRecord, {
            "client_id": client_id, "user_id": user.id, "lesson_id": lesson.id, "done": done, "done_at": done_at,
            "received_at": utcnow()}, ("client_id",)):
        return False
    if done:
        mark_done(enrollment, lesson, at=done_at)
    else:
        mark_not_done(enrollment, lesson)
    return True


@renewal_started.connect
def restart_for_renewal(enrollment: Enrollment, **_details) -> None:
    """Start the course over so that completing it again renews an expired certificate."""
    now = utcnow()
    enrollment.completed_at = None
    enrollment.restarted_at = now
    for row in enrollment.progress:
        row.completed_at = None
        row.first_seen_at = now
    db.session.flush()


def enrol_in_program(user, program: Program) -> list:
    """Enrol in every course of the program that `user` may take (idempotent); returns those
    enrolments. Optional courses closed to them are left out; a program they could not complete
    raises EnrollmentError with the reason. Prerequisites between courses of the same program do
    not block: the program's order is the path through them."""
    closed = closed_courses(user, program)
    refusal = enrol_refusal(user, program, closed)
    if refusal:
        raise EnrollmentError(refusal)
    inside = {link.course_id for link in program.courses}
    return [enrol(user, link.course, source="self", skip_prerequisites=inside)
            for link in program.courses if link.course_id not in closed]
