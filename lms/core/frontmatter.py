"""YAML front matter with line numbers, for messages that point at `file:line`."""

from dataclasses import dataclass

import yaml


class SourceError(ValueError):
    def __init__(self, path, line: int | None, message: str):
        self.path, self.line, self.message = str(path), line, message
        super().__init__(self.where + ": " + message)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass
class Document:
    meta: dict
    body: str
    body_line: int  # 1-based line number where the body starts


def read_text(path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise SourceError(path, line, "the file is not UTF-8; save it as UTF-8") from None


def parse(path, text: str | None = None) -> Document:
    text = read_text(path) if text is None else text
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return Document({}, text, 1)
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            break
    else:
        raise SourceError(path, 1, "front matter starts with '---' but has no closing '---'")
    try:
        meta = yaml.safe_load("\n".join(lines[1:index])) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        raise SourceError(path, line, f"front matter is not valid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(meta, dict):
        raise SourceError(path, 2, "front matter must be a set of `key: value` lines")
    return Document(meta, "\n".join(lines[index + 1:]), index + 2)
