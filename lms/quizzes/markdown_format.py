"""The Markdown quiz syntax of COURSE_FORMAT.md (`quiz.md`, `*.quiz.md`).

This version grades single- and multiple-choice questions; other types of the contract are
reported as not yet supported rather than silently dropped.
"""

import hashlib
import re
from dataclasses import dataclass, field

from lms.core.frontmatter import SourceError, parse
from lms.core.text import fold

SUPPORTED_TYPES = ("single", "multiple")
KNOWN_TYPES = ("single", "multiple", "true-false", "short", "numeric", "matching", "ordering", "essay")
QUIZ_KEYS = {"title", "pass", "time_limit", "attempts", "shuffle", "draw", "id"}
_OPTION = re.compile(r"^[-*] \[( |x|X)\] (.+)$")
_FIELD = re.compile(r"^(type|id|points):\s*(.*)$")


@dataclass
class OptionSource:
    text: str
    correct: bool


@dataclass
class QuestionSource:
    key: str
    type: str
    text: str
    line: int
    options: list[OptionSource] = field(default_factory=list)
    feedback: str = ""
    points: float = 1.0


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


def _int(meta, key, path, default=0, low=0, high=10_000):
    value = meta.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SourceError(path, 2, f"`{key}` must be a whole number between {low} and {high}")
    return value


def parse_quiz(path) -> QuizSource:
    document = parse(path)
    unknown = set(document.meta) - QUIZ_KEYS
    if unknown:
        raise SourceError(path, 2, f"unknown quiz setting(s): {', '.join(sorted(unknown))}")
    title = str(document.meta.get("title") or "").strip()
    if not title:
        raise SourceError(path, 1, "the quiz needs a `title` in its front matter")
    pass_mark = _int(document.meta, "pass", path, default=None, high=100) if "pass" in document.meta else None
    questions = _parse_questions(path, document.body, document.body_line)
    if not questions:
        raise SourceError(path, document.body_line, "the quiz has no questions (each starts with a `## ` heading)")
    keys = [q.key for q in questions]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise SourceError(path, None, f"two questions have the same id or text: {', '.join(sorted(duplicates))}")
    return QuizSource(
        path=str(path), title=title, pass_mark=pass_mark,
        time_limit=_int(document.meta, "time_limit", path), attempts=_int(document.meta, "attempts", path),
        shuffle=bool(document.meta.get("shuffle", False)),
        explicit_id=str(document.meta["id"]) if document.meta.get("id") else None, questions=questions,
    )


def _parse_questions(path, body: str, first_line: int) -> list[QuestionSource]:
    blocks, current = [], None
    for offset, line in enumerate(body.split("\n")):
        if line.startswith("## "):
            current = (first_line + offset, line[3:].strip(), [])
            blocks.append(current)
        elif current is not None:
            current[2].append((first_line + offset, line))
        elif line.strip():
            raise SourceError(path, first_line + offset, "text before the first question; start each question with `## `")
    return [_parse_question(path, *block) for block in blocks]


def _parse_question(path, line_no: int, heading: str, lines) -> QuestionSource:
    fields, text_lines, options, feedback = {}, [], [], []
    for number, line in lines:
        stripped = line.strip()
        match = _FIELD.match(stripped)
        option = _OPTION.match(stripped)
        if match and not options and not feedback:
            fields[match.group(1)] = (match.group(2).strip(), number)
        elif option:
            options.append(OptionSource(option.group(2).strip(), option.group(1) in "xX"))
        elif stripped.startswith(">"):
            feedback.append(stripped[1:].lstrip())
        elif stripped and (options or feedback):
            raise SourceError(path, number, "unexpected text after the options; use `- [ ]` / `- [x]` or `> feedback`")
        else:
            text_lines.append(line)
    qtype, type_line = fields.get("type", ("", line_no))
    if not qtype:
        raise SourceError(path, line_no, "the question has no `type:` line (single, multiple, …)")
    if qtype not in KNOWN_TYPES:
        raise SourceError(path, type_line, f"unknown question type `{qtype}`; use one of {', '.join(KNOWN_TYPES)}")
    if qtype not in SUPPORTED_TYPES:
        raise SourceError(path, type_line, f"question type `{qtype}` is not supported yet; use single or multiple")
    correct = sum(option.correct for option in options)
    if len(options) < 2:
        raise SourceError(path, line_no, "a choice question needs at least two options (`- [ ]` lines)")
    if qtype == "single" and correct != 1:
        raise SourceError(path, line_no, f"a single-choice question needs exactly one correct option `[x]`; it has {correct}")
    if qtype == "multiple" and correct < 1:
        raise SourceError(path, line_no, "a multiple-choice question needs at least one correct option `[x]`")
    text = "\n".join([heading, "", *text_lines]).strip()
    key = fields["id"][0] if "id" in fields else "q-" + hashlib.sha1(fold(heading).encode()).hexdigest()[:10]
    points = 1.0
    if "points" in fields:
        try:
            points = float(fields["points"][0])
        except ValueError:
            raise SourceError(path, fields["points"][1], "`points` must be a number") from None
    return QuestionSource(key=key, type=qtype, text=text, line=line_no, options=options,
                          feedback="\n".join(feedback).strip(), points=points)
