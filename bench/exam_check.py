"""Holding the database to what the server confirmed in the exam-day benchmark (bench/quiz_exam.py).

Strict: every answer the server confirmed — in every attempt, submitted or not — must be stored
with that value or a newer one the same learner sent afterwards. Attempts are counted apart as
unfinished (never submitted: the learner gave up, stopped, or the server never said the attempt
existed) and stuck (the server confirmed the submission, yet the attempt is not finished and graded).
"""

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Findings:
    attempts: int = 0                 # attempts of the bench quiz in the database
    confirmed_answers: int = 0        # answers the server confirmed (latest per attempt and question)
    missing: list = field(default_factory=list)   # (attempt id, question id, confirmed by, expected, stored)
    unfinished: Counter = field(default_factory=Counter)  # why an attempt is not submitted → count
    stuck: list = field(default_factory=list)     # attempt ids
    submitted_unheard: int = 0        # submitted in the database, the learner never heard it was

    @property
    def missing_by(self) -> Counter:
        return Counter(item[2] for item in self.missing)


def _normalised(response, kind: str):
    if kind == "multiple" and isinstance(response, list):
        return sorted(response)
    return response


def _attempt_rows(quiz_id: int) -> dict:
    """attempt id → (submitted, graded, {question id: stored response})."""
    from lms.extensions import db
    from lms.quizzes.models import Attempt, AttemptAnswer

    rows = {}
    for attempt in db.session.scalars(db.select(Attempt).where(Attempt.quiz_id == quiz_id)):
        graded = attempt.score is not None or attempt.needs_grading
        rows[attempt.id] = (attempt.submitted_at is not None, graded, {})
    for answer in db.session.scalars(db.select(AttemptAnswer).where(AttemptAnswer.attempt_id.in_(rows))):
        rows[answer.attempt_id][2][answer.question_id] = answer.response
    return rows


def check(app, quiz_id: int, keys: dict, records: list) -> Findings:
    """Compare the database behind `app` with the learners' records (bench.exam_learners.Record)."""
    findings = Findings()
    with app.app_context():
        rows = _attempt_rows(quiz_id)
    findings.attempts = len(rows)
    known = {}
    for record in records:
        if record.attempt_id is None:
            continue
        known[record.attempt_id] = record
        submitted, graded, stored = rows.get(record.attempt_id, (False, False, {}))
        if record.submitted and not (submitted and graded):
            findings.stuck.append(record.attempt_id)
        if not submitted and not record.submitted:
            findings.unfinished[record.outcome] += 1
        elif submitted and not record.submitted:
            findings.submitted_unheard += 1
        for question_id, (index, how) in record.acked.items():
            findings.confirmed_answers += 1
            kind = keys[question_id]["type"]
            allowed = [_normalised(sent.response, kind) for sent in record.sent[question_id][index:]]
            got = _normalised(stored.get(question_id), kind)
            if got not in allowed:
                findings.missing.append((record.attempt_id, question_id, how, allowed[0], got))
    for attempt_id, (submitted, _graded, _stored) in rows.items():
        if attempt_id not in known and not submitted:
            findings.unfinished["started, but no learner heard of it"] += 1
    return findings


def report(findings: Findings) -> list[str]:
    lines = [f"attempts in the database: {findings.attempts}; answers the server confirmed: "
             f"{findings.confirmed_answers}",
             f"acknowledged-but-missing: {len(findings.missing)}"
             + (f"  ({', '.join(f'{n} confirmed by {how}' for how, n in findings.missing_by.items())})"
                if findings.missing else "")]
    for attempt_id, question_id, how, expected, got in findings.missing[:10]:
        lines.append(f"   attempt {attempt_id} question {question_id} ({how}): expected {expected!r}, stored {got!r}")
    unfinished = sum(findings.unfinished.values())
    lines.append(f"attempts unfinished: {unfinished}"
                 + (f"  ({', '.join(f'{n} {why}' for why, n in findings.unfinished.items())})" if unfinished else ""))
    lines.append(f"attempts stuck (submission confirmed, not finished and graded): {len(findings.stuck)}"
                 + (f"  e.g. {findings.stuck[:5]}" if findings.stuck else ""))
    if findings.submitted_unheard:
        lines.append(f"attempts submitted whose learner never heard so: {findings.submitted_unheard}")
    return lines
