"""What quizzes hear: /metrics asks for the attempts in progress."""

from sqlalchemy import func, select

from lms.core.signals import metrics_collected
from lms.extensions import db
from lms.quizzes.models import Attempt


@metrics_collected.connect
def _running_figure(app, **_details) -> list:
    return [("gauge", "lms_attempts_in_progress", "Quiz attempts started and not finished",
             db.session.scalar(select(func.count()).select_from(Attempt).where(Attempt.submitted_at.is_(None))))]
