"""Item analysis as in Moodle's quiz statistics report (read-only).

Facility index: mean fraction earned on the question (%). Discrimination index: the correlation
between the score on the question and the score on the rest of the quiz (%), which is Moodle's
"discrimination index". Option frequencies: how often each option/response was given.
"""

import datetime as dt
import math
from collections import Counter
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.enrollment.models import Enrollment
from lms.extensions import db
from lms.localities.models import Locality
from lms.quizzes.models import Attempt, Question


def _pearson(xs, ys) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def item_analysis(quiz) -> dict:
    attempts = db.session.scalars(select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.submitted_at.is_not(None))
                                  .options(selectinload(Attempt.answers))).all()
    # Questions drawn from bank quizzes count too: take them from what the attempts answered.
    asked = {a.question_id for attempt in attempts for a in attempt.answers}
    questions = [q for q in quiz.questions if q.graded]
    seen = {q.id for q in questions}
    extra = [i for i in asked if i not in seen]
    if extra:
        more = db.session.scalars(select(Question).where(Question.id.in_(extra))).all()
        questions += sorted((q for q in more if q.graded), key=lambda q: (q.quiz_id, q.position))
    marks = {}  # attempt id → {question id: points earned}
    for attempt in attempts:
        marks[attempt.id] = {a.question_id: float(a.score) * float(a.question.points)
                             for a in attempt.answers if a.score is not None}
    rows = []
    for question in questions:
        taken = [a for a in attempts if question.id in marks[a.id]]
        points = float(question.points) or 1.0
        scores = [marks[a.id][question.id] for a in taken]
        rest = [sum(marks[a.id].values()) - marks[a.id][question.id] for a in taken]
        facility = 100 * sum(scores) / (points * len(scores)) if scores else None
        sd = None
        if len(scores) > 1:
            mean = sum(scores) / len(scores)
            sd = 100 * math.sqrt(sum((s - mean) ** 2 for s in scores) / (len(scores) - 1)) / points
        discrimination = _pearson(scores, rest)
        rows.append({"question": question, "attempts": len(taken), "facility": facility, "sd": sd,
                     "discrimination": None if discrimination is None else 100 * discrimination,
                     "frequencies": _frequencies(question, [a for t in taken for a in t.answers
                                                            if a.question_id == question.id])})
    return {"attempts": len(attempts), "rows": rows}


def _frequencies(question, answers) -> list[tuple[str, int, bool]]:
    """(label html, count, is right) per option, or per distinct response for typed answers."""
    if question.type in ("single", "multiple", "true-false"):
        counts = Counter(option_id for a in answers for option_id in (a.response or []))
        return [(o["html"], counts.get(o["id"], 0), o["id"] in question.answer) for o in question.options]
    if question.type in ("short", "numeric"):
        counts = Counter((a.response or [""])[0].strip() for a in answers if a.response)
        # Learners' own words: escaped here because the template inserts labels as HTML.
        return [(escape(text), n, None) for text, n in counts.most_common(10)]
    if question.type == "matching":
        choices = {c["id"]: c["html"] for c in question.choices}
        counts = Counter((left, right) for a in answers for left, right in (a.response or {}).items())
        by_left = {o["id"]: o["html"] for o in question.options}
        return [(f"{by_left[left]} → {choices.get(right, '?')}", n, question.answer.get(left) == right)
                for (left, right), n in counts.most_common(20) if left in by_left]
    return []


def attempts_overview(quiz, locality: Locality | None = None, since: dt.datetime | None = None,
                      until: dt.datetime | None = None, limit: int = 500):
    statement = (select(Attempt).where(Attempt.quiz_id == quiz.id).options(selectinload(Attempt.user))
                 .order_by(Attempt.started_at.desc()).limit(limit))
    if locality is not None:
        statement = statement.join(Enrollment, Attempt.enrollment_id == Enrollment.id).join(
            Locality, Enrollment.locality_id == Locality.id).where(Locality.path.startswith(locality.path))
    if since is not None:
        statement = statement.where(Attempt.started_at >= since)
    if until is not None:
        statement = statement.where(Attempt.started_at < until)
    return db.session.scalars(statement).all()


def essays_to_grade(quiz):
    from lms.quizzes.models import AttemptAnswer

    return db.session.scalars(
        select(AttemptAnswer).join(Attempt, AttemptAnswer.attempt_id == Attempt.id)
        .join(Question, AttemptAnswer.question_id == Question.id)
        .where(Attempt.quiz_id == quiz.id, Attempt.submitted_at.is_not(None), Question.type == "essay",
               AttemptAnswer.score.is_(None))
        .options(selectinload(AttemptAnswer.attempt).selectinload(Attempt.user))
        .order_by(Attempt.submitted_at)).all()
