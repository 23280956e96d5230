"""Read-only: attempts counted and found, their questions and time left, and the views of quizzes and
attempts for the templates (what reaches the browser is built here)."""

import datetime as dt
import functools
from decimal import Decimal
from types import SimpleNamespace
from typing import NamedTuple

from flask import current_app
from flask_babel import get_locale, gettext
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from sqlalchemy import and_, bindparam, func, null, select

from lms.core import raw_reads
from lms.core.db import core_rows, flushed_session_connection, utcnow
from lms.enrollment.queries import find_enrollment
from lms.extensions import db
from lms.quizzes import grading, layout
from lms.quizzes.models import Attempt, AttemptAnswer, Question, Quiz
from lms.quizzes.sheet import render_sheet


def question_count(quiz) -> int:
    own = quiz.active_questions()
    pool = own + quiz.bank_questions()
    if isinstance(quiz.draw, int):
        return min(quiz.draw, len(pool))
    if isinstance(quiz.draw, dict):
        fixed = sum(1 for q in own if q.category not in quiz.draw)
        return fixed + sum(min(n, sum(1 for q in pool if q.category == c)) for c, n in quiz.draw.items())
    return len(own)


def _slots(attempt, questions):
    """(number, question, layout slot) for every question of the attempt, numbering only graded ones."""
    slots, number = [], 0
    by_id = {q.id: q for q in questions}
    for slot in attempt.slots():
        question = by_id.get(slot["q"])
        if question is None:
            continue
        number += question.graded
        slots.append((number if question.graded else None, question, slot))
    return slots


def _ordered(items, order):
    by_id = {item["id"]: item for item in items}
    return [{"id": i, "html": by_id[i]["html"]} for i in order if i in by_id]


def _view(number, question, slot, response):
    """What the attempt page may show of a question: never the key, fractions or feedback."""
    options = _ordered(question.options, slot.get("o") or [o["id"] for o in question.options])
    if question.type == "ordering" and response:
        options = _ordered(question.options, response)
    return {"number": number, "question": question, "options": options,
            "choices": _ordered(question.choices, slot.get("c") or [c["id"] for c in question.choices]),
            "response": response}


class ShownQuestion(NamedTuple):
    """A question as the attempt page and its immediate feedback read it: values, not an ORM object
    (every learner opens this page at the start of an exam)."""

    id: int
    type: str
    text_html: str
    options: list
    choices: list
    answer: object  # the key: None unless the quiz gives immediate feedback (shown_questions)
    feedback_html: str

    @property
    def graded(self) -> bool:
        return self.type != "description"


# Built once per process (bound parameters): building a statement costs about as much as running it.
@functools.cache
def _shown_questions_statement(count: int, with_key: bool):
    """The attempt's `count` questions by id (`id0` … `id<count-1>`: one statement per count, so that it runs on
    the cursor as compiled once, lms.core.raw_reads). The key (`answer`) is read only for immediate feedback: every
    learner opens this page at the start of an exam, and the key is the largest of the JSON values to decode."""
    columns = [getattr(Question, name) if name != "answer" or with_key else null().label("answer")
               for name in ShownQuestion._fields]
    return select(*columns).where(Question.id.in_([bindparam(f"id{n}") for n in range(count)]))


@functools.cache
def _answer_rows_statement(with_score: bool = True):
    """The attempt's stored answers; the score (of a checked answer) only for immediate feedback — a Numeric, whose
    result processor on psycopg needs the driver's column type, so that statement cannot run on the cursor."""
    score = AttemptAnswer.score if with_score else null().label("score")
    return select(AttemptAnswer.question_id, AttemptAnswer.response, AttemptAnswer.version, AttemptAnswer.checked_at,
                  score).where(AttemptAnswer.attempt_id == bindparam("attempt_id"))


def _answer_rows(attempt, immediate: bool) -> dict:
    values = {"attempt_id": attempt.id}
    rows = core_rows(_answer_rows_statement(), values) if immediate else raw_reads.rows(_answer_rows_statement(False),
                                                                                      values)
    return {row.question_id: row for row in rows}


class DrawnQuestion(NamedTuple):
    """What drawing an attempt's layout reads of a question (layout.draw_layout): no text, no key."""

    id: int
    quiz_id: int
    position: int
    category: str
    type: str
    options: list
    choices: list


@functools.cache
def _draw_statements():
    columns = select(*(getattr(Question, name) for name in DrawnQuestion._fields)).where(Question.archived_at.is_(None))
    own = columns.where(Question.quiz_id == bindparam("quiz_id")).order_by(Question.position, Question.id)
    banks = select(Quiz.id).where(Quiz.course_id == bindparam("course_id"), Quiz.key.in_(bindparam("banks", expanding=True)),
                                  Quiz.id != bindparam("quiz_id"))
    return own, columns.where(Question.quiz_id.in_(banks)).order_by(Question.quiz_id, Question.position, Question.id)


def draw_questions(quiz) -> tuple[list[DrawnQuestion], list[DrawnQuestion]]:
    """(the quiz's own active questions, those + its banks' active questions) as rows, for starting an attempt."""
    own_statement, bank_statement = _draw_statements()
    own = [DrawnQuestion(*row) for row in raw_reads.session_rows(own_statement, {"quiz_id": quiz.id})]
    if not quiz.banks:
        return own, own
    rows = core_rows(bank_statement, {"quiz_id": quiz.id, "course_id": quiz.course_id, "banks": list(quiz.banks)})
    return own, own + [DrawnQuestion(*row) for row in rows]


def shown_questions(attempt) -> list[ShownQuestion]:
    """The attempt's questions in its order; without their key (None) unless the quiz gives immediate feedback."""
    ids = [slot["q"] for slot in attempt.slots()]
    statement = _shown_questions_statement(len(ids), attempt.quiz.feedback_timing == "immediate")
    rows = raw_reads.rows(statement, {f"id{n}": i for n, i in enumerate(ids)}) if ids else []  # the session's if it is open
    found = {row.id: ShownQuestion(*row) for row in rows}
    return [found[i] for i in ids if i in found]


def autosave_messages() -> Markup:
    """What the page's script says about saving and submitting ({n}: a number or a reason it fills
    in), as the JSON of the form's data-messages: worked out once per language, not on every page."""
    return _autosave_messages(str(get_locale()))


@functools.lru_cache(maxsize=16)
def _autosave_messages(locale: str) -> Markup:  # the locale is the cache key; gettext reads the request's
    messages = {
        "saving": gettext("Saving…"),
        "saved": gettext("Saved on the server"),
        "local": gettext("Saved on this device; will be sent when the connection is back"),
        "memory": gettext("Not sent yet, and this browser cannot keep a copy: do not close this page"),
        "offline": gettext("No connection to the server."),
        "queued": gettext("No network: your answers are kept on this phone and sent by themselves when the "
                          "network is back, even if you close this page."),
        "timedOffline": gettext("No network: this quiz is timed, so it is done online only. Your answers stay on "
                                "this page until the network is back; do not close it."),
        "login": gettext("You have been logged out: log in again in another tab; your answers stay on this device."),
        "busy": gettext("The server is busy."),
        "server": gettext("The server has a problem (error {n})."),
        "refused": gettext("The server did not take the answers (error {n})."),
        "retry": gettext("Trying again in {n} s."),
        "resending": gettext("Trying again…"),
        "submitting": gettext("Submitting…"),
        "notSubmitted": gettext("Not submitted: {n} Your answers are kept on this device; press the button to try again."),
        "submitAgain": gettext("Try submitting again"),
    }
    return htmlsafe_json_dumps(messages, dumps=current_app.json.dumps)  # Markup already: the JSON is HTML-safe


def attempt_page(attempt, page: int, now) -> dict:
    slots = _slots(attempt, shown_questions(attempt))
    all_pages = layout.pages(attempt)
    shown = set(all_pages[page]) if all_pages else set()
    immediate = attempt.quiz.feedback_timing == "immediate"
    # Plain rows: the saves write answers with single statements, so no ORM copy is kept or needed.
    rows = _answer_rows(attempt, immediate)
    answers = {qid: a.response for qid, a in rows.items()}
    views = [_view(n, q, slot, answers.get(q.id)) for n, q, slot in slots if q.id in shown]
    for view in views:
        row = rows.get(view["question"].id)
        view["checkable"] = immediate and view["question"].type not in ("essay", "description")
        view["checked"] = None
        view["version"] = row.version if row is not None else None  # the page's script numbers changes above it
        if row is not None and row.checked_at is not None:
            # Checked with immediate feedback: the grade and feedback of this one answer, no key.
            question = view["question"]
            view["checked"] = {"score": row.score, "feedback": grading.answer_feedback(question, row.response)
                               + ([question.feedback_html] if question.feedback_html else [])}
    answered = sum(1 for n, q, _ in slots if q.graded and answers.get(q.id))
    graded = sum(1 for n, q, _ in slots if q.graded)
    editable = layout.editable_ids(attempt) - {qid for qid, a in rows.items() if a.checked_at is not None}
    return {"attempt": attempt, "quiz": attempt.quiz, "views": views, "page": page, "page_count": len(all_pages),
            "seconds_left": seconds_left(attempt, now), "answered": answered, "total": graded,
            "editable": editable, "sequential": attempt.quiz.navigation == "sequential",
            "sheet": render_sheet(views, editable), "autosave_messages": autosave_messages()}


def _key_text(question) -> list[str]:
    """The right answer(s) in words, for the review (only rendered when the rules allow)."""
    key = question.answer
    if question.type == "short":
        return [a["text"] for a in key.get("accepted", []) if a["fraction"] >= 1 and a["text"] != "*"]
    if question.type == "numeric":
        out = []
        for v in key.get("values", []):
            if v["value"] is not None and v["fraction"] >= 1:
                out.append(f"{v['value']:g}" + (f" ± {v['tolerance']:g}" if v["tolerance"] else ""))
        return out
    return []


def review(attempt, user, now) -> dict:
    slots = _slots(attempt, attempt_questions(attempt))
    answers = {a.question_id: a for a in attempt.answers}
    show = {part: review_shows(attempt, part, now) for part in ("score", "responses", "key", "feedback")}
    if attempt.quiz.can_manage(user):
        show = dict.fromkeys(show, True)
    items = []
    for number, question, slot in slots:
        answer = answers.get(question.id)
        response = answer.response if answer is not None else []
        options = slot.get("o") or [o["id"] for o in question.options]
        by_id = {o["id"]: o for o in question.options}
        items.append({
            "number": number, "question": question, "answer": answer, "response": response,
            "options": [by_id[i] for i in options if i in by_id],
            "choices": {c["id"]: c for c in question.choices},
            "key_text": _key_text(question),
            "answer_feedback": grading.answer_feedback(question, response) if show["feedback"] else [],
        })
    left = attempts_left(attempt.quiz, attempt.user)
    return {"attempt": attempt, "quiz": attempt.quiz, "items": items, "show": show, "left": left,
            "enrollment": attempt.enrollment, "is_owner": user.id == attempt.user_id}


def attempts_since_restart(quiz: Quiz, user) -> int:
    """Attempts that count against the limit: after a renewal restart, only those made since.

    A learner who used every attempt before the certificate expired must be able to pass again.
    """
    enrollment = find_enrollment(user, quiz.course)
    where = [Attempt.quiz_id == quiz.id, Attempt.user_id == user.id]
    if enrollment is not None and enrollment.restarted_at is not None:
        where.append(Attempt.started_at >= enrollment.restarted_at)
    return db.session.scalar(select(func.count(Attempt.id)).where(*where))


@functools.cache
def _attempt_counts_statement():
    since = Attempt.started_at >= bindparam("restarted_at")
    return select(func.count(Attempt.id), func.count(Attempt.id).filter(since)).where(
        Attempt.quiz_id == bindparam("quiz_id"), Attempt.user_id == bindparam("user_id"))


def attempt_counts(quiz: Quiz, user, restarted_at: dt.datetime | None) -> tuple[int, int]:
    """(attempts made, attempts that count against the limit) in one read, for a start that holds the
    enrolment already (`attempts_since_restart` without finding the enrolment again)."""
    made, since = db.session.execute(_attempt_counts_statement(), {
        "quiz_id": quiz.id, "user_id": user.id, "restarted_at": restarted_at or dt.datetime.min}).one()
    return made, since


def attempts_left(quiz: Quiz, user) -> int | None:
    if not quiz.max_attempts:
        return None
    return max(0, quiz.max_attempts - attempts_since_restart(quiz, user))


def open_attempt(quiz: Quiz, user) -> Attempt | None:
    return db.session.scalar(select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.user_id == user.id,
                                                   Attempt.submitted_at.is_(None)).order_by(Attempt.id.desc()).limit(1))


def grade_question(question: Question, response) -> Decimal | None:
    return grading.grade(question, grading.clean_response(question, response))


def plain_attempt(row) -> SimpleNamespace:
    """The attempt as operations, lms/quizzes/layout.py and this module read it, from a Core row with the attempt's
    layout, page and deadline and its quiz's `quiz_layout`, `navigation` and `grace_seconds` (the light paths)."""
    quiz = SimpleNamespace(layout=row.quiz_layout, navigation=row.navigation, grace_seconds=row.grace_seconds)
    return SimpleNamespace(slots=lambda: row.layout, page=row.page, deadline=row.deadline, quiz=quiz)


def is_overdue(attempt: Attempt, now: dt.datetime) -> bool:
    """Past the deadline plus the grace period: nothing more is accepted."""
    return attempt.deadline is not None and now > attempt.deadline + dt.timedelta(seconds=attempt.quiz.grace_seconds)


def deadline(quiz, now: dt.datetime) -> dt.datetime | None:
    """When an attempt started `now` ends: the time limit, cut at the quiz's closing; None: never."""
    end = now + dt.timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None
    if quiz.closes_at is not None:
        end = min(end, quiz.closes_at) if end else quiz.closes_at
    return end


def seconds_left(attempt: Attempt, now: dt.datetime) -> int | None:
    if attempt.deadline is None:
        return None
    return max(0, int((attempt.deadline - now).total_seconds()))


def attempt_questions(attempt: Attempt) -> list[Question]:
    ids = [slot["q"] for slot in attempt.slots()]
    found = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def version_of(moment: dt.datetime) -> int:
    """The version a plain form post gets (at least): its moment in milliseconds, as the page's are."""
    return int(moment.replace(tzinfo=dt.UTC).timestamp() * 1000)


def answerable_questions(attempt: Attempt, ids) -> dict[int, object]:
    """What reading and cleaning a response needs (id, type, option and choice ids) of the attempt's
    questions among `ids`: a narrow read, since autosave runs for every answer of every learner."""
    wanted = {slot["q"] for slot in attempt.slots()} & set(ids)
    return answerable_questions_in(flushed_session_connection(), wanted) if wanted else {}


def answerable_questions_in(connection, ids: set[int]) -> dict[int, object]:
    """Id, type, options and choices of the questions `ids`, read on `connection` (the session's, or the
    autosave's own): one id — the usual save — by a statement built once, on the DB-API cursor (never through
    Connection.execute, which would begin a transaction on the autosave's autocommit connection)."""
    if not ids:
        return {}
    if len(ids) == 1:
        rows = raw_reads.rows_in(connection, _answerable_question_statement(), {"id": next(iter(ids))})
    else:
        rows = connection.execute(_answerable_questions_statement(), {"ids": sorted(ids)})
    return {row.id: row for row in rows}


@functools.cache
def _answerable_question_statement():
    return select(Question.id, Question.type, Question.options, Question.choices).where(Question.id == bindparam("id"))


@functools.cache
def _answerable_questions_statement():
    return (select(Question.id, Question.type, Question.options, Question.choices)
            .where(Question.id.in_(bindparam("ids", expanding=True))))


def newer_than_stored(attempt: Attempt, versions: dict) -> int:
    """How many of the page's `versions` are newer than what the attempt holds (after it finished:
    changes that came too late to count)."""
    if not versions:
        return 0
    held = dict(db.session.execute(select(AttemptAnswer.question_id, AttemptAnswer.version)
                                   .where(AttemptAnswer.attempt_id == attempt.id,
                                          AttemptAnswer.question_id.in_(list(versions)))).all())
    return sum(1 for qid, version in versions.items() if held.get(qid) is None or held[qid] < version)


def review_shows(attempt: Attempt, part: str, now: dt.datetime | None = None) -> bool:
    """May the learner see `part` (score, responses, key, feedback) of this finished attempt now?"""
    if not attempt.finished:
        return False
    quiz = attempt.quiz
    if part not in (quiz.review or []):
        return False
    if part in ("key", "feedback") and quiz.feedback_timing == "after-close":
        now = now or utcnow()
        if quiz.closes_at is None:
            return attempts_left(quiz, attempt.user) == 0
        return now >= quiz.closes_at
    if part == "key" and quiz.answers_shown != "after-submit":
        return _done_with(quiz, attempt.user, now or utcnow())
    return True


def _done_with(quiz, user, now: dt.datetime) -> bool:
    """No attempt left for the learner, or the quiz has closed (Moodle's default for right answers)."""
    if quiz.closes_at is not None and now >= quiz.closes_at:
        return True
    return attempts_left(quiz, user) == 0


class GradedQuestion(NamedTuple):
    """What grading (lms.quizzes.grading) and the tally read of a question, with the attempt's stored response."""
    id: int
    type: str
    options: list
    choices: list
    answer: object
    points: Decimal
    response: object

    graded = property(Question.graded.fget)


@functools.cache
def _grading_statement():
    """The attempt's questions, each with its stored response (None: never answered): one read for grading."""
    answers = AttemptAnswer.__table__
    stored = and_(answers.c.question_id == Question.id, answers.c.attempt_id == bindparam("attempt_id"))
    return (select(Question.id, Question.type, Question.options, Question.choices, Question.answer, Question.points,
                   answers.c.response)
            .outerjoin(answers, stored)
            .where(Question.id.in_(bindparam("ids", expanding=True))))


def graded_questions(attempt: Attempt) -> list[GradedQuestion]:
    """The attempt's questions in its layout's order, each with its stored response."""
    ids = [slot["q"] for slot in attempt.slots()]
    if not ids:
        return []
    found = {row.id: GradedQuestion(*row) for row in core_rows(_grading_statement(),
                                                                {"attempt_id": attempt.id, "ids": ids})}
    return [found[i] for i in ids if i in found]
