"""Moodle GIFT import and export, following Moodle's own `qformat_gift` (question/format/gift/format.php).

`read_gift()` returns records shaped like Moodle's parse result (checked against Moodle's output in
the acceptance kit); `to_sources()` turns them into the `QuestionSource`s every importer uses.
"""

import re
from html import unescape

from lms.quizzes.markdown_format import QuestionSource, QuizSource, question_key

_WEIGHT = re.compile(r"^%-*([0-9]{1,2})\.?([0-9]*)%")
_FORMATS = {"html": "html", "moodle": "moodle", "plain": "plain", "markdown": "markdown"}
_PRE = [("\\:", "&&058;"), ("\\#", "&&035;"), ("\\=", "&&061;"), ("\\{", "&&123;"), ("\\}", "&&125;"),
        ("\\~", "&&126;"), ("\\n", "&&010")]
_TAG = re.compile(r"<[a-zA-Z/!?][^>]*>")


class GiftError(ValueError):
    pass


def decode(raw: bytes, name: str = "file") -> str:
    """The file's text; anything that is not UTF-8 is refused, as Moodle does."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise GiftError(f"{name}:{line}: the file is not UTF-8; save it as UTF-8 and import it again") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _pre(text: str) -> str:
    text = text.replace("\\\\", "&&092;")
    for escaped, placeholder in _PRE:
        text = text.replace(escaped, placeholder)
    return text.replace("&&092;", "\\")


def _post(text: str) -> str:
    for escaped, placeholder in _PRE:
        text = text.replace(placeholder, escaped[1] if escaped != "\\n" else "\n")
    return text


def _with_format(text: str, default: str = "moodle") -> dict:
    result = {"text": text, "format": default}
    if text.startswith("["):
        end = text.find("]")
        fmt = _FORMATS.get(text[1:end]) if end > 0 else None
        if fmt:
            result = {"text": text[end + 1:], "format": fmt}
    result["text"] = _post(result["text"]).strip()
    return result


def _weight(answer: str) -> tuple[float, str]:
    answer = answer[1:]
    end = answer.find("%")
    return float(answer[:end]) / 100, answer[end + 1:]


def _comment(answer: str, fmt: str) -> tuple[dict, dict]:
    bits = answer.split("#", 1)
    feedback = _with_format(bits[1].strip(), fmt) if len(bits) > 1 else {"text": "", "format": fmt}
    return _with_format(bits[0].strip(), fmt), feedback


def shorten_text(text: str, ideal: int = 80, ending: str = "...") -> str:
    """Moodle's shorten_text() for plain text: cut at `ideal`, back to a space, dot or wide character."""
    plain = _TAG.sub("", text)
    if len(plain) <= ideal:
        return plain
    truncate = plain[:ideal]
    for k in range(len(truncate), 0, -1):
        char = truncate[k:k + 1]
        if char and (char in ". " or len(char.encode()) > 2):
            truncate = truncate[:k + 1]
            break
    return truncate + ending


def default_name(text: str) -> str:
    return _TAG.sub("", shorten_text(text)).strip() or "Question"


def _split_questions(text: str):
    """Moodle's readquestions(): blocks of non-blank trimmed lines, with their first line number."""
    block, first = [], 0
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if line in ("", "0"):  # PHP's empty() also takes "0" for blank
            if block:
                yield first, block
            block = []
        else:
            if not block:
                first = number
            block.append(line)
    if block:
        yield first, block


def read_gift(text: str) -> tuple[list[dict], list[str]]:
    records, errors = [], []
    for line, lines in _split_questions(text):
        try:
            record = _read_question(lines)
        except GiftError as error:
            errors.append(f"line {line}: {error}")
            continue
        if record is not None:
            record["line"] = line
            records.append(record)
    return records, errors


def _read_question(lines: list[str]) -> dict | None:
    comments = ""
    kept = []
    for line in lines:
        if line.startswith("//"):
            comments += line + "\n"
            kept.append(" ")
        else:
            kept.append(line)
    text = "\n".join(kept).strip()
    if not text:
        return None
    text = _pre(text)
    if text.startswith("$CATEGORY:"):
        return {"qtype": "category", "category": text[10:].strip()}
    name = None
    if text.startswith("::"):
        text = text[2:]
        end = text.find("::")
        if end >= 0:
            name = _TAG.sub("", _post(text[:end])).strip()
            text = text[end + 2:].strip()
    start, finish = text.find("{"), text.find("}")
    description = start < 0 and finish < 0
    if description:
        answer_text, question_text = "", text
    elif start < 0 or finish < 0:
        raise GiftError("braces { } do not match")
    else:
        answer_text = text[start + 1:finish].strip()
        tail = "" if text.endswith("}") else "_____"
        question_text = text[:start] + tail + text[finish + 1:]
    general = ""
    separator = answer_text.rfind("####")
    if separator >= 0:
        general = answer_text[separator + 4:]
        answer_text = answer_text[:separator].strip()
    parsed = _with_format(question_text)
    fmt = parsed["format"]
    record = {"questiontext": parsed["text"], "questiontextformat": fmt}
    feedback = _with_format(general, fmt)
    record["generalfeedback"], record["generalfeedbackformat"] = feedback["text"], feedback["format"]
    record["name"] = name or default_name(record["questiontext"])
    record["tags"] = [t.strip() for t in re.findall(r"\[tag:([^\]]+)\]", comments)]
    idnumber = re.search(r"\[id:([^\]]+)\]", comments)
    record["idnumber"] = idnumber.group(1).strip() if idnumber else None

    if description:
        record["qtype"] = "description"
    elif answer_text == "":
        record["qtype"] = "essay"
    elif answer_text.startswith("#"):
        record["qtype"] = "numerical"
    elif "~" in answer_text:
        record["qtype"] = "multichoice"
    elif "=" in answer_text and "->" in answer_text:
        record["qtype"] = "match"
    else:
        check = answer_text.split("#", 1)[0].strip() if answer_text.find("#") > 0 else answer_text
        record["qtype"] = "truefalse" if check in ("T", "TRUE", "F", "FALSE") else "shortanswer"
    return _READERS.get(record["qtype"], lambda r, a: r)(record, answer_text)


def _answers(answer_text: str, separator: str) -> list[str]:
    answers = answer_text.split(separator)
    answers[0] = answers[0].strip()
    if not answers[0]:
        answers.pop(0)
    return answers


def _read_multichoice(record, answer_text):
    record["single"] = 1 if "=" in answer_text else 0
    answers = _answers(answer_text.replace("=", "~="), "~")
    if len(answers) < 2:
        raise GiftError("a multiple-choice question needs at least two answers")
    record["answers"] = []
    for answer in answers:
        answer = answer.strip()
        if answer.startswith("="):
            fraction, answer = 1.0, answer[1:]
        elif _WEIGHT.match(answer):
            fraction, answer = _weight(answer)
        else:
            fraction = 0.0
        text, feedback = _comment(answer, record["questiontextformat"])
        record["answers"].append({"answer": text, "fraction": fraction, "feedback": feedback})
    return record


def _read_match(record, answer_text):
    answers = _answers(answer_text, "=")
    if len(answers) < 2:
        raise GiftError("a matching question needs at least two pairs")
    record["pairs"] = []
    for answer in answers:
        answer = answer.strip()
        if "->" not in answer:
            raise GiftError("each matching pair needs `->`")
        marker = answer.find("->")
        record["pairs"].append({"question": _with_format(answer[:marker], record["questiontextformat"]),
                                "answer": _post(answer[marker + 2:]).strip()})
    return record


def _read_truefalse(record, answer_text):
    bits = answer_text.split("#", 2)
    fmt = record["questiontextformat"]
    empty = {"text": "", "format": fmt}
    answer = _with_format(bits[0].strip(), fmt)
    wrong = _with_format(bits[1].strip(), fmt) if len(bits) > 1 else empty
    right = _with_format(bits[2].strip(), fmt) if len(bits) > 2 else dict(empty)
    record["correctanswer"] = answer["text"] in ("T", "TRUE")
    # Moodle: the first feedback goes with the wrong choice, the second with the right one.
    record["feedbacktrue"], record["feedbackfalse"] = (right, wrong) if record["correctanswer"] else (wrong, right)
    return record


def _read_shortanswer(record, answer_text):
    answers = _answers(answer_text, "=")
    if not answers:
        raise GiftError("a short-answer question needs an answer")
    record["answers"] = []
    for answer in answers:
        fraction, text, feedback = _weighted(answer, record)
        record["answers"].append({"answer": text["text"], "fraction": fraction, "feedback": feedback})
    return record


def _weighted(answer: str, record):
    """One `=answer` of a list: its fraction (an optional `%50%` weight, else 1), text and feedback."""
    answer = answer.strip()
    fraction = 1.0
    if _WEIGHT.match(answer):
        fraction, answer = _weight(answer)
    text, feedback = _comment(answer, record["questiontextformat"])
    return fraction, text, feedback


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return None


def _read_numerical(record, answer_text):
    answer_text = answer_text[1:]
    wrong = ""
    if "~" in answer_text:
        position = answer_text.find("~")
        wrong, answer_text = answer_text[position:], answer_text[:position]
    answers = _answers(answer_text, "=")
    if not answers:
        raise GiftError("a numerical question needs an answer")
    record["answers"] = []
    for answer in answers:
        fraction, text, feedback = _weighted(answer, record)
        value = text["text"]
        if value.find("..") > 0:
            low, high = _number(value[:value.find("..")].strip()), _number(value[value.find("..") + 2:].strip())
            if low is None or high is None:
                raise GiftError("numerical answers must be numbers")
            number, tolerance = (low + high) / 2, high - (low + high) / 2
        elif value.find(":") > 0:
            number, tolerance = _number(value[:value.find(":")].strip()), _number(value[value.find(":") + 1:].strip())
        else:
            number, tolerance = _number(value.strip()), 0.0
        if number is None or tolerance is None:
            raise GiftError("numerical answers must be numbers")
        record["answers"].append({"answer": number, "tolerance": tolerance, "fraction": fraction, "feedback": feedback})
    if wrong:
        _, feedback = _comment(wrong, record["questiontextformat"])
        record["answers"].append({"answer": "*", "tolerance": None, "fraction": 0.0, "feedback": feedback})
    return record


_READERS = {"multichoice": _read_multichoice, "match": _read_match, "truefalse": _read_truefalse,
            "shortanswer": _read_shortanswer, "numerical": _read_numerical}


# ---------------------------------------------------------------- into the LMS

def _text(part: dict, fmt: str) -> str:
    """A part's text; a part in another format than the question is converted to safe text."""
    return part["text"] if part["format"] == fmt else unescape(_TAG.sub("", part["text"]))


def to_sources(records: list[dict]) -> list[QuestionSource]:
    from lms.quizzes.markdown_format import OptionSource

    sources, category, seen = [], "", {}
    for record in records:
        if record["qtype"] == "category":
            category = record["category"].removeprefix("$course$/").removeprefix("$course$").strip("/")
            continue
        fmt = record["questiontextformat"]
        key = record.get("idnumber") or question_key(record["name"] + "\n" + record["questiontext"])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}-{seen[key]}"
        source = QuestionSource(key=key[:64], type="essay", text=record["questiontext"], line=record.get("line", 0),
                                feedback=record["generalfeedback"], category=category, tags=record.get("tags", []),
                                text_format=fmt)
        qtype = record["qtype"]
        if qtype == "description":
            source.type, source.points = "description", 0.0
        elif qtype == "multichoice":
            source.type = "single" if record["single"] else "multiple"
            source.options = [OptionSource(_text(a["answer"], fmt), a["fraction"] >= 1, a["fraction"], _text(a["feedback"], fmt))
                              for a in record["answers"]]
        elif qtype == "truefalse":
            source.type, source.truth = "true-false", record["correctanswer"]
            source.true_feedback = _text(record["feedbacktrue"], fmt)
            source.false_feedback = _text(record["feedbackfalse"], fmt)
        elif qtype == "shortanswer":
            source.type = "short"
            source.accepted = [{"text": a["answer"], "fraction": a["fraction"], "feedback": _text(a["feedback"], fmt)}
                               for a in record["answers"]]
        elif qtype == "numerical":
            source.type = "numeric"
            source.accepted = [{"value": None if a["answer"] == "*" else a["answer"], "tolerance": a["tolerance"] or 0.0,
                                "fraction": a["fraction"], "feedback": _text(a["feedback"], fmt)} for a in record["answers"]]
        elif qtype == "match":
            source.type = "matching"
            source.pairs = [(_text(p["question"], fmt), p["answer"]) for p in record["pairs"]]
        sources.append(source)
    return sources


def parse_gift(text: str, path: str, title: str) -> QuizSource:
    from lms.core.frontmatter import SourceError

    records, errors = read_gift(text)
    if errors:
        raise SourceError(path, None, "; ".join(errors))
    questions = to_sources(records)
    if not questions:
        raise SourceError(path, None, "the GIFT file has no questions")
    return QuizSource(path=path, title=title, pass_mark=None, time_limit=0, attempts=0, shuffle=False,
                      explicit_id=None, questions=questions)


def parse_gift_file(path) -> QuizSource:
    from pathlib import Path

    from lms.core.frontmatter import SourceError

    path = Path(path)
    try:
        text = decode(path.read_bytes(), str(path))
    except GiftError as error:
        raise SourceError(path, None, str(error).split(": ", 1)[1]) from None
    title = gift_title(text)
    if title is None:
        title = path.name.removesuffix(".gift").removesuffix(".txt")
        title = re.sub(r"^\d+[-_. ]+", "", title).replace("-", " ").replace("_", " ").strip().capitalize() or "Quiz"
    return parse_gift(text, str(path), title)


_TITLE_COMMENT = re.compile(r"^// title:[ \t]*(\S.*?)\s*$", re.M)


def gift_title(text: str) -> str | None:
    """The quiz title from a `// title: …` comment line (Moodle skips comments), if the file has one."""
    match = _TITLE_COMMENT.search(text)
    return match.group(1)[:200] if match else None


def with_title(text: str, title: str) -> str:
    """The GIFT text starting with a `// title:` line, so a file name never has to carry Vietnamese."""
    if gift_title(text) == title:
        return text
    return f"// title: {title}\n" + _TITLE_COMMENT.sub("", text, count=1).lstrip("\n")


# ---------------------------------------------------------------- export

def _escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for char in "~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def _fmt(question) -> str:
    return "[markdown]"


def export_gift(quiz) -> str:
    """The quiz's questions as GIFT that Moodle imports (Markdown text marked `[markdown]`)."""
    out, category = [], None
    for question in quiz.active_questions():
        if question.category != category and question.category:
            out.append(f"$CATEGORY: $course$/{question.category}\n")
        category = question.category
        lines = []
        if question.tags or question.key:
            tags = " ".join(f"[tag:{t}]" for t in question.tags)
            lines.append(f"// [id:{question.key}] {tags}".rstrip())
        name = _escape(question.text_md.split("\n", 1)[0][:80])
        body = f"::{name}::[markdown]{_escape(question.text_md)}"
        general = f"####{_escape(_feedback_md(question))}" if question.feedback_html else ""
        lines.append(body + _answers_gift(question, general))
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def _feedback_md(question) -> str:
    return unescape(_TAG.sub("", question.feedback_html)).strip()


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}"


def _answers_gift(question, general: str) -> str:
    qtype, key = question.type, question.answer
    if qtype == "description":
        return ""
    if qtype == "essay":
        return "{" + general + "}"
    if qtype == "true-false":
        return "{" + ("TRUE" if key == ["true"] else "FALSE") + general + "}"
    parts = []
    if qtype in ("single", "multiple"):
        for option in question.options:
            fraction = option.get("fraction")
            if fraction is None:
                fraction = (1.0 if option["id"] in key else 0.0) if qtype == "single" else (
                    1.0 / len(key) if option["id"] in key else -1.0 / len(key))
            if qtype == "single" and fraction >= 1:
                mark = "="
            elif fraction == 0 and qtype == "single":
                mark = "~"
            else:
                mark = f"~%{_percent(fraction)}%"
            feedback = f"#{_escape(unescape(_TAG.sub('', option['feedback_html'])))}" if option.get("feedback_html") else ""
            parts.append(f"\t{mark}{_escape(option['md'])}{feedback}")
    elif qtype == "short":
        for accepted in key.get("accepted", []):
            weight = "" if accepted["fraction"] >= 1 else f"%{_percent(accepted['fraction'])}%"
            parts.append(f"\t={weight}{_escape(accepted['text'])}")
    elif qtype == "numeric":
        values = []
        for value in key.get("values", []):
            if value["value"] is None:
                continue
            weight = "" if value["fraction"] >= 1 else f"%{_percent(value['fraction'])}%"
            values.append(f"={weight}{value['value']:g}:{value['tolerance']:g}")
        return "{#\n\t" + "\n\t".join(values) + ("\n" + general if general else "") + "\n}"
    elif qtype == "matching":
        choices = {c["id"]: c["md"] for c in question.choices}
        used = set()
        for option in question.options:
            used.add(key[option["id"]])
            parts.append(f"\t={_escape(option['md'])} -> {_escape(choices[key[option['id']]])}")
        parts += [f"\t= -> {_escape(md)}" for cid, md in choices.items() if cid not in used]
    elif qtype == "ordering":
        # GIFT has no ordering type: export as an essay-free description of the right order is lossy,
        # so keep it importable as short answer of the items joined in order.
        return "{=" + _escape(", ".join(o["md"] for o in question.options)) + general + "}"
    return "{\n" + "\n".join(parts) + ("\n" + general if general else "") + "\n}"
