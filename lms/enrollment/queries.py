"""Read-only enrollment queries, grouped so a page costs a constant number of queries."""

from datetime import timedelta
from functools import cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from lms.catalog.models import Lesson
from lms.core.db import utcnow
from lms.enrollment.models import Enrollment, LessonProgress
from lms.extensions import db

# Re-reading the lesson last read within this time writes nothing: a lesson view is usually read-only.
VISIT_RESOLUTION = timedelta(minutes=10)


def visit_changes_something(lesson_id: int, seen_before: bool, last_lesson_id: int | None, last_seen_at) -> bool:
    """Whether a view of `lesson_id` is a visit to write (lms.enrollment.operations.record_visit): a lesson
    not opened before, another lesson than the last one, or the same one after VISIT_RESOLUTION."""
    return (not seen_before or last_lesson_id != lesson_id or last_seen_at is None
            or utcnow() - last_seen_at > VISIT_RESOLUTION)


def progress_by_enrollment(enrollments: list[Enrollment]) -> dict[int, int]:
    """Enrollment id → percent of active lessons done, in two queries whatever the count."""
    if not enrollments:
        return {}
    course_ids = {e.course_id for e in enrollments}
    totals = dict(db.session.execute(
        select(Lesson.course_id, func.count(Lesson.id))
        .where(Lesson.course_id.in_(course_ids), Lesson.archived_at.is_(None))
        .group_by(Lesson.course_id)).all())
    done = dict(db.session.execute(
        select(LessonProgress.enrollment_id, func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.enrollment_id.in_([e.id for e in enrollments]),
               LessonProgress.completed_at.is_not(None), Lesson.archived_at.is_(None))
        .group_by(LessonProgress.enrollment_id)).all())
    return {e.id: round(100 * done.get(e.id, 0) / totals[e.course_id]) if totals.get(e.course_id) else 0
            for e in enrollments}


def find_enrollment(user, course) -> Enrollment | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id))


def progress_of(enrollment: Enrollment | None) -> dict[int, object]:
    """Lesson id → completed_at (None when seen but not done) for every lesson the learner opened."""
    if enrollment is None:
        return {}
    return dict(db.session.execute(select(LessonProgress.lesson_id, LessonProgress.completed_at)
                                   .where(LessonProgress.enrollment_id == enrollment.id)).all())


def enrollment_and_progress(user, course) -> tuple[Enrollment | None, dict[int, object]]:
    """find_enrollment and progress_of in one query (the lesson page's): the enrollment row repeated
    beside each lesson the learner opened, or once with no lesson."""
    if not getattr(user, "is_authenticated", False):
        return None, {}
    rows = db.session.execute(_enrollment_and_progress_statement(), {"user_id": user.id, "course_id": course.id}).all()
    if not rows:
        return None, {}
    return rows[0][0], {lesson_id: done for _, lesson_id, done in rows if lesson_id is not None}


@cache
def _enrollment_and_progress_statement():
    # Built once, run with new values on every lesson view (building it cost more than running it).
    return (select(Enrollment, LessonProgress.lesson_id, LessonProgress.completed_at)
            .outerjoin(LessonProgress, LessonProgress.enrollment_id == Enrollment.id)
            .where(Enrollment.user_id == bindparam("user_id"), Enrollment.course_id == bindparam("course_id")))


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


def my_enrollments(user):
    return db.session.scalars(select(Enrollment).where(Enrollment.user_id == user.id)
                              .options(selectinload(Enrollment.course), selectinload(Enrollment.last_lesson))
                              .order_by(func.coalesce(Enrollment.last_seen_at, Enrollment.enrolled_at).desc())).all()
