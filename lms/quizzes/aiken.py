"""Moodle's Aiken format (question/format/aiken/format.php): one-line questions, lettered choices, `ANSWER: X`."""

import re
from html import escape

from lms.quizzes.gift import GiftError, default_name, to_sources
from lms.quizzes.markdown_format import QuizSource

_CHOICE = re.compile(r"^[A-Z][).][ \t]?")


def _html(text: str) -> str:
    return escape(text, quote=False)


def read_aiken(text: str) -> tuple[list[dict], list[str]]:
    records, errors, question = [], [], None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if len(line) < 2:
            continue
        if _CHOICE.match(line):
            if question is None:
                errors.append(f"Question not started on line {number}")
                continue
            question["answers"].append({"answer": {"text": _html(line[2:].strip()), "format": "html"}, "fraction": 0.0,
                                        "feedback": {"text": "", "format": "html"}})
        elif line.startswith("ANSWER:"):
            if question is None:
                errors.append(f"Question not started on line {number}")
                continue
            letter = line[line.find(":") + 1:].strip()[:1]
            right = ord(letter) - ord("A") if letter else -1
            if len(question["answers"]) < 2:
                errors.append(f"Question must have at least 2 answers on line {number}")
                question = None
                continue
            if not 0 <= right < len(question["answers"]):
                errors.append(f"The answer letter is not one of the choices on line {number}")
                question = None
                continue
            question["answers"][right]["fraction"] = 1.0
            records.append(question)
            question = None
        else:
            if question is not None:
                errors.append(f"Question not completed before next question start on line {number}")
            question = {"qtype": "multichoice", "name": default_name(line), "questiontext": _html(line),
                        "questiontextformat": "html", "generalfeedback": "", "single": 1, "answers": [], "line": number}
    return records, errors


def parse_aiken(text: str, path: str, title: str) -> QuizSource:
    records, errors = read_aiken(text)
    if errors:
        raise GiftError("; ".join(errors))
    for record in records:
        record.setdefault("generalfeedbackformat", "html")
    return QuizSource(path=path, title=title, pass_mark=None, time_limit=0, attempts=0, shuffle=False,
                      explicit_id=None, questions=to_sources(records))
