"""The light path of a quiz start (issue 17: 5,000 learners start one exam within a minute on two cores).

On exam day every learner presses Start once, all within the same minute. The full view loads the quiz
and its course as ORM objects (for the permission), looks for a running attempt twice (before and under
the enrolment lock), counts the attempts, draws the questions and inserts the attempt inside a savepoint:
eleven statements and the ORM's bookkeeping. Here the usual case — a learner enrolled in a published
course, no attempt running, attempts left, the quiz open — takes five narrow Core statements: the quiz
with its course's status, the enrolment locked as `operations.lock_enrollment` locks it, the attempt
counts (and whether one runs) in one read, the drawn questions, and `INSERT … ON CONFLICT DO NOTHING
RETURNING id` (the database's unique indexes still have the last word).

Anything else — not signed in, not enrolled, an attempt running (resume, or an overdue one to close
first), no attempts left, the quiz closed or without questions, an archived quiz, an unpublished course,
a start that lost a race — returns None and the full view answers it (the messages, the 403 and 404,
resuming the running attempt and closing an overdue one stay in one place).
"""

import datetime as dt
import functools
import random

from flask_login import current_user
from sqlalchemy import bindparam, func, select

from lms.catalog.models import Course
from lms.core import raw_reads
from lms.core.db import dialect_name, upsert, utcnow
from lms.quizzes import operations, queries
from lms.quizzes.layout import draw_layout
from lms.quizzes.models import Attempt, Quiz

# The quiz columns a start reads (draw_layout, draw_questions, the deadline, the limits).
QUIZ_COLUMNS = ("id", "course_id", "archived_at", "opens_at", "closes_at", "time_limit_minutes", "max_attempts",
                "shuffle", "draw", "banks")


INSERTED = ("quiz_id", "user_id", "enrollment_id", "number", "started_at", "deadline", "layout")


@functools.cache
def _statements(dialect: str):
    """Built once per process and database: building a statement costs more than running it."""
    quizzes, courses, attempts = Quiz.__table__, Course.__table__, Attempt.__table__
    quiz = (select(*(quizzes.c[name] for name in QUIZ_COLUMNS), courses.c.status)
            .join_from(quizzes, courses, courses.c.id == quizzes.c.course_id)
            .where(quizzes.c.id == bindparam("quiz_id")))
    mine = (attempts.c.quiz_id == bindparam("quiz_id")) & (attempts.c.user_id == bindparam("user_id"))
    counts = select(func.count(attempts.c.id).label("made"),
                    func.count(attempts.c.id).filter(attempts.c.started_at >= bindparam("restarted_at")).label("counted"),
                    func.count(attempts.c.id).filter(attempts.c.submitted_at.is_(None)).label("running")).where(mine)
    insert = upsert(attempts, dialect).on_conflict_do_nothing().returning(attempts.c.id)
    return quiz, counts, insert


def start(quiz_id: int, rng: random.Random | None = None) -> int | None:
    """The new attempt's id, or None: the full view answers (and everything it finds is rolled back first)."""
    if not current_user.is_authenticated:
        return None
    quiz_statement, counts_statement, insert = _statements(dialect_name())
    user_id = current_user.id
    quiz = raw_reads.session_first(quiz_statement, {"quiz_id": quiz_id})
    now = utcnow()
    # Quiz.can_view: an archived quiz or an unpublished course is the full view's (a trainer may see it).
    if quiz is None or quiz.archived_at is not None or quiz.status != "published" or not Quiz.is_open(quiz, now):
        return None
    # The enrolment locked as the full view locks it: starts of one learner one at a time.
    enrollment = operations.lock_enrollment_row(user_id, quiz.course_id)
    if enrollment is None:
        return None
    [(made, counted, running)] = raw_reads.session_rows(counts_statement, {
        "quiz_id": quiz_id, "user_id": user_id, "restarted_at": enrollment.restarted_at or dt.datetime.min})
    if running or (quiz.max_attempts and counted >= quiz.max_attempts):
        return None
    own, pool = queries.draw_questions(quiz)
    if not pool:
        return None
    layout = draw_layout(quiz, rng or random.SystemRandom(), own, pool)
    inserted = raw_reads.session_rows(insert, {"quiz_id": quiz_id, "user_id": user_id, "enrollment_id": enrollment.id,
                                    "number": made + 1, "started_at": now, "deadline": queries.deadline(quiz, now),
                                    "layout": layout}, column_keys=INSERTED)
    return inserted[0].id if inserted else None
