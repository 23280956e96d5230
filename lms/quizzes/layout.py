"""What one attempt shows: its questions drawn and shuffled once (then stored), and its pages."""

import random

from lms.quizzes.models import Attempt, Quiz


def draw_layout(quiz: Quiz, rng: random.Random, own=None, pool=None) -> list[dict]:
    """The questions and option orders of one attempt: drawn and shuffled once, then stored.

    `own` and `pool` (own + banks' questions), when given, are rows with the columns this reads
    (queries.draw_questions); else the quiz's ORM questions."""
    if own is None:
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


def pages(attempt: Attempt) -> list[list[int]]:
    ids = [slot["q"] for slot in attempt.slots()]
    return [[i] for i in ids] if attempt.quiz.layout == "per-page" else [ids]


def editable_ids(attempt: Attempt) -> set[int]:
    """Questions the learner may still change: with sequential navigation, none before the current page."""
    all_pages = pages(attempt)
    if attempt.quiz.navigation == "sequential":
        return {qid for page in all_pages[attempt.page:] for qid in page}
    return {qid for page in all_pages for qid in page}
