"""The quiz settings form and the question bank view, both over the quiz files.

The quiz file stays the one source of truth (git ↔ browser both ways): the settings form
rewrites the file's front matter — the questions below it are kept byte for byte — and the
result goes through the same parser and checks as a file in `courses/`.
"""

import datetime as dt

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.core.dates import local_wall_clock
from lms.core.frontmatter import parse
from lms.core.text import fold
from lms.extensions import db
from lms.quizzes.models import REVIEW_PARTS, Question, Quiz

TYPE_LABELS = {"single": _l("Single choice"), "multiple": _l("Multiple choice"), "true-false": _l("True/false"),
               "short": _l("Short answer"), "numeric": _l("Numeric"), "matching": _l("Matching"), "ordering": _l("Ordering"),
               "essay": _l("Essay"), "description": _l("Description")}
# Front-matter key → the value that means "not set"; such keys are left out of the file.
DEFAULTS = {"time_limit": 0, "attempts": 0, "shuffle": False, "grace": 30, "grading": "highest",
            "feedback": "after-submit", "review": list(REVIEW_PARTS), "answers": "when-done", "layout": "all",
            "navigation": "free",
            "draw": None, "bank": [], "opens": None, "closes": None, "pass": None}


def is_markdown_quiz(quiz: Quiz) -> bool:
    """A quiz.md file has settings; GIFT files and uploaded GIFT/Aiken banks carry questions only."""
    return bool(quiz.source_text) and not (quiz.source_name or "").endswith(".gift")


def local_time(value: dt.datetime | None) -> dt.datetime | None:
    """Stored naive UTC → Vietnam's wall-clock time, as trainers write it in the file."""
    return local_wall_clock(value)


def settings_of(quiz: Quiz) -> dict:
    """The quiz's current settings in the form's terms."""
    draw = quiz.draw
    # Without `pass` in the file the course's passing score applies (and follows it when it changes).
    written_pass = parse("quiz.md", quiz.source_text or "").meta.get("pass")
    return {"title": quiz.title, "pass_mark": written_pass if isinstance(written_pass, int) else None,
            "time_limit": quiz.time_limit_minutes,
            "attempts": quiz.max_attempts, "grace": quiz.grace_seconds, "opens": local_time(quiz.opens_at),
            "closes": local_time(quiz.closes_at), "grading": quiz.grading_method, "feedback": quiz.feedback_timing,
            "review": list(quiz.review or []), "answers": quiz.answers_shown, "layout": quiz.layout,
            "navigation": quiz.navigation,
            "shuffle": quiz.shuffle, "banks": list(quiz.banks or []),
            "draw_mode": "category" if isinstance(draw, dict) else "count" if isinstance(draw, int) else "all",
            "draw_count": draw if isinstance(draw, int) else None,
            "per_category": dict(draw) if isinstance(draw, dict) else {}}


def _front_matter(values: dict) -> dict:
    draw = None
    if values["draw_mode"] == "count":
        draw = values["draw_count"]
    elif values["draw_mode"] == "category":
        draw = {name: count for name, count in values["per_category"].items() if count}
    when = {key: values[key].strftime("%Y-%m-%d %H:%M") if values[key] else None for key in ("opens", "closes")}
    return {"title": values["title"], "pass": values["pass_mark"], "time_limit": values["time_limit"] or 0,
            "attempts": values["attempts"] or 0, "grace": 30 if values["grace"] is None else values["grace"],
            "opens": when["opens"], "closes": when["closes"], "grading": values["grading"],
            "feedback": values["feedback"], "review": [p for p in REVIEW_PARTS if p in values["review"]],
            "answers": values.get("answers") or "when-done",
            "layout": values["layout"], "navigation": values["navigation"], "shuffle": bool(values["shuffle"]),
            "bank": list(values["banks"]), "draw": draw}


def rewrite_front_matter(text: str, values: dict) -> str:
    """The quiz file with its settings replaced. Keys the file already had keep their place;
    settings at their default value are dropped, so a plain quiz stays a short file."""
    document = parse("quiz.md", text)
    meta = dict(document.meta)
    for key, value in _front_matter(values).items():
        if key != "title" and value == DEFAULTS.get(key, object()):
            meta.pop(key, None)
        else:
            meta[key] = value
    return f"---\n{''.join(_yaml_line(key, value) for key, value in meta.items())}---\n{document.body}"


def _yaml_line(key, value) -> str:
    """`key: value`, lists and mappings inline (`review: [score, key]`), as trainers write them."""
    options = {"allow_unicode": True, "sort_keys": False, "width": 10_000}
    if isinstance(value, (list, dict)):
        return f"{key}: {yaml.safe_dump(value, default_flow_style=True, **options).strip()}\n"
    return yaml.safe_dump({key: value}, default_flow_style=False, **options)


# ---------------------------------------------------------------- question bank

def course_questions(course) -> list[Question]:
    """Every active question of the course's quizzes (banks included), in file order."""
    return db.session.scalars(
        select(Question).join(Quiz, Question.quiz_id == Quiz.id)
        .where(Quiz.course_id == course.id, Quiz.archived_at.is_(None), Question.archived_at.is_(None))
        .order_by(Quiz.key, Question.position)).all()


def categories_for(quiz: Quiz, bank_keys) -> dict[str, int]:
    """Category → number of questions a per-category draw of this quiz can pick from."""
    pool = list(quiz.active_questions())
    if bank_keys:
        pool += db.session.scalars(
            select(Question).join(Quiz, Question.quiz_id == Quiz.id)
            .where(Quiz.course_id == quiz.course_id, Quiz.key.in_(list(bank_keys)), Quiz.id != quiz.id,
                   Quiz.archived_at.is_(None), Question.archived_at.is_(None))).all()
    counts: dict[str, int] = {}
    for question in pool:
        if question.graded:
            counts[question.category] = counts.get(question.category, 0) + 1
    return dict(sorted(counts.items()))


def filter_questions(questions, category: str | None, tag: str, text: str) -> list[Question]:
    """Narrow the bank by category, tag and words (with or without diacritics)."""
    words = fold(text).split()
    out = []
    for question in questions:
        if category is not None and question.category != category:
            continue
        if tag and tag not in (question.tags or []):
            continue
        if words and not all(word in fold(question.text_md) for word in words):
            continue
        out.append(question)
    return out


def bank_summary(questions) -> tuple[dict[str, int], dict[str, int]]:
    """(questions per category, questions per tag), for the filters and for planning a draw."""
    categories: dict[str, int] = {}
    tags: dict[str, int] = {}
    for question in questions:
        categories[question.category] = categories.get(question.category, 0) + 1
        for tag in question.tags or []:
            tags[tag] = tags.get(tag, 0) + 1
    return dict(sorted(categories.items())), dict(sorted(tags.items()))
