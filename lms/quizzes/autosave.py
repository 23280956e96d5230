"""The light path of autosave (issue 17: 5,000 learners in one exam on two cores).

The quiz page's script saves every changed answer (JSON, `Accept: application/json`): the one
request that every learner sends every few seconds. The full view loads the user with their role
grants, the attempt and its quiz as ORM objects, and flushes the session; here the same checks run
on narrow Core reads and the answers are stored with the same upsert (`operations.store_answers`),
committed by `@view` before the 200 leaves. The usual save (one answer) is two statements: the attempt
read with its one question (`_attempt_with_question_statement`), then the upsert; a save of several
answers reads the attempt, then its questions.

Who: the user of the session cookie, as the user loader accepts them (lms/__init__.py: an active
user of that session version whose session record for this browser is live). What: their own
attempt, not finished, not past its deadline and grace; the upsert itself locks the attempt FOR SHARE
as `operations.lock_attempt` does (a submission waits for this save) and stores nothing once it is
submitted — then, or for an older change ("kept"), the full view answers under the lock. Anything
else — signed out, another's attempt, an attempt from before layouts were stored, finished, time up —
returns None and the full view answers it (401, 404, 409 and finishing the attempt at time-up stay in one place).
"""

import functools
from collections import namedtuple

from flask import jsonify, request, session
from sqlalchemy import and_, bindparam, select

from lms.accounts import sessions
from lms.accounts.models import SessionRecord, User
from lms.core import raw_reads
from lms.core.db import utcnow
from lms.extensions import db
from lms.quizzes import operations, queries
from lms.quizzes.forms import responses_from_form, shown_ids, versions_from_form
from lms.quizzes.layout import editable_ids
from lms.quizzes.models import Attempt, Question, Quiz


def who(cookie_session) -> tuple[int, int, str] | None:
    """(user id, session version, session record key) of a signed session, or None."""
    raw_id, _, version = str(cookie_session.get("_user_id") or "").partition(":")
    key = cookie_session.get(sessions.SESSION_KEY)
    if not (key and raw_id.isascii() and raw_id.isdigit() and version.isascii() and version.isdigit()):
        return None
    return int(raw_id), int(version), key


# Built once per process: constructing a statement costs more than running it, and this runs for
# every answer of every learner (the values go in as bound parameters).
@functools.cache
def _attempt_statement():
    """The attempt if it is this signed-in user's, with what the checks need. Not locked: the upsert locks the
    attempt itself and stores nothing once it is submitted (operations._save_statement)."""
    record = and_(SessionRecord.key == bindparam("key"), SessionRecord.user_id == User.id,
                  SessionRecord.ended_at.is_(None))
    return (select(Attempt.id, Attempt.submitted_at, Attempt.deadline, Attempt.layout, Attempt.page,
                   Quiz.grace_seconds, Quiz.layout.label("quiz_layout"), Quiz.navigation, SessionRecord.last_seen_at)
            .join(Quiz, Quiz.id == Attempt.quiz_id)
            .join(User, User.id == Attempt.user_id)
            .join(SessionRecord, record)
            .where(Attempt.id == bindparam("attempt_id"), Attempt.user_id == bindparam("user_id"),
                   User.is_active.is_(True), User.session_version == bindparam("version")))


@functools.cache
def _attempt_with_question_statement():
    """`_attempt_statement` with the one question a save shows (NULLs for an id with no question), in one statement."""
    return (_attempt_statement()
            .add_columns(Question.id.label("question_id"), Question.type.label("question_type"),
                         Question.options.label("question_options"), Question.choices.label("question_choices"))
            .outerjoin(Question, Question.id == bindparam("shown_id")))


# What grading.clean_response and forms.responses_from_form read of a question.
_Question = namedtuple("_Question", "id type options choices")
_MAX_ID = 2**31 - 1  # an integer column: a larger id names no question (and SQLite cannot take one past 2**63)



def _shown_questions(connection, row, shown: set[int], only: int | None) -> dict[int, object]:
    """The shown questions that are in this attempt, by id: the one read with the attempt (`only`), or read now."""
    in_attempt = {slot["q"] for slot in row.layout} & shown
    if only is None:
        return queries.answerable_questions_in(connection, in_attempt)
    if row.question_id is None or row.question_id not in in_attempt:
        return {}
    return {row.question_id: _Question(row.question_id, row.question_type, row.question_options, row.question_choices)}


def save_json(attempt_id: int):
    """The autosave answer (200 with what the server holds), or None: the full view answers."""
    person = who(session)
    if person is None:
        return None
    saved = store(db.session.connection(), attempt_id, person, request.form, utcnow())
    if saved is None:
        return None
    payload, last_seen_at = saved
    sessions.note_seen(person[2], last_seen_at)
    return jsonify(**payload)


def store(connection, attempt_id: int, person: tuple[int, int, str], form, now, *, seen_since=None):
    """The checks and the upsert of an autosave on `connection` (in its transaction, not committed):
    (the JSON answer's fields, the session record's last seen), or None when the full view must answer.
    Shared by `save_json` and the WSGI layer below Flask (lms/quizzes/fast_save.py), which passes
    `seen_since`: a session record last seen before it is left to Flask, whose user loader notes it."""
    shown = shown_ids(form)
    only = next(iter(shown)) if len(shown) == 1 else None  # the usual save: its question read with the attempt
    values = {"attempt_id": attempt_id, "user_id": person[0], "version": person[1], "key": person[2]}
    if only is None:
        found = raw_reads.rows_in(connection, _attempt_statement(), values)
    else:
        found = raw_reads.rows_in(connection, _attempt_with_question_statement(),
                                  {**values, "shown_id": only if only <= _MAX_ID else None})
    row = found[0] if found else None
    if row is None or row.submitted_at is not None or not row.layout:
        return None
    if seen_since is not None and row.last_seen_at < seen_since:
        return None
    attempt = queries.plain_attempt(row)
    if queries.is_overdue(attempt, now):
        return None
    questions = _shown_questions(connection, row, shown, only)
    responses = responses_from_form(questions.values(), form)
    responses.update({qid: None for qid in shown - set(questions)})  # not in this attempt: reported closed
    result = operations.store_answers(connection, row.id, responses, now, questions, editable_ids(attempt),
                                      versions_from_form(form))
    if any(result.get(qid, KEPT).state == "kept" for qid in responses):
        # Not stored: an older change, or the attempt was submitted since it was read (nothing here holds its
        # lock). The full view answers under the lock: "kept", or 409.
        return None
    return {**stored_json(result), "seconds_left": queries.seconds_left(attempt, now)}, row.last_seen_at


KEPT = operations.Stored("kept", None)


def stored_json(result) -> dict:
    """What the page's script needs to forget its copy of an answer: the version the server holds."""
    return {"saved": sorted(q for q, stored in result.items() if stored.state == "saved"),
            "closed": sorted(q for q, stored in result.items() if stored.state == "closed"),
            "answers": {str(q): stored._asdict() for q, stored in result.items()}}
