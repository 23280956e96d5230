"""Attempts on the server: start, save each answer, finish, grade, regrade. Flush, never commit."""

import datetime as dt
import functools
import random
from decimal import Decimal
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, case, exists, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from lms.core import audit, raw_reads
from lms.core.db import session_connection, upsert, utcnow
from lms.core.signals import attempt_graded
from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.quizzes import grading, queries
from lms.quizzes.layout import draw_layout, editable_ids, pages
from lms.quizzes.models import Attempt, AttemptAnswer, Question, Quiz


class QuizError(ValueError):
    pass


class TimeUp(QuizError):
    pass


# ---------------------------------------------------------------- starting

def lock_enrollment(user, quiz: Quiz) -> Enrollment | None:
    """The learner's enrolment in the quiz's course, locked until the transaction ends.

    Starts of one learner run one at a time, each seeing what the one before it committed, so
    the attempt limit and "one running attempt" hold however many requests arrive at once.
    PostgreSQL: FOR NO KEY UPDATE, which conflicts with itself but not with the foreign-key checks
    of other writes (progress, attempts). SQLite serialises writing requests anyway (BEGIN IMMEDIATE).
    """
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == quiz.course_id)
                             .with_for_update(key_share=True).execution_options(populate_existing=True))


@functools.cache
def _enrollment_lock_statement():
    enrollments = Enrollment.__table__
    return (select(enrollments.c.id, enrollments.c.restarted_at)
            .where(enrollments.c.user_id == bindparam("user_id"), enrollments.c.course_id == bindparam("course_id"))
            .with_for_update(key_share=True))


def lock_enrollment_row(user_id: int, course_id: int):
    """`lock_enrollment` for the light start (lms/quizzes/quick_start.py): the same lock, taken by one
    prebuilt Core statement; the row (id, restarted_at) or None."""
    return raw_reads.session_first(_enrollment_lock_statement(), {"user_id": user_id, "course_id": course_id})


def start_attempt(quiz: Quiz, user, now: dt.datetime | None = None, rng: random.Random | None = None) -> Attempt:
    """Start an attempt, or return the one already running (reload, second tab, two tabs at once)."""
    now = now or utcnow()
    # An overdue attempt is closed before the enrolment is locked: a submission locks the attempt,
    # then the enrolment (completion); taking them in that same order cannot deadlock.
    running = queries.open_attempt(quiz, user)
    if running is not None and queries.is_overdue(running, now):
        finish_attempt(running, now)
    enrollment = lock_enrollment(user, quiz)
    if enrollment is None:
        raise QuizError(_l("Enrol in the course before taking its quiz."))
    running = queries.open_attempt(quiz, user)
    if running is not None and not queries.is_overdue(running, now):
        return running
    if running is not None:
        finish_attempt(running, now)
    if not quiz.is_open(now):
        raise QuizError(_l("This quiz is not open now."))
    made, counted = queries.attempt_counts(quiz, user, enrollment.restarted_at)
    if quiz.max_attempts and counted >= quiz.max_attempts:
        raise QuizError(_l("You have used all your attempts for this quiz."))
    own, pool = queries.draw_questions(quiz)  # rows, not ORM questions: every learner starts at once on exam day
    if not pool:
        raise QuizError(_l("This quiz has no questions yet."))
    attempt = Attempt(quiz=quiz, user_id=user.id, enrollment=enrollment, number=made + 1,
                      started_at=now, deadline=queries.deadline(quiz, now),
                      layout=draw_layout(quiz, rng or random.SystemRandom(), own, pool))
    try:
        # The database has the last word: (quiz, user, number) is unique and so is the running
        # attempt of (quiz, user). A start that slipped past the lock resumes the winner's attempt.
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:
        db.session.expunge(attempt) if attempt in db.session else None
        running = queries.open_attempt(quiz, user)
        if running is None:
            raise QuizError(_l("This attempt was already submitted from another window.")) from None
        return running
    return attempt


# ---------------------------------------------------------------- while it runs

def lock_attempt(attempt_id: int, for_submission: bool = False) -> Attempt | None:
    """Load an attempt (with its quiz) and lock its row until the transaction ends.

    Saves take a shared lock, submissions an exclusive one: a submission waits for saves in
    flight and grades what they stored; a save arriving during a submission waits, then finds the
    attempt finished and is refused. Nothing is graded without the answer that was being saved.
    (SQLite has no row locks; it serialises writers on the whole database instead.)
    """
    lock = {"of": Attempt, "key_share": True} if for_submission else {"of": Attempt, "read": True}
    return db.session.get(Attempt, attempt_id, options=[joinedload(Attempt.quiz)], with_for_update=lock,
                          populate_existing=True)


def go_to_page(attempt: Attempt, page: int) -> int:
    last = len(pages(attempt)) - 1
    page = max(0, min(page, last))
    if attempt.quiz.navigation == "sequential":
        if page < attempt.page:
            raise QuizError(_l("This quiz moves forward only; earlier pages are closed."))
        page = min(page, attempt.page + 1)
    reached = max(attempt.page, page) if attempt.quiz.navigation == "sequential" else page
    if attempt.page != reached:  # assigned only when it changes: a page view otherwise leaves nothing to flush
        attempt.page = reached
    return page


class Stored(NamedTuple):
    """What a save left on the server for one question: "saved" (this change is stored), "kept"
    (the stored change is this one or newer: a replay, or a late older save), or "closed" (frozen
    by Check or on a closed page), and the version the server now holds."""

    state: str
    version: int | None


# Built once per process and database: constructing an upsert (its `excluded` columns) costs
# more than running it, and autosave runs for every answer of every learner.
_SAVED_COLUMNS = ("attempt_id", "question_id", "response", "saved_at", "version")


@functools.cache
def _save_statement(dialect: str, versioned: bool):
    """The upsert of one answer, stored only while its attempt is open: the statement itself locks the attempt's row
    FOR SHARE, so a submission (which takes it FOR NO KEY UPDATE) waits until this save has committed and grades it,
    or this save waits for the submission and stores nothing. One statement, so an autosave needs no transaction of
    its own (lms/quizzes/fast_save.py). Versioned (the page's script): stored only when newer than what is there, so
    a replayed or late older save changes nothing. Plain form posts are the learner's latest word: always stored,
    one version above what is there."""
    table, attempts = AttemptAnswer.__table__, Attempt.__table__
    still_open = (select(attempts.c.id).where(attempts.c.id == bindparam("attempt_id"), attempts.c.submitted_at.is_(None))
                  .with_for_update(read=True))
    sent_row = select(*(bindparam(name, type_=table.c[name].type) for name in _SAVED_COLUMNS),
                      literal("").label("comment")).where(exists(still_open))
    statement = upsert(table, dialect).from_select((*_SAVED_COLUMNS, "comment"), sent_row, include_defaults=False)
    sent = statement.excluded
    where = table.c.checked_at.is_(None)
    if versioned:
        version = sent.version
        where = and_(where, or_(table.c.version.is_(None), table.c.version < sent.version))
    else:
        version = case((table.c.version >= sent.version, table.c.version + 1), else_=sent.version)
    return statement.on_conflict_do_update(
        index_elements=[table.c.attempt_id, table.c.question_id],
        set_={"response": sent.response, "saved_at": sent.saved_at, "version": version},
        where=where).returning(table.c.question_id, table.c.version)


@functools.cache
def _score_statement(dialect: str):
    table = AttemptAnswer.__table__
    statement = upsert(table, dialect)
    return statement.on_conflict_do_update(index_elements=[table.c.attempt_id, table.c.question_id],
                                           set_={"score": statement.excluded.score}).returning(table.c.question_id)


def save_answers(attempt: Attempt, responses: dict, now: dt.datetime | None = None,
                 questions: dict | None = None, versions: dict | None = None) -> dict[int, Stored]:
    """Store answers as they change. `responses` maps question id → raw response, `versions`
    question id → the page's version of that answer (absent: a plain form post).

    One INSERT … ON CONFLICT DO UPDATE per answer: two tabs saving the same answer cannot collide,
    an older or replayed version stores nothing, and an answer frozen by "Check" (checked_at set)
    is left as it is. Callers that may race a submission lock the attempt first (`lock_attempt`).
    A refusal (QuizError: finished, time up) comes before anything is written.
    """
    now = now or utcnow()
    if attempt.finished:
        raise QuizError(_l("This attempt is finished; its answers can no longer change."))
    if queries.is_overdue(attempt, now):
        raise TimeUp(_l("Time is up: answers sent after the time limit are not counted."))
    if questions is None:
        questions = queries.answerable_questions(attempt, responses)
    db.session.flush()
    result = store_answers(db.session.connection(), attempt.id, responses, now, questions,
                           editable_ids(attempt), versions or {})
    _forget_loaded_answers(attempt)
    return result


def store_answers(connection, attempt_id: int, responses: dict, now: dt.datetime, questions: dict,
                  allowed: set[int], versions: dict) -> dict[int, Stored]:
    """The statements of `save_answers` (checks done by the caller), as Core statements on
    `connection`: the autosave path (lms/quizzes/autosave.py) has no ORM objects to flush. An answer not
    stored ("kept") was not newer than the stored one — or, for a caller that does not hold the attempt's
    lock, its attempt was submitted meanwhile: such a caller must not take "kept" at its word."""
    result = {qid: Stored("closed", None) for qid in responses if qid not in questions or qid not in allowed}
    rows = [{"attempt_id": attempt_id, "question_id": qid, "response": grading.clean_response(questions[qid], raw),
             "saved_at": now, "version": versions.get(qid, queries.version_of(now))}
            for qid, raw in responses.items() if qid in questions and qid in allowed]
    for row in rows:  # one statement an answer, on the DB-API cursor (lms.core.raw_reads.rows_in); usually one
        statement = _save_statement(connection.dialect.name, row["question_id"] in versions)
        result.update({qid: Stored("saved", version) for qid, version in raw_reads.rows_in(connection, statement, row)})
    for row in rows:  # not stored: what is held instead, on the cursor too (Connection.execute would begin a transaction
        # on the autosave's autocommit connection, and on SQLite keep the write lock: lms.core.thread_connections)
        if row["question_id"] not in result:
            for qid, version, checked in raw_reads.rows_in(connection, _held_statement(), row):
                result[qid] = Stored("kept" if checked is None else "closed", version)
    return result


@functools.cache
def _held_statement():
    answers = AttemptAnswer.__table__.c
    return (select(answers.question_id, answers.version, answers.checked_at)
            .where(answers.attempt_id == bindparam("attempt_id"), answers.question_id == bindparam("question_id")))


def check_answer(attempt: Attempt, question_id: int, now: dt.datetime | None = None) -> AttemptAnswer:
    """Immediate feedback: grade one saved answer now and freeze it (Moodle's "Check" button)."""
    now = now or utcnow()
    if attempt.quiz.feedback_timing != "immediate":
        raise QuizError(_l("This quiz gives feedback after submission."))
    if attempt.finished or queries.is_overdue(attempt, now):
        raise QuizError(_l("This attempt is finished; its answers can no longer change."))
    answer = next((a for a in attempt.answers if a.question_id == question_id), None)
    question = db.session.get(Question, question_id)
    if question is None or question_id not in editable_ids(attempt) or question.type in ("essay", "description"):
        raise QuizError(_l("This question cannot be checked."))
    if answer is None or not answer.response:
        raise QuizError(_l("Answer the question before checking it."))
    if answer.checked_at is None:
        answer.score, answer.checked_at = grading.grade(question, answer.response), now
        db.session.flush()
    return answer


# ---------------------------------------------------------------- finishing and grading

def _tally(questions: list[Question], scores: dict, responses: dict) -> tuple[Decimal, bool]:
    """(percentage, waiting for a trainer) from each question's score (None: not graded yet)."""
    total = earned = Decimal(0)
    pending = False
    for question in questions:
        if not question.graded:
            continue
        total += Decimal(question.points)
        score = scores.get(question.id)
        if score is None:
            pending = pending or (question.type == "essay" and bool(responses.get(question.id)))
            continue
        earned += Decimal(question.points) * Decimal(score)
    return ((earned * 100 / total).quantize(Decimal("0.01")) if total else Decimal(0)), pending


def _score(attempt: Attempt, questions: list[Question]) -> None:
    answers = attempt.answers
    attempt.score, attempt.needs_grading = _tally(questions, {a.question_id: a.score for a in answers},
                                                  {a.question_id: a.response for a in answers})
    attempt.passed = None if attempt.needs_grading else attempt.score >= attempt.quiz.pass_mark


def _forget_loaded_answers(attempt: Attempt) -> None:
    """Answer rows were written with single statements: what this session holds of them is stale."""
    for loaded in [o for o in db.session.identity_map.values() if isinstance(o, AttemptAnswer)]:
        if loaded.attempt_id == attempt.id:
            db.session.expire(loaded)
    db.session.expire(attempt, ["answers"])


@functools.cache
def _closing_statement():
    attempts = Attempt.__table__
    return (update(attempts).where(attempts.c.id == bindparam("attempt_id"), attempts.c.submitted_at.is_(None))
            .values(submitted_at=bindparam("now")))


@functools.cache
def _result_statement():
    attempts = Attempt.__table__
    return (update(attempts).where(attempts.c.id == bindparam("attempt_id"))
            .values(score=bindparam("score"), needs_grading=bindparam("pending"), passed=bindparam("passed")))


def finish_attempt(attempt: Attempt, now: dt.datetime | None = None) -> bool:
    """Grade and close the attempt; False when another request already did (idempotent).

    Closing comes first (the UPDATE locks the row, so a save in flight has either landed or will
    be refused); then the stored answers are read, graded and written back in one statement.
    Core statements on the session's connection: the ORM's bulk UPDATE and its loading of whole
    questions were most of a submission's CPU on exam day (docs/performance.md, "(eighth)").
    """
    now = now or utcnow()
    db.session.flush()  # what this request changed through the ORM goes first, as Session.execute would
    connection = session_connection(db.session())
    if connection.execute(_closing_statement(), {"attempt_id": attempt.id, "now": now}).rowcount != 1:
        db.session.refresh(attempt)
        return False
    set_committed_value(attempt, "submitted_at", now)
    questions = queries.graded_questions(attempt)
    rows, scores, responses = [], {}, {}
    for question in questions:
        response = question.response
        if response is None:
            response = [] if question.type != "matching" else {}
        responses[question.id] = response
        score = grading.grade(question, response)
        if question.type == "essay" and not response:
            score = Decimal(0)
        scores[question.id] = score
        rows.append({"attempt_id": attempt.id, "question_id": question.id, "response": response, "score": score})
    if rows:
        # RETURNING makes SQLAlchemy send all rows as one INSERT … VALUES (…), (…) ("insertmanyvalues"),
        # not one statement per row through the driver's executemany.
        connection.execute(_score_statement(connection.dialect.name), rows)
        _forget_loaded_answers(attempt)
    score, pending = _tally(questions, scores, responses)
    passed = None if pending else score >= attempt.quiz.pass_mark
    connection.execute(_result_statement(), {"attempt_id": attempt.id, "score": score, "pending": pending,
                                             "passed": passed})
    for name, value in (("score", score), ("needs_grading", pending), ("passed", passed)):
        set_committed_value(attempt, name, value)
    attempt_graded.send(attempt)
    return True


def submit_attempt(quiz: Quiz, user, responses: dict, now: dt.datetime | None = None) -> Attempt:
    """Save the last answers and finish, starting the attempt first when none runs (untimed, no-JS form)."""
    now = now or utcnow()
    attempt = queries.open_attempt(quiz, user)
    if attempt is None:
        if quiz.time_limit_minutes:
            raise QuizError(_l("Start the attempt first; the time limit runs from the start."))
        attempt = start_attempt(quiz, user, now)
    if not queries.is_overdue(attempt, now):
        save_answers(attempt, responses, now)
    if not finish_attempt(attempt, now):
        raise QuizError(_l("This attempt was already submitted from another window."))
    return attempt


def grade_essay(answer: AttemptAnswer, fraction: Decimal, comment: str, grader, now=None) -> None:
    if not Decimal(0) <= fraction <= Decimal(1):
        raise QuizError(_l("The mark must be between 0 and the question's points."))
    audit.record(grader, "quiz.grade_essay", answer, before={"score": None if answer.score is None else str(answer.score)},
                 after={"score": str(fraction)}, attempt_id=answer.attempt_id, learner_id=answer.attempt.user_id)
    answer.score, answer.comment = fraction, comment
    answer.graded_by_id, answer.graded_at = grader.id, now or utcnow()
    attempt = answer.attempt
    _score(attempt, queries.attempt_questions(attempt))
    db.session.flush()
    attempt_graded.send(attempt)


def regrade_quiz(quiz: Quiz) -> int:
    """Grade every finished attempt again with the current key; essays keep their trainer's mark."""
    changed = 0
    attempts = db.session.scalars(select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.submitted_at.is_not(None)))
    for attempt in attempts:
        before = (attempt.score, attempt.passed)
        questions = queries.attempt_questions(attempt)
        by_id = {q.id: q for q in questions}
        for answer in attempt.answers:
            question = by_id.get(answer.question_id)
            if question is not None and question.type != "essay":
                answer.score = grading.grade(question, answer.response)
        _score(attempt, questions)
        changed += before != (attempt.score, attempt.passed)
        attempt_graded.send(attempt)
    db.session.flush()
    return changed


def finish_overdue(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Finish timed attempts whose learner left: past deadline + grace, never submitted."""
    now = now or utcnow()
    candidates = db.session.scalars(select(Attempt).where(Attempt.submitted_at.is_(None), Attempt.deadline.is_not(None),
                                                          Attempt.deadline < now).limit(limit)).all()
    return sum(1 for attempt in candidates if queries.is_overdue(attempt, now) and finish_attempt(attempt, now))
