"""Enrollment state changes. Flush only; controllers and tasks commit."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.catalog.models import Course, Lesson
from lms.core import outbox
from lms.core.db import insert_ignoring_conflict, utcnow
from lms.enrollment.models import Enrollment, LessonProgress
from lms.extensions import db
from lms.quizzes.models import Attempt, Quiz


class EnrollmentError(ValueError):
    pass


def find_enrollment(user, course) -> Enrollment | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id))


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
        from lms.programs.operations import unmet_prerequisites

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
        _insert_progress(enrollment, lesson)
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


def _attempts_since(enrollment: Enrollment):
    """Attempts that count for this round of the course (all of them unless it was restarted)."""
    where = [Attempt.user_id == enrollment.user_id, Attempt.submitted_at.is_not(None)]
    if enrollment.restarted_at is not None:
        where.append(Attempt.submitted_at >= enrollment.restarted_at)
    return where


def passed_quiz_ids(user_id: int, quiz_ids, enrollment: Enrollment | None = None) -> set[int]:
    if not quiz_ids:
        return set()
    # The quiz's grading method (highest, last, first, average) decides; it lives with the quizzes.
    # After a restart (renewal) only the attempts of the new round count.
    from lms.quizzes.results import passed_quiz_ids as by_grading_method

    return by_grading_method(user_id, quiz_ids, since=enrollment.restarted_at if enrollment is not None else None)


def average_best_score(enrollment: Enrollment, quiz_ids) -> float | None:
    """The mean over the course's quizzes of the learner's best score (0–100); None without quizzes."""
    if not quiz_ids:
        return None
    best = dict(db.session.execute(select(Attempt.quiz_id, func.max(Attempt.score)).where(
        *_attempts_since(enrollment), Attempt.quiz_id.in_(quiz_ids)).group_by(Attempt.quiz_id)).all())
    return sum(float(best.get(quiz_id) or 0) for quiz_id in quiz_ids) / len(quiz_ids)


# Time on a lesson counts from first opening it to marking it done, capped so that a tab left
# open for a week does not stand for a week of study.
STUDY_CAP_PER_LESSON = timedelta(minutes=60)


def study_minutes(enrollment: Enrollment) -> int:
    rows = db.session.execute(select(LessonProgress.first_seen_at, LessonProgress.completed_at).where(
        LessonProgress.enrollment_id == enrollment.id, LessonProgress.completed_at.is_not(None))).all()
    total = sum((min(max(done - seen, timedelta(0)), STUDY_CAP_PER_LESSON) for seen, done in rows), timedelta(0))
    return int(total.total_seconds() // 60)


def completion_quiz_ids(course) -> set[int]:
    """The quizzes that decide completion: the course folder's, not the banks trainers upload as practice."""
    return set(db.session.scalars(select(Quiz.id).where(Quiz.course_id == course.id, Quiz.archived_at.is_(None),
                                                        Quiz.key.not_like("bank/%"))))


def unmet_rules(enrollment: Enrollment) -> list[str]:
    """The completion rules not met yet: 'lessons', 'quizzes', 'min_score', 'min_study_minutes'."""
    course = enrollment.course
    unmet = []
    lesson_ids = {lesson.id for lesson in course.active_lessons()}
    if not lesson_ids or not lesson_ids <= completed_lesson_ids(enrollment):
        unmet.append("lessons")
    quiz_ids = completion_quiz_ids(course)
    if not quiz_ids <= passed_quiz_ids(enrollment.user_id, quiz_ids, enrollment):
        unmet.append("quizzes")
    if course.min_score is not None and quiz_ids and average_best_score(enrollment, quiz_ids) < course.min_score:
        unmet.append("min_score")
    if course.min_study_minutes and study_minutes(enrollment) < course.min_study_minutes:
        unmet.append("min_study_minutes")
    return unmet


def check_completion(enrollment: Enrollment) -> bool:
    """Mark the enrollment complete when every completion rule of its course is met.

    Completion queues the certificate through the outbox, in this same transaction, so the
    certificate exists if and only if the completion was committed. Programs that count the
    course are checked in the same transaction.
    """
    if enrollment.completed_at is not None:
        return True
    if unmet_rules(enrollment):
        return False
    enrollment.completed_at = utcnow()
    db.session.flush()
    if enrollment.course.certificate:
        outbox.enqueue("certificates.issue", enrollment_id=enrollment.id)
    from lms.programs.operations import check_programs_for

    check_programs_for(enrollment.user_id, enrollment.course_id)
    return True


def restart_for_renewal(enrollment: Enrollment) -> None:
    """Start the course over so that completing it again renews an expired certificate."""
    now = utcnow()
    enrollment.completed_at = None
    enrollment.restarted_at = now
    for row in enrollment.progress:
        row.completed_at = None
        row.first_seen_at = now
    db.session.flush()


def my_enrollments(user):
    return db.session.scalars(select(Enrollment).where(Enrollment.user_id == user.id)
                              .options(selectinload(Enrollment.course), selectinload(Enrollment.last_lesson))
                              .order_by(func.coalesce(Enrollment.last_seen_at, Enrollment.enrolled_at).desc())).all()
