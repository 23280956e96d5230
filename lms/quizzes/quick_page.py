"""The light path of the attempt page (issue 17: 5,000 learners open it within the same minute of an exam).

The full view loads the attempt and its quiz as ORM objects (for the permission and the page). Here the usual
case — the learner's own running attempt, on time, shown at the page it is already on — takes one narrow Core
statement (the attempt with the quiz columns the page reads, and the bell's count) and draws the same page from
plain values.

Anything else returns None and the full view answers it: a visitor, someone else's attempt (403, or a trainer's
review), a finished or overdue attempt (the review, or closing it), an attempt without a stored layout, and any
move to another page (the full view stores it, or refuses it on a forward-only quiz).
"""

import functools

from flask import render_template
from flask_login import current_user
from sqlalchemy import bindparam, select

from lms.core import raw_reads
from lms.core.db import utcnow
from lms.core.signals import answer, unread_count_column_asked
from lms.quizzes import operations, queries
from lms.quizzes.models import Attempt, Quiz


@functools.cache
def _statement():
    attempts, quizzes = Attempt.__table__.c, Quiz.__table__.c
    return (select(attempts.id, attempts.number, attempts.user_id, attempts.submitted_at, attempts.page,
                   attempts.deadline, attempts.layout, quizzes.id.label("quiz_id"), quizzes.title,
                   quizzes.layout.label("quiz_layout"), quizzes.navigation, quizzes.grace_seconds,
                   quizzes.feedback_timing,
                   # The bell's count in the same statement (as the lesson page reads it): base.html asks for it.
                   answer(unread_count_column_asked, attempts.user_id).label("unread"))
            .join_from(Attempt.__table__, Quiz.__table__, quizzes.id == attempts.quiz_id)
            .where(attempts.id == bindparam("attempt_id")))


def _attempt(row):
    """The attempt as queries.attempt_page, lms/quizzes/layout.py and the template read it."""
    attempt = queries.plain_attempt(row)
    attempt.id, attempt.number = row.id, row.number
    attempt.quiz.id, attempt.quiz.title, attempt.quiz.feedback_timing = row.quiz_id, row.title, row.feedback_timing
    return attempt


def page(attempt_id: int, requested_page) -> str | None:
    """The attempt page, or None: the full view answers. `requested_page(attempt)`: the page the request asks
    for (the view's own rule)."""
    if not current_user.is_authenticated:
        return None
    # In autocommit on the thread's connection (lms.core.raw_reads): the ORM session is never opened here — its
    # pooled connection, BEGIN and ROLLBACK cost more than the page's reads (a sixth of the page on exam day).
    row = raw_reads.first(_statement(), {"attempt_id": attempt_id})
    if row is None or row.user_id != current_user.id or row.submitted_at is not None or not row.layout:
        return None
    attempt, now = _attempt(row), utcnow()
    if queries.is_overdue(attempt, now):
        return None
    try:  # the full view's own rule for the page asked for (on these plain values: nothing is stored)
        shown = operations.go_to_page(attempt, requested_page(attempt))
    except operations.QuizError:
        return None  # back on a forward-only quiz: the full view refuses it
    if shown != row.page:
        return None  # another page: the full view moves there and stores it
    unread = row.unread or 0
    return render_template("quizzes/attempt_form.html", **queries.attempt_page(attempt, row.page, now),
                           unread_notifications=lambda: unread)
