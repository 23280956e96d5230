from celery import shared_task

from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.models import Quiz


@shared_task(name="quizzes.finish_overdue")
def finish_overdue_attempts():
    """Finish timed attempts left open past deadline + grace (runs every minute from beat; idempotent)."""
    total = 0
    while True:
        finished = operations.finish_overdue(limit=200)
        db.session.commit()
        total += finished
        if finished < 200:
            return total


@shared_task(name="quizzes.regrade")
def regrade_quiz(quiz_id: int):
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None:
        return 0
    changed = operations.regrade_quiz(quiz)
    db.session.commit()
    return changed
