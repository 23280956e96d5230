"""Read-only views of quizzes and attempts for the templates. What reaches the browser is built here."""

from lms.quizzes import grading, layout, operations, results


def question_count(quiz) -> int:
    own = quiz.active_questions()
    pool = own + quiz.bank_questions()
    if isinstance(quiz.draw, int):
        return min(quiz.draw, len(pool))
    if isinstance(quiz.draw, dict):
        fixed = sum(1 for q in own if q.category not in quiz.draw)
        return fixed + sum(min(n, sum(1 for q in pool if q.category == c)) for c, n in quiz.draw.items())
    return len(own)


def _slots(attempt):
    """(number, question, layout slot) for every question of the attempt, numbering only graded ones."""
    slots, number = [], 0
    by_id = {q.id: q for q in operations.attempt_questions(attempt)}
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


def attempt_page(attempt, page: int, now) -> dict:
    slots = _slots(attempt)
    all_pages = layout.pages(attempt)
    shown = set(all_pages[page]) if all_pages else set()
    rows = {a.question_id: a for a in attempt.answers}
    answers = {qid: a.response for qid, a in rows.items()}
    views = [_view(n, q, slot, answers.get(q.id)) for n, q, slot in slots if q.id in shown]
    immediate = attempt.quiz.feedback_timing == "immediate"
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
            "seconds_left": operations.seconds_left(attempt, now), "answered": answered, "total": graded,
            "editable": editable, "sequential": attempt.quiz.navigation == "sequential"}


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
    slots = _slots(attempt)
    answers = {a.question_id: a for a in attempt.answers}
    show = {part: results.review_shows(attempt, part, now) for part in ("score", "responses", "key", "feedback")}
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
    left = operations.attempts_left(attempt.quiz, attempt.user)
    return {"attempt": attempt, "quiz": attempt.quiz, "items": items, "show": show, "left": left,
            "enrollment": attempt.enrollment, "is_owner": user.id == attempt.user_id}
