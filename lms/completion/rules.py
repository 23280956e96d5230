"""The completion rules, as reads: what a course or program still needs. Nothing here writes."""

from datetime import timedelta

from sqlalchemy import func, select

from lms.core.signals import answer, assisted_attempts_asked, assisted_attempts_policy_asked
from lms.enrollment.models import Enrollment, LessonProgress
from lms.enrollment.queries import completed_lesson_ids
from lms.extensions import db
from lms.quizzes.models import Attempt, Quiz
from lms.quizzes.results import passed_quiz_ids as by_grading_method


def _attempts_since(enrollment: Enrollment):
    """Attempts that count for this round of the course (all of them unless it was restarted)."""
    where = [Attempt.user_id == enrollment.user_id, Attempt.submitted_at.is_not(None)]
    if enrollment.restarted_at is not None:
        where.append(Attempt.submitted_at >= enrollment.restarted_at)
    return where


def assisted_attempts_count(course_id: int) -> bool:
    """Whether quiz attempts taken in an assisted session count for this course (programs decide:
    `Program.assisted_attempts_count`)."""
    return answer(assisted_attempts_policy_asked, course_id)


def uncounted_attempt_ids(user_id: int, course_id: int, quiz_ids) -> set[int]:
    """The attempts that do not count toward completing the course: assisted ones, when its program says so."""
    if not quiz_ids or assisted_attempts_count(course_id):
        return set()
    return answer(assisted_attempts_asked, user_id, quiz_ids=quiz_ids)


def passed_quiz_ids(user_id: int, quiz_ids, enrollment: Enrollment | None = None) -> set[int]:
    if not quiz_ids:
        return set()
    # The quiz's grading method (highest, last, first, average) decides; it lives with the quizzes.
    # After a restart (renewal) only the attempts of the new round count; assisted ones only if the program lets them.
    excluding = uncounted_attempt_ids(user_id, enrollment.course_id, quiz_ids) if enrollment is not None else set()
    return by_grading_method(user_id, quiz_ids, since=enrollment.restarted_at if enrollment is not None else None,
                             excluding=excluding)


def average_best_score(enrollment: Enrollment, quiz_ids) -> float | None:
    """The mean over the course's quizzes of the learner's best score (0–100); None without quizzes."""
    if not quiz_ids:
        return None
    where = [*_attempts_since(enrollment), Attempt.quiz_id.in_(quiz_ids)]
    excluding = uncounted_attempt_ids(enrollment.user_id, enrollment.course_id, quiz_ids)
    if excluding:
        where.append(Attempt.id.not_in(excluding))
    best = dict(db.session.execute(select(Attempt.quiz_id, func.max(Attempt.score)).where(*where)
                                   .group_by(Attempt.quiz_id)).all())
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


def completion_time(user_id: int, program):
    """When the program was completed (the counted course completions' latest), or None if not yet.

    Required courses all, plus `optional_required` of the optional ones (the earliest finished).
    """
    completed = dict(db.session.execute(select(Enrollment.course_id, Enrollment.completed_at).where(
        Enrollment.user_id == user_id, Enrollment.completed_at.is_not(None),
        Enrollment.course_id.in_([link.course_id for link in program.courses]))).all())
    required = [link.course_id for link in program.courses if link.required]
    if any(course_id not in completed for course_id in required):
        return None
    optional = sorted(completed[link.course_id] for link in program.courses
                      if not link.required and link.course_id in completed)
    if len(optional) < program.optional_required:
        return None
    counted = [completed[course_id] for course_id in required] + optional[:program.optional_required]
    return max(counted) if counted else None
