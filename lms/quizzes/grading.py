"""Grading one response to one question, on the server, as Moodle does it.

Every function returns the fraction of the question's points earned (0–1), or None when a
person has to grade (essay). Responses come from the browser: anything unknown is ignored.
"""

import re
import unicodedata
from decimal import Decimal

from lms.core.text import nfc
from lms.quizzes.markdown_format import parse_number

ZERO, ONE = Decimal(0), Decimal(1)


def _clamp(value) -> Decimal:
    return max(ZERO, min(ONE, Decimal(str(round(value, 6)))))


def clean_response(question, raw):
    """Keep only what can be an answer to this question (ids it has, text of sane length)."""
    qtype = question.type
    if qtype in ("single", "multiple", "true-false"):
        valid = {option["id"] for option in question.options}
        picked = [r for r in (raw if isinstance(raw, list) else [raw]) if isinstance(r, str) and r in valid]
        picked = list(dict.fromkeys(picked))
        return picked[:1] if qtype != "multiple" else picked
    if qtype == "ordering":
        valid = [option["id"] for option in question.options]
        order = [r for r in (raw if isinstance(raw, list) else []) if isinstance(r, str) and r in valid]
        return list(dict.fromkeys(order))
    if qtype == "matching":
        lefts = {option["id"] for option in question.options}
        rights = {choice["id"] for choice in question.choices}
        if not isinstance(raw, dict):
            return {}
        return {k: v for k, v in raw.items() if k in lefts and v in rights}
    if qtype in ("short", "numeric", "essay"):
        text = raw[0] if isinstance(raw, list) and raw else raw
        if not isinstance(text, str):
            return []
        limit = 20_000 if qtype == "essay" else 500
        text = text[:limit].replace("\r\n", "\n")
        return [text] if text.strip() else []
    return []


def is_answered(question, response) -> bool:
    return bool(response) if question.type != "description" else True


def _wildcard(pattern: str) -> re.Pattern:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", re.S)


def short_match(question, text: str) -> dict | None:
    key = question.answer or {}

    def norm(value):
        value = nfc(value)
        if key.get("diacritics"):
            value = _strip_marks(value)
        return value if key.get("case") else value.casefold()

    typed = norm(text)
    for accepted in key.get("accepted", []):
        if _wildcard(norm(accepted["text"])).match(typed):
            return accepted
    return None


def _strip_marks(value: str) -> str:
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def numeric_match(question, text: str) -> dict | None:
    number = parse_number(text)
    if number is None:
        return None
    best = None
    for value in (question.answer or {}).get("values", []):
        if value["value"] is None:  # Moodle's catch-all `*`
            hit = True
        else:
            hit = abs(number - value["value"]) <= value["tolerance"] + 1e-9 * max(1.0, abs(value["value"]))
        if hit and (best is None or value["fraction"] > best["fraction"]):
            best = value
    return best


def grade(question, response) -> Decimal | None:
    qtype = question.type
    if qtype == "description":
        return ONE
    if qtype == "essay":
        return None
    if qtype in ("single", "multiple", "true-false"):
        return _grade_choice(question, response)
    if qtype == "short":
        hit = short_match(question, response[0]) if response else None
        return _clamp(hit["fraction"]) if hit else ZERO
    if qtype == "numeric":
        hit = numeric_match(question, response[0]) if response else None
        return _clamp(hit["fraction"]) if hit else ZERO
    if qtype == "matching":
        key = question.answer or {}
        if not key:
            return ZERO
        right = sum(1 for left, choice in response.items() if key.get(left) == choice)
        return _clamp(right / len(key))
    if qtype == "ordering":
        key = list(question.answer or [])
        if len(response) != len(key):
            return ZERO
        # Moodle qtype_ordering's "relative to the next item" default: each correctly
        # following pair scores; the last item has no successor.
        pairs = {(key[i], key[i + 1]) for i in range(len(key) - 1)}
        right = sum(1 for i in range(len(response) - 1) if (response[i], response[i + 1]) in pairs)
        return _clamp(right / (len(key) - 1)) if len(key) > 1 else ONE
    return ZERO


def _grade_choice(question, response) -> Decimal:
    chosen = set(response)
    weights = {o["id"]: o["fraction"] for o in question.options if o.get("fraction") is not None}
    if weights:
        # Moodle: the fraction of the chosen option (single), or the sum of the chosen
        # options' fractions, negative ones being penalties, clamped to 0–1 (multiple).
        return _clamp(sum(weights.get(option_id, 0.0) for option_id in chosen))
    correct = set(question.answer)
    if question.type != "multiple":
        return ONE if chosen == correct else ZERO
    valid = {option["id"] for option in question.options}
    right = len(chosen & correct)
    wrong = len((chosen & valid) - correct)
    return max(ZERO, Decimal(right - wrong) / Decimal(len(correct)))


def answer_feedback(question, response) -> list[str]:
    """Per-answer feedback HTML that goes with this response (shown when the review allows)."""
    qtype = question.type
    if qtype in ("single", "multiple", "true-false"):
        return [o["feedback_html"] for o in question.options if o["id"] in response and o.get("feedback_html")]
    if qtype == "short" and response:
        hit = short_match(question, response[0])
        return [hit["feedback_html"]] if hit and hit.get("feedback_html") else []
    if qtype == "numeric" and response:
        hit = numeric_match(question, response[0])
        return [hit["feedback_html"]] if hit and hit.get("feedback_html") else []
    return []
