"""Enrollment state changes. Flush only; controllers and tasks commit."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.catalog.models import Course, Lesson
from lms.core import outbox
from lms.core.db import utcnow
from lms.enrollment.models import Enrollment, LessonProgress
from lms.extensions import db
from lms.quizzes.models import Quiz


class EnrollmentError(ValueError):
    pass


def find_enrollment(user, course) -> Enrollment | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id))


def enrol(user, course: Course, source: str = "self") -> Enrollment:
    """Enrol the user (idempotent); the enrollment records the user's locality now."""
    existing = find_enrollment(user, course)
    if existing is not None:
        return existing
    if source == "self" and not course.can_enrol(user):
        raise EnrollmentError(_l("This course is not open to you."))
    enrollment = Enrollment(user=user, course=course, source=source, locality_id=user.locality_id)
    db.session.add(enrollment)
    db.session.flush()
    return enrollment


def _progress_row(enrollment: Enrollment, lesson: Lesson) -> LessonProgress:
    row = db.session.scalar(select(LessonProgress).where(
        LessonProgress.enrollment_id == enrollment.id, LessonProgress.lesson_id == lesson.id))
    if row is None:
        row = LessonProgress(enrollment=enrollment, lesson=lesson)
        db.session.add(row)
    return row


VISIT_RESOLUTION = timedelta(minutes=10)


def progress_of(enrollment: Enrollment | None) -> dict[int, object]:
    """Lesson id → completed_at (None when seen but not done) for every lesson the learner opened."""
    if enrollment is None:
        return {}
    return dict(db.session.execute(select(LessonProgress.lesson_id, LessonProgress.completed_at)
                                   .where(LessonProgress.enrollment_id == enrollment.id)).all())


def record_visit(enrollment: Enrollment, lesson: Lesson, progress: dict[int, object]) -> bool:
    """Remember where the learner is, for "continue where I left off".

    Returns whether anything changed: re-reading the same lesson within VISIT_RESOLUTION
    writes nothing, so a lesson page view is usually read-only.
    """
    changed = False
    if lesson.id not in progress:
        db.session.add(LessonProgress(enrollment=enrollment, lesson=lesson))
        changed = True
    now = utcnow()
    if (enrollment.last_lesson_id != lesson.id or enrollment.last_seen_at is None
            or now - enrollment.last_seen_at > VISIT_RESOLUTION):
        enrollment.last_lesson_id = lesson.id
        enrollment.last_seen_at = now
        changed = True
    if changed:
        db.session.flush()
    return changed


def mark_done(enrollment: Enrollment, lesson: Lesson) -> None:
    row = _progress_row(enrollment, lesson)
    row.completed_at = row.completed_at or utcnow()
    enrollment.last_lesson = lesson
    enrollment.last_seen_at = utcnow()
    db.session.flush()
    # "Continue where I left off" must lead to unfinished work, not back to the lesson just done.
    done = completed_lesson_ids(enrollment)
    enrollment.last_lesson = resume_lesson(enrollment, enrollment.course.active_lessons(), done) or lesson
    db.session.flush()
    check_completion(enrollment)


def mark_not_done(enrollment: Enrollment, lesson: Lesson) -> None:
    row = _progress_row(enrollment, lesson)
    row.completed_at = None
    db.session.flush()


def completed_lesson_ids(enrollment: Enrollment | None) -> set[int]:
    if enrollment is None:
        return set()
    return set(db.session.scalars(select(LessonProgress.lesson_id).where(
        LessonProgress.enrollment_id == enrollment.id, LessonProgress.completed_at.is_not(None))))


def progress_percent(enrollment: Enrollment, lesson_ids: list[int] | None = None) -> int:
    """Share of the course's active lessons that are done, 0–100."""
    if lesson_ids is None:
        lesson_ids = [lesson.id for lesson in enrollment.course.active_lessons()]
    if not lesson_ids:
        return 0
    done = completed_lesson_ids(enrollment) & set(lesson_ids)
    return round(100 * len(done) / len(lesson_ids))


def resume_lesson(enrollment: Enrollment, lessons: list[Lesson], done: set[int]) -> Lesson | None:
    """Where "continue" leads: the first unfinished lesson from the last one seen, else the first unfinished."""
    if not lessons:
        return None
    start = next((i for i, lesson in enumerate(lessons) if lesson.id == enrollment.last_lesson_id), 0)
    for lesson in lessons[start:] + lessons[:start]:
        if lesson.id not in done:
            return lesson
    return lessons[start]


def passed_quiz_ids(user_id: int, quiz_ids) -> set[int]:
    if not quiz_ids:
        return set()
    # The quiz's grading method (highest, last, first, average) decides; it lives with the quizzes.
    from lms.quizzes.operations import passed_quiz_ids as by_grading_method

    return by_grading_method(user_id, quiz_ids)


def check_completion(enrollment: Enrollment) -> bool:
    """Mark the enrollment complete when every lesson is done and every quiz passed.

    Completion queues the certificate through the outbox, in this same transaction, so the
    certificate exists if and only if the completion was committed.
    """
    if enrollment.completed_at is not None:
        return True
    course = enrollment.course
    lesson_ids = {lesson.id for lesson in course.active_lessons()}
    if not lesson_ids or not lesson_ids <= completed_lesson_ids(enrollment):
        return False
    # Quizzes imported by a trainer as banks (GIFT/Aiken upload) are extra practice; only the
    # course folder's quizzes decide completion.
    quiz_ids = set(db.session.scalars(select(Quiz.id).where(Quiz.course_id == course.id, Quiz.archived_at.is_(None),
                                                            Quiz.key.not_like("bank/%"))))
    if not quiz_ids <= passed_quiz_ids(enrollment.user_id, quiz_ids):
        return False
    enrollment.completed_at = utcnow()
    db.session.flush()
    if course.certificate:
        outbox.enqueue("certificates.issue", enrollment_id=enrollment.id)
    return True


def my_enrollments(user):
    return db.session.scalars(select(Enrollment).where(Enrollment.user_id == user.id)
                              .options(selectinload(Enrollment.course), selectinload(Enrollment.last_lesson))
                              .order_by(func.coalesce(Enrollment.last_seen_at, Enrollment.enrolled_at).desc())).all()
