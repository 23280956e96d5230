"""What quizzes hear: /metrics asks for the attempts in progress; enrollment asks for a course's quiz."""

from sqlalchemy import func, select

from lms.core.signals import metrics_collected, quiz_asked
from lms.extensions import db
from lms.quizzes.models import Attempt, Quiz


@metrics_collected.connect
def _running_figure(app, **_details) -> list:
    return [("gauge", "lms_attempts_in_progress", "Quiz attempts started and not finished",
             db.session.scalar(select(func.count()).select_from(Attempt).where(Attempt.submitted_at.is_(None))))]


@quiz_asked.connect
def _quiz_of(course, *, quiz_id: int, **_):
    quiz = db.session.get(Quiz, quiz_id)
    return quiz if quiz is not None and quiz.course_id == course.id else None
