"""The Markdown quiz syntax of COURSE_FORMAT.md (`quiz.md`, `*.quiz.md`), every question type.

The parsed `QuizSource` is also what the GIFT and Aiken readers produce, so the importer has
one path from any source format to the database.
"""

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

from lms.core.dates import from_local
from lms.core.frontmatter import SourceError, parse
from lms.core.text import fold

KNOWN_TYPES = ("single", "multiple", "true-false", "short", "numeric", "matching", "ordering", "essay", "description")
QUIZ_KEYS = {"title", "pass", "time_limit", "attempts", "shuffle", "draw", "id", "opens", "closes", "grace", "grading",
             "feedback", "review", "answers", "layout", "navigation", "bank"}
# When the review may show the right answers: `when-done` (Moodle's default: once no attempt is
# left or the quiz has closed, so a learner cannot copy the key into the next attempt) or
# `after-submit` (after every attempt, e.g. for practice quizzes).
ANSWERS_SHOWN = ("when-done", "after-submit")
_OPTION = re.compile(r"^[-*] \[( |x|X|-?\d+(?:\.\d+)?%)\] (.+)$")
_PAIR = re.compile(r"^[-*] (.*?)\s*=\s*(.+)$")
_ITEM = re.compile(r"^\d+[.)] (.+)$")
_FIELD = re.compile(r"^(type|id|points|answer|case|diacritics|category|tags):\s*(.*)$")
_NUMBER = r"[-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?"
_NUMERIC_VALUE = re.compile(rf"^({_NUMBER})\s*(?:(?:±|\+-|\+/-)\s*({_NUMBER}))?$")
_NUMERIC_RANGE = re.compile(rf"^({_NUMBER})\s*\.\.\s*({_NUMBER})$")


@dataclass
class OptionSource:
    text: str
    correct: bool
    fraction: float | None = None  # None: the type's default rule (Moodle's weights when set)
    feedback: str = ""


@dataclass
class QuestionSource:
    key: str
    type: str
    text: str
    line: int
    options: list[OptionSource] = field(default_factory=list)
    feedback: str = ""
    points: float = 1.0
    # true-false
    truth: bool | None = None
    # short: [{"text", "fraction", "feedback"}]; numeric: [{"value", "tolerance", "fraction", "feedback"}]
    accepted: list[dict] = field(default_factory=list)
    case_sensitive: bool = False
    ignore_diacritics: bool = False
    # matching: (left, right); a left of "" is a distractor on the right-hand side
    pairs: list[tuple[str, str]] = field(default_factory=list)
    # ordering: items in the right order
    items: list[str] = field(default_factory=list)
    category: str = ""
    tags: list[str] = field(default_factory=list)
    # "markdown" | "html" | "plain" | "moodle" (GIFT); decides how text is rendered
    text_format: str = "markdown"
    true_feedback: str = ""
    false_feedback: str = ""


@dataclass
class QuizSource:
    path: str
    title: str
    pass_mark: int | None
    time_limit: int
    attempts: int
    shuffle: bool
    explicit_id: str | None
    questions: list[QuestionSource]
    draw: int | dict | None = None
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    grace_seconds: int = 30
    grading_method: str = "highest"
    feedback_timing: str = "after-submit"
    review: list[str] = field(default_factory=lambda: ["score", "responses", "key", "feedback"])
    answers_shown: str = "when-done"
    layout: str = "all"
    navigation: str = "free"
    banks: list[str] = field(default_factory=list)


def _int(meta, key, path, default=0, low=0, high=10_000):
    value = meta.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SourceError(path, 2, f"`{key}` must be a whole number between {low} and {high}")
    return value


def _choice(meta, key, path, allowed, default):
    value = str(meta.get(key, default)).strip()
    if value not in allowed:
        raise SourceError(path, 2, f"`{key}` must be one of {', '.join(allowed)}")
    return value


def _when(meta, key, path):
    """Local (Asia/Ho_Chi_Minh) date-time in the front matter → naive UTC, like every stored time."""
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise SourceError(path, 2, f"`{key}` must be a date and time such as 2026-12-01 08:00") from None
    if not isinstance(value, dt.datetime):
        raise SourceError(path, 2, f"`{key}` must be a date and time such as 2026-12-01 08:00")
    return from_local(value)


def _draw(meta, path):
    value = meta.get("draw")
    if value is None:
        return None
    if isinstance(value, dict):
        if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value.values()):
            raise SourceError(path, 2, "`draw` per category needs a positive whole number for each category")
        return {str(k): n for k, n in value.items()}
    return _int(meta, "draw", path, low=1) or None


def quiz_settings(meta, path) -> dict:
    unknown = set(meta) - QUIZ_KEYS
    if unknown:
        raise SourceError(path, 2, f"unknown quiz setting(s): {', '.join(sorted(unknown))}")
    review = meta.get("review", ["score", "responses", "key", "feedback"])
    if isinstance(review, str):
        review = [part.strip() for part in review.split(",") if part.strip()]
    if not isinstance(review, list) or not set(review) <= {"score", "responses", "key", "feedback"}:
        raise SourceError(path, 2, "`review` lists what the review shows: score, responses, key, feedback")
    settings = {
        "pass_mark": _int(meta, "pass", path, default=None, high=100) if "pass" in meta else None,
        "time_limit": _int(meta, "time_limit", path), "attempts": _int(meta, "attempts", path),
        "shuffle": bool(meta.get("shuffle", False)), "draw": _draw(meta, path),
        "opens_at": _when(meta, "opens", path), "closes_at": _when(meta, "closes", path),
        "grace_seconds": _int(meta, "grace", path, default=30, high=3600),
        "grading_method": _choice(meta, "grading", path, ("highest", "last", "first", "average"), "highest"),
        "feedback_timing": _choice(meta, "feedback", path, ("immediate", "after-submit", "after-close"), "after-submit"),
        "review": review, "answers_shown": _choice(meta, "answers", path, ANSWERS_SHOWN, "when-done"),
        "layout": _choice(meta, "layout", path, ("all", "per-page"), "all"),
        "navigation": _choice(meta, "navigation", path, ("free", "sequential"), "free"),
    }
    banks = meta.get("bank", [])
    banks = [banks] if isinstance(banks, str) else banks
    if not isinstance(banks, list) or not all(isinstance(b, str) and b.strip() for b in banks):
        raise SourceError(path, 2, "`bank` names the quiz keys to draw from, e.g. `bank: [bank/ngan-hang]`")
    settings["banks"] = [b.strip() for b in banks]
    if settings["banks"] and not settings["draw"]:
        raise SourceError(path, 2, "a quiz with a `bank` needs `draw` (how many questions, or how many per category)")
    if settings["opens_at"] and settings["closes_at"] and settings["closes_at"] <= settings["opens_at"]:
        raise SourceError(path, 2, "`closes` must be after `opens`")
    return settings


def parse_quiz(path, errors: list[SourceError] | None = None) -> QuizSource:
    """Parse a quiz file. Without `errors` the first problem raises. With a list (the checker), every
    broken question is appended there and the others are still read, so all of them are reported at
    once; the quiz returned then lacks the broken questions (the errors say the file is refused)."""
    document = parse(path)
    settings = quiz_settings(document.meta, path)
    title = str(document.meta.get("title") or "").strip()
    if not title:
        raise SourceError(path, 1, "the quiz needs a `title` in its front matter")
    broken: list[SourceError] = []
    questions = _parse_questions(path, document.body, document.body_line, broken if errors is not None else None)
    if broken:
        errors.extend(broken)
    elif not questions and not settings["banks"]:
        raise SourceError(path, document.body_line, "the quiz has no questions (each starts with a `## ` heading)")
    check_unique_keys(path, questions)
    return QuizSource(path=str(path), title=title, explicit_id=str(document.meta["id"]) if document.meta.get("id") else None,
                      questions=questions, **settings)


def check_unique_keys(path, questions):
    keys = [q.key for q in questions]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise SourceError(path, None, f"two questions have the same id or text: {', '.join(sorted(duplicates))}")


def question_key(text: str) -> str:
    return "q-" + hashlib.sha1(fold(text).encode(), usedforsecurity=False).hexdigest()[:10]  # an id, not a secret


def _parse_questions(path, body: str, first_line: int, errors: list[SourceError] | None = None) -> list[QuestionSource]:
    blocks, current, fence = [], None, False
    for offset, line in enumerate(body.split("\n")):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if line.startswith("## ") and not fence:
            current = (first_line + offset, line[3:].strip(), [])
            blocks.append(current)
        elif current is not None:
            current[2].append((first_line + offset, line))
        elif line.strip():
            raise SourceError(path, first_line + offset, "text before the first question; start each question with `## `")
    if errors is None:
        return [_parse_question(path, *block) for block in blocks]
    questions = []
    for block in blocks:
        try:
            questions.append(_parse_question(path, *block))
        except SourceError as error:
            errors.append(error)
    return questions


def parse_number(text: str) -> float | None:
    """A number as a learner or author types it: `30000`, `30 000`, `3,5`, `1.234,5`."""
    value = re.sub(r"[\s\u00a0\u202f]", "", text or "")
    if "," in value and "." in value:
        thousands, decimal = (",", ".") if value.rfind(".") > value.rfind(",") else (".", ",")
        value = value.replace(thousands, "").replace(decimal, ".")
    else:
        value = value.replace(",", ".")
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _numeric_answers(path, line, raw: str) -> list[dict]:
    values = []
    for part in raw.split("|"):
        part = part.strip()
        if (match := _NUMERIC_RANGE.match(part)) is not None:
            low, high = parse_number(match.group(1)), parse_number(match.group(2))
            if low > high:
                raise SourceError(path, line, f"the range `{part}` starts above its end")
            values.append({"value": (low + high) / 2, "tolerance": (high - low) / 2, "fraction": 1.0, "feedback": ""})
        elif (match := _NUMERIC_VALUE.match(part)) is not None:
            tolerance = abs(parse_number(match.group(2))) if match.group(2) else 0.0
            values.append({"value": parse_number(match.group(1)), "tolerance": tolerance, "fraction": 1.0, "feedback": ""})
        else:
            raise SourceError(path, line, f"`{part}` is not a number, `number ± tolerance` or `low..high`")
    return values


def _flag(path, fields, name, yes, no, default):
    if name not in fields:
        return default
    value, line = fields[name]
    if value not in (yes, no):
        raise SourceError(path, line, f"`{name}` must be `{yes}` or `{no}`")
    return value == yes


def _parse_question(path, line_no: int, heading: str, lines) -> QuestionSource:
    fields, text_lines, options, pairs, items, feedback = {}, [], [], [], [], []
    started = False  # options, pairs, items or feedback began: no more question text
    for number, line in lines:
        stripped = line.strip()
        field_match = _FIELD.match(stripped)
        option = _OPTION.match(stripped)
        if field_match and not started:
            fields[field_match.group(1)] = (field_match.group(2).strip(), number)
        elif option:
            mark = option.group(1)
            fraction = float(mark[:-1]) / 100 if mark.endswith("%") else None
            correct = mark in "xX" if fraction is None else fraction > 0
            options.append((number, OptionSource(option.group(2).strip(), correct, fraction)))
            started = True
        elif stripped.startswith(">") and line.startswith((" ", "\t")) and options and not feedback:
            options[-1][1].feedback = (options[-1][1].feedback + "\n" + stripped[1:].lstrip()).strip()
        elif stripped.startswith(">"):
            feedback.append(stripped[1:].lstrip())
            started = True
        elif (item := _ITEM.match(stripped)) and fields.get("type", ("",))[0] == "ordering":
            items.append((number, item.group(1).strip()))
            started = True
        elif (pair := _PAIR.match(stripped)) and fields.get("type", ("",))[0] == "matching":
            pairs.append((number, (pair.group(1).strip(), pair.group(2).strip())))
            started = True
        elif stripped and started:
            raise SourceError(path, number, "unexpected text after the answers; see the question types in docs/course-format.md")
        else:
            text_lines.append(line)
    qtype, type_line = fields.get("type", ("", line_no))
    if not qtype:
        raise SourceError(path, line_no, "the question has no `type:` line (single, multiple, true-false, …)")
    if qtype not in KNOWN_TYPES:
        raise SourceError(path, type_line, f"unknown question type `{qtype}`; use one of {', '.join(KNOWN_TYPES)}")
    text = "\n".join([heading, "", *text_lines]).strip()
    key = fields["id"][0] if "id" in fields else question_key(heading)
    points = 0.0 if qtype == "description" else 1.0
    if "points" in fields:
        try:
            points = float(fields["points"][0])
        except ValueError:
            raise SourceError(path, fields["points"][1], "`points` must be a number") from None
        if not 0 <= points <= 1000:
            raise SourceError(path, fields["points"][1], "`points` must be between 0 and 1000")
    question = QuestionSource(key=key, type=qtype, text=text, line=line_no, feedback="\n".join(feedback).strip(),
                              points=points, options=[o for _, o in options], pairs=[p for _, p in pairs],
                              items=[i for _, i in items], category=fields.get("category", ("", 0))[0],
                              tags=[t.strip() for t in fields.get("tags", ("", 0))[0].split(",") if t.strip()])
    answer, answer_line = fields.get("answer", (None, line_no))
    stray = {"options": options, "matching pairs": pairs, "ordered items": items}
    allowed = {"single": "options", "multiple": "options", "matching": "matching pairs", "ordering": "ordered items"}
    for name, found in stray.items():
        if found and allowed.get(qtype) != name:
            raise SourceError(path, found[0][0], f"a `{qtype}` question takes no {name}")
    needs_answer = qtype in ("true-false", "short", "numeric")
    if needs_answer and not answer:
        raise SourceError(path, line_no, f"a `{qtype}` question needs an `answer:` line")
    if not needs_answer and answer is not None:
        raise SourceError(path, answer_line, f"a `{qtype}` question takes no `answer:` line")
    if qtype in ("single", "multiple"):
        _check_choices(path, line_no, qtype, question.options)
    elif qtype == "true-false":
        if fold(answer) not in ("true", "false", "dung", "sai"):
            raise SourceError(path, answer_line, "a true-false answer is `true` or `false`")
        question.truth = fold(answer) in ("true", "dung")
    elif qtype == "short":
        accepted = [part.strip() for part in answer.split("|") if part.strip()]
        question.accepted = [{"text": text, "fraction": 1.0, "feedback": ""} for text in accepted]
        question.case_sensitive = _flag(path, fields, "case", "sensitive", "insensitive", False)
        question.ignore_diacritics = _flag(path, fields, "diacritics", "optional", "required", False)
    elif qtype == "numeric":
        question.accepted = _numeric_answers(path, answer_line, answer)
    elif qtype == "matching":
        real = [p for p in question.pairs if p[0]]
        if len(real) < 2:
            raise SourceError(path, line_no, "a matching question needs at least two `- item = match` lines")
    elif qtype == "ordering" and len(question.items) < 2:
        raise SourceError(path, line_no, "an ordering question needs at least two numbered items (`1. …`)")
    return question


def _check_choices(path, line_no, qtype, options):
    correct = sum(option.correct for option in options)
    if len(options) < 2:
        raise SourceError(path, line_no, "a choice question needs at least two options (`- [ ]` lines)")
    weighted = any(option.fraction is not None for option in options)
    if qtype == "single" and not weighted and correct != 1:
        raise SourceError(path, line_no, f"a single-choice question needs exactly one correct option `[x]`; it has {correct}")
    if qtype == "single" and weighted and max(o.fraction or 0 for o in options) < 1:
        raise SourceError(path, line_no, "a single-choice question needs one option worth 100%")
    if qtype == "multiple" and correct < 1:
        raise SourceError(path, line_no, "a multiple-choice question needs at least one correct option `[x]`")
