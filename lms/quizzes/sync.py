"""Writing parsed quiz sources (Markdown, GIFT, Aiken) into Quiz/Question rows. Flush only."""

from html import escape

from sqlalchemy import exists, select

from lms.core.db import utcnow
from lms.core.markdown import render, render_inline, sanitise
from lms.extensions import db
from lms.quizzes.markdown_format import QuestionSource, QuizSource
from lms.quizzes.models import AttemptAnswer, Question, Quiz


def _letter(index: int) -> str:
    return chr(ord("a") + index) if index < 26 else f"o{index}"


def to_html(text: str, text_format: str, inline: bool = False) -> str:
    if not text:
        return ""
    if text_format == "html":
        return sanitise(text)
    if text_format == "plain":
        return escape(text).replace("\n", "<br>")
    return render_inline(text) if inline else render(text)


def apply_settings(quiz: Quiz, source: QuizSource, default_pass: int) -> None:
    quiz.title = source.title
    quiz.pass_mark = source.pass_mark if source.pass_mark is not None else default_pass
    quiz.time_limit_minutes = source.time_limit
    quiz.max_attempts = source.attempts
    quiz.shuffle = source.shuffle
    quiz.draw = source.draw
    quiz.opens_at, quiz.closes_at = source.opens_at, source.closes_at
    quiz.grace_seconds = source.grace_seconds
    quiz.grading_method = source.grading_method
    quiz.feedback_timing = source.feedback_timing
    quiz.review = list(source.review)
    quiz.answers_shown = source.answers_shown
    quiz.layout, quiz.navigation = source.layout, source.navigation
    quiz.banks = list(source.banks)
    quiz.archived_at = None


def apply_question(question: Question, source: QuestionSource) -> None:
    fmt = source.text_format
    question.type = source.type
    question.text_md = source.text
    question.text_html = to_html(source.text, fmt)
    question.feedback_html = to_html(source.feedback, fmt)
    question.points = source.points
    question.category = source.category[:200]
    question.tags = list(source.tags)
    options, choices, answer = [], [], []
    if source.type in ("single", "multiple"):
        for index, option in enumerate(source.options):
            entry = {"id": _letter(index), "md": option.text, "html": to_html(option.text, fmt, inline=True)}
            if option.fraction is not None:
                entry["fraction"] = option.fraction
            if option.feedback:
                entry["feedback_html"] = to_html(option.feedback, fmt, inline=True)
            options.append(entry)
            if option.correct if option.fraction is None else option.fraction >= 1 or (
                    source.type == "multiple" and option.fraction > 0):
                answer.append(entry["id"])
    elif source.type == "true-false":
        for value, label in (("true", "True"), ("false", "False")):
            entry = {"id": value, "md": label, "html": label}
            # GIFT's first feedback goes with the wrong choice, the second with the right one.
            mine = source.true_feedback if value == "true" else source.false_feedback
            if mine:
                entry["feedback_html"] = to_html(mine, fmt, inline=True)
            options.append(entry)
        answer = ["true" if source.truth else "false"]
    elif source.type == "short":
        answer = {"accepted": [{"text": a["text"], "fraction": a["fraction"],
                                "feedback_html": to_html(a.get("feedback", ""), fmt, inline=True)} for a in source.accepted],
                  "case": source.case_sensitive, "diacritics": source.ignore_diacritics}
    elif source.type == "numeric":
        answer = {"values": [{"value": v["value"], "tolerance": v["tolerance"], "fraction": v["fraction"],
                              "feedback_html": to_html(v.get("feedback", ""), fmt, inline=True)} for v in source.accepted]}
    elif source.type == "matching":
        answer, seen = {}, {}
        for left, right in source.pairs:
            if right not in seen:
                seen[right] = f"m{len(seen)}"
                choices.append({"id": seen[right], "md": right, "html": to_html(right, fmt, inline=True)})
            if left:
                entry = {"id": _letter(len(options)), "md": left, "html": to_html(left, fmt, inline=True)}
                options.append(entry)
                answer[entry["id"]] = seen[right]
    elif source.type == "ordering":
        for index, item in enumerate(source.items):
            options.append({"id": _letter(index), "md": item, "html": to_html(item, fmt, inline=True)})
        answer = [o["id"] for o in options]
    question.options, question.choices, question.answer = options, choices, answer
    question.archived_at = None


def sync_questions(quiz: Quiz, source: QuizSource) -> None:
    existing = {q.key: q for q in quiz.questions}
    for position, question_source in enumerate(source.questions, start=1):
        question = existing.pop(question_source.key, None) or Question(quiz=quiz, key=question_source.key)
        question.position = position
        apply_question(question, question_source)
        db.session.add(question)
    for question in existing.values():
        answered = db.session.scalar(select(exists().where(AttemptAnswer.question_id == question.id)))
        if answered:
            question.archived_at = question.archived_at or utcnow()
        else:
            quiz.questions.remove(question)


BANK_PREFIX = "bank/"


def import_bank(course, source: QuizSource, key: str | None = None, gift_text: str | None = None) -> Quiz:
    """Create or update a question bank of `course` from an uploaded GIFT/Aiken file.

    The bank is kept as a GIFT file (`gift_text` as uploaded, or written from the questions for
    Aiken), so it can be edited in the browser and is exported to the folder's `banks/`.
    """
    from lms.core.text import slugify

    key = key or BANK_PREFIX + (slugify(source.title) or "quiz")
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.key == key))
    if quiz is None:
        quiz = Quiz(course=course, key=key)
        apply_settings(quiz, source, course.passing_score)
    else:
        quiz.title, quiz.archived_at = source.title, None
    db.session.add(quiz)
    db.session.flush()
    sync_questions(quiz, source)
    db.session.flush()
    from lms.quizzes.gift import export_gift, with_title

    quiz.source_name = key.removeprefix(BANK_PREFIX) + ".gift"
    quiz.source_text = with_title(gift_text if gift_text is not None else export_gift(quiz), quiz.title)
    db.session.flush()
    return quiz


def bank_text(quiz: Quiz) -> str:
    """The bank as a GIFT file: as stored, or written from its questions (banks uploaded before files were kept)."""
    from lms.quizzes.gift import export_gift, with_title

    return quiz.source_text if quiz.source_text is not None else with_title(export_gift(quiz), quiz.title)


def find_quiz(course, ref: str) -> Quiz | None:
    """A course's quiz by key (`module/quiz`, `bank/name`), the key's last part, or id."""
    quizzes = db.session.scalars(select(Quiz).where(Quiz.course_id == course.id)).all()
    for quiz in quizzes:
        if ref in (quiz.key, str(quiz.id)):
            return quiz
    matches = [q for q in quizzes if q.key.rsplit("/", 1)[-1] == ref or q.key.split("/", 1)[0] == ref]
    return matches[0] if len(matches) == 1 else None
