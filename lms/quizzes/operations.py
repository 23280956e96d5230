"""Attempts on the server: start, save each answer, finish, grade, regrade. Flush, never commit."""

import datetime as dt
import functools
import random
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from lms.core.db import dialect_name, upsert, utcnow
from lms.enrollment import operations as enrollment_ops
from lms.extensions import db
from lms.quizzes import grading
from lms.quizzes.models import Attempt, AttemptAnswer, Question, Quiz


class QuizError(ValueError):
    pass


class TimeUp(QuizError):
    pass


def attempts_used(quiz: Quiz, user) -> int:
    return db.session.scalar(select(func.count(Attempt.id)).where(Attempt.quiz_id == quiz.id, Attempt.user_id == user.id))


def attempts_since_restart(quiz: Quiz, user) -> int:
    """Attempts that count against the limit: after a renewal restart, only those made since.

    A learner who used every attempt before the certificate expired must be able to pass again.
    """
    enrollment = enrollment_ops.find_enrollment(user, quiz.course)
    where = [Attempt.quiz_id == quiz.id, Attempt.user_id == user.id]
    if enrollment is not None and enrollment.restarted_at is not None:
        where.append(Attempt.started_at >= enrollment.restarted_at)
    return db.session.scalar(select(func.count(Attempt.id)).where(*where))


def attempts_left(quiz: Quiz, user) -> int | None:
    if not quiz.max_attempts:
        return None
    return max(0, quiz.max_attempts - attempts_since_restart(quiz, user))


def open_attempt(quiz: Quiz, user) -> Attempt | None:
    return db.session.scalar(select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.user_id == user.id,
                                                   Attempt.submitted_at.is_(None)).order_by(Attempt.id.desc()).limit(1))


def grade_question(question: Question, response) -> Decimal | None:
    return grading.grade(question, grading.clean_response(question, response))


# ---------------------------------------------------------------- starting

def draw_layout(quiz: Quiz, rng: random.Random) -> list[dict]:
    """The questions and option orders of one attempt: drawn and shuffled once, then stored."""
    own = quiz.active_questions()
    pool = own + quiz.bank_questions()
    questions = own
    if isinstance(quiz.draw, dict):
        picked = []
        for category, count in quiz.draw.items():
            candidates = [q for q in pool if q.category == category]
            picked += rng.sample(candidates, min(count, len(candidates)))
        # The quiz's own questions outside the drawn categories are always asked.
        questions = [q for q in own if q.category not in quiz.draw] + picked
    elif isinstance(quiz.draw, int) and 0 < quiz.draw < len(pool):
        questions = rng.sample(pool, quiz.draw)
    elif isinstance(quiz.draw, int):
        questions = pool
    questions = sorted(questions, key=lambda q: (q.quiz_id != quiz.id, q.quiz_id, q.position))
    if quiz.shuffle:
        questions = list(questions)
        rng.shuffle(questions)
    layout = []
    for question in questions:
        options = [o["id"] for o in question.options]
        choices = [c["id"] for c in question.choices]
        # Ordering items always start shuffled: in key order they would give the answer away.
        if (quiz.shuffle and question.type in ("single", "multiple", "matching")) or question.type == "ordering":
            rng.shuffle(options)
        if question.type == "matching":
            rng.shuffle(choices)
        if question.type == "ordering" and len(options) > 1 and options == [o["id"] for o in question.options]:
            options = options[1:] + options[:1]
        layout.append({"q": question.id, "o": options, "c": choices})
    return layout


def start_attempt(quiz: Quiz, user, now: dt.datetime | None = None, rng: random.Random | None = None) -> Attempt:
    """Start an attempt, or return the one already running (reload, second tab, two tabs at once)."""
    now = now or utcnow()
    enrollment = enrollment_ops.find_enrollment(user, quiz.course)
    if enrollment is None:
        raise QuizError(_l("Enrol in the course before taking its quiz."))
    running = open_attempt(quiz, user)
    if running is not None and not is_overdue(running, now):
        return running
    if running is not None:
        finish_attempt(running, now)
    if not quiz.is_open(now):
        raise QuizError(_l("This quiz is not open now."))
    if attempts_left(quiz, user) == 0:
        raise QuizError(_l("You have used all your attempts for this quiz."))
    if not quiz.active_questions() and not quiz.bank_questions():
        raise QuizError(_l("This quiz has no questions yet."))
    deadline = now + dt.timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None
    if quiz.closes_at is not None:
        deadline = min(deadline, quiz.closes_at) if deadline else quiz.closes_at
    attempt = Attempt(quiz=quiz, user=user, enrollment=enrollment, number=attempts_used(quiz, user) + 1,
                      started_at=now, deadline=deadline, layout=draw_layout(quiz, rng or random.SystemRandom()))
    try:
        # Two tabs starting at once collide on (quiz, user, number): the loser resumes the winner's.
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:
        db.session.expunge(attempt) if attempt in db.session else None
        running = open_attempt(quiz, user)
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


def is_overdue(attempt: Attempt, now: dt.datetime) -> bool:
    """Past the deadline plus the grace period: nothing more is accepted."""
    return attempt.deadline is not None and now > attempt.deadline + dt.timedelta(seconds=attempt.quiz.grace_seconds)


def seconds_left(attempt: Attempt, now: dt.datetime) -> int | None:
    if attempt.deadline is None:
        return None
    return max(0, int((attempt.deadline - now).total_seconds()))


def attempt_questions(attempt: Attempt) -> list[Question]:
    ids = [slot["q"] for slot in attempt.slots()]
    found = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def pages(attempt: Attempt) -> list[list[int]]:
    ids = [slot["q"] for slot in attempt.slots()]
    return [[i] for i in ids] if attempt.quiz.layout == "per-page" else [ids]


def editable_ids(attempt: Attempt) -> set[int]:
    """Questions the learner may still change: with sequential navigation, none before the current page."""
    all_pages = pages(attempt)
    if attempt.quiz.navigation == "sequential":
        return {qid for page in all_pages[attempt.page:] for qid in page}
    return {qid for page in all_pages for qid in page}


def go_to_page(attempt: Attempt, page: int) -> int:
    last = len(pages(attempt)) - 1
    page = max(0, min(page, last))
    if attempt.quiz.navigation == "sequential":
        if page < attempt.page:
            raise QuizError(_l("This quiz moves forward only; earlier pages are closed."))
        page = min(page, attempt.page + 1)
    attempt.page = max(attempt.page, page) if attempt.quiz.navigation == "sequential" else page
    return page


# Built once per process and database: constructing an upsert (its `excluded` columns) costs
# more than running it, and autosave runs for every answer of every learner.
@functools.cache
def _save_statement(dialect: str):
    table = AttemptAnswer.__table__
    statement = upsert(table, dialect)
    return statement.on_conflict_do_update(
        index_elements=[table.c.attempt_id, table.c.question_id],
        set_={"response": statement.excluded.response, "saved_at": statement.excluded.saved_at},
        where=table.c.checked_at.is_(None)).returning(table.c.question_id)


@functools.cache
def _score_statement(dialect: str):
    table = AttemptAnswer.__table__
    statement = upsert(table, dialect)
    return statement.on_conflict_do_update(index_elements=[table.c.attempt_id, table.c.question_id],
                                           set_={"score": statement.excluded.score})


def answerable_questions(attempt: Attempt, ids) -> dict[int, object]:
    """What reading and cleaning a response needs (id, type, option and choice ids) of the attempt's
    questions among `ids`: a narrow read, since autosave runs for every answer of every learner."""
    wanted = {slot["q"] for slot in attempt.slots()} & set(ids)
    if not wanted:
        return {}
    rows = db.session.execute(select(Question.id, Question.type, Question.options, Question.choices)
                              .where(Question.id.in_(wanted)))
    return {row.id: row for row in rows}


def save_answers(attempt: Attempt, responses: dict, now: dt.datetime | None = None,
                 questions: dict | None = None) -> dict[int, str]:
    """Store answers as they change. `responses` maps question id → raw response. Returns id → "saved"/"closed".

    One INSERT … ON CONFLICT DO UPDATE for all of them: two tabs saving the same answer cannot
    collide, and an answer frozen by "Check" (checked_at set) is left as it is and reported closed.
    Callers that may race a submission lock the attempt first (see `lock_attempt`).
    """
    now = now or utcnow()
    if attempt.finished:
        raise QuizError(_l("This attempt is finished; its answers can no longer change."))
    if is_overdue(attempt, now):
        raise TimeUp(_l("Time is up: answers sent after the time limit are not counted."))
    allowed = editable_ids(attempt)
    if questions is None:
        questions = answerable_questions(attempt, responses)
    result = {qid: "closed" for qid in responses if qid in questions and qid not in allowed}
    rows = [{"attempt_id": attempt.id, "question_id": qid, "response": grading.clean_response(questions[qid], raw),
             "saved_at": now} for qid, raw in responses.items() if qid in questions and qid in allowed]
    if not rows:
        return result
    db.session.flush()
    saved = set(db.session.execute(_save_statement(dialect_name()), rows).scalars())
    result.update({row["question_id"]: "saved" if row["question_id"] in saved else "closed" for row in rows})
    _forget_loaded_answers(attempt)
    return result


def check_answer(attempt: Attempt, question_id: int, now: dt.datetime | None = None) -> AttemptAnswer:
    """Immediate feedback: grade one saved answer now and freeze it (Moodle's "Check" button)."""
    now = now or utcnow()
    if attempt.quiz.feedback_timing != "immediate":
        raise QuizError(_l("This quiz gives feedback after submission."))
    if attempt.finished or is_overdue(attempt, now):
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


def finish_attempt(attempt: Attempt, now: dt.datetime | None = None) -> bool:
    """Grade and close the attempt; False when another request already did (idempotent).

    Closing comes first (the UPDATE locks the row, so a save in flight has either landed or will
    be refused); then the stored answers are read, graded and written back in one statement.
    """
    now = now or utcnow()
    closed = db.session.execute(update(Attempt).where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
                                .values(submitted_at=now).execution_options(synchronize_session=False))
    if closed.rowcount != 1:
        db.session.refresh(attempt)
        return False
    set_committed_value(attempt, "submitted_at", now)
    questions = attempt_questions(attempt)
    responses = dict(db.session.execute(select(AttemptAnswer.question_id, AttemptAnswer.response)
                                        .where(AttemptAnswer.attempt_id == attempt.id)).all())
    rows, scores = [], {}
    for question in questions:
        response = responses.setdefault(question.id, [] if question.type != "matching" else {})
        score = grading.grade(question, response)
        if question.type == "essay" and not response:
            score = Decimal(0)
        scores[question.id] = score
        rows.append({"attempt_id": attempt.id, "question_id": question.id, "response": response, "score": score})
    if rows:
        db.session.execute(_score_statement(dialect_name()), rows)
        _forget_loaded_answers(attempt)
    score, pending = _tally(questions, scores, responses)
    passed = None if pending else score >= attempt.quiz.pass_mark
    db.session.execute(update(Attempt).where(Attempt.id == attempt.id).values(score=score, needs_grading=pending,
                                                                              passed=passed)
                       .execution_options(synchronize_session=False))
    for name, value in (("score", score), ("needs_grading", pending), ("passed", passed)):
        set_committed_value(attempt, name, value)
    if passed:
        enrollment_ops.check_completion(attempt.enrollment)
    return True


def submit_attempt(quiz: Quiz, user, responses: dict, now: dt.datetime | None = None) -> Attempt:
    """Save the last answers and finish, starting the attempt first when none runs (untimed, no-JS form)."""
    now = now or utcnow()
    attempt = open_attempt(quiz, user)
    if attempt is None:
        if quiz.time_limit_minutes:
            raise QuizError(_l("Start the attempt first; the time limit runs from the start."))
        attempt = start_attempt(quiz, user, now)
    if not is_overdue(attempt, now):
        save_answers(attempt, responses, now)
    if not finish_attempt(attempt, now):
        raise QuizError(_l("This attempt was already submitted from another window."))
    return attempt


def grade_essay(answer: AttemptAnswer, fraction: Decimal, comment: str, grader, now=None) -> None:
    if not Decimal(0) <= fraction <= Decimal(1):
        raise QuizError(_l("The mark must be between 0 and the question's points."))
    answer.score, answer.comment = fraction, comment
    answer.graded_by_id, answer.graded_at = grader.id, now or utcnow()
    attempt = answer.attempt
    _score(attempt, attempt_questions(attempt))
    db.session.flush()
    if attempt.passed:
        enrollment_ops.check_completion(attempt.enrollment)


def regrade_quiz(quiz: Quiz) -> int:
    """Grade every finished attempt again with the current key; essays keep their trainer's mark."""
    changed = 0
    attempts = db.session.scalars(select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.submitted_at.is_not(None)))
    for attempt in attempts:
        before = (attempt.score, attempt.passed)
        questions = attempt_questions(attempt)
        by_id = {q.id: q for q in questions}
        for answer in attempt.answers:
            question = by_id.get(answer.question_id)
            if question is not None and question.type != "essay":
                answer.score = grading.grade(question, answer.response)
        _score(attempt, questions)
        changed += before != (attempt.score, attempt.passed)
        if attempt.passed:
            enrollment_ops.check_completion(attempt.enrollment)
    db.session.flush()
    return changed


def finish_overdue(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Finish timed attempts whose learner left: past deadline + grace, never submitted."""
    now = now or utcnow()
    candidates = db.session.scalars(select(Attempt).where(Attempt.submitted_at.is_(None), Attempt.deadline.is_not(None),
                                                          Attempt.deadline < now).limit(limit)).all()
    return sum(1 for attempt in candidates if is_overdue(attempt, now) and finish_attempt(attempt, now))
