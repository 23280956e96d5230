"""Text for the index (Markdown → plain words) and highlighted snippets for results.

Snippets are cut from the text as written, with diacritics, and the matched words marked; matching
is done on a same-length folded copy, so "lua dao" marks "lừa đảo".
"""

import re
import unicodedata

from markupsafe import Markup, escape

from lms.core.text import fold

_MARKDOWN_NOISE = [
    (re.compile(r"```.*?```", re.S), " "),            # code blocks
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), " "),        # images
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),     # links: keep the text
    (re.compile(r"\[\[library:[^\]|]+\|?([^\]]*)\]\]"), r"\1"),  # library links: keep the label
    (re.compile(r"<[^>]+>"), " "),                     # inline HTML
    (re.compile(r"^\s{0,3}(#{1,6}|>|[-*+]|\d+\.|!!!|\?\?\?)\s*", re.M), ""),  # block markers
    (re.compile(r"[*_`~|]+"), " "),                    # emphasis, tables
]
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
SNIPPET_CHARS = 220


def plain_text(markdown: str | None) -> str:
    text = markdown or ""
    for pattern, replacement in _MARKDOWN_NOISE:
        text = pattern.sub(replacement, text)
    return _SPACES.sub(" ", text).strip()


def query_terms(query: str) -> list[str]:
    """The folded words of a query, in order, without repeats."""
    seen = []
    for word in _WORD.findall(fold(query)):
        if word not in seen:
            seen.append(word)
    return seen[:12]


def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)).lower()
    return base if len(base) == 1 else char


def _folded_same_length(text: str) -> str:
    return "".join(_fold_char(c) for c in text)


def _match_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    if not terms:
        return []
    folded = _folded_same_length(text)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + r")\w*")
    return [m.span() for m in pattern.finditer(folded)]


def highlight(text: str, terms: list[str]) -> Markup:
    """The whole (short) text, HTML-escaped, with the matched words in <mark>."""
    return _marked(text, _match_spans(text, terms), 0, len(text))


def snippet(text: str, terms: list[str], size: int = SNIPPET_CHARS) -> Markup:
    """A window of the text around its densest run of matches, with them marked."""
    text = _SPACES.sub(" ", text or "").strip()
    spans = _match_spans(text, terms)
    if not spans:
        cut = text[:size]
        return Markup(escape(cut) + ("…" if len(text) > size else ""))
    best = max(range(len(spans)), key=lambda i: sum(1 for s in spans[i:] if s[0] < spans[i][0] + size))
    start = max(0, spans[best][0] - size // 4)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < spans[best][0] else start
    end = min(len(text), start + size)
    inside = [s for s in spans if s[0] >= start and s[1] <= end]
    prefix = "…" if start else ""
    suffix = "…" if end < len(text) else ""
    return Markup(prefix) + _marked(text, inside, start, end) + Markup(suffix)


def _marked(text: str, spans, start: int, end: int) -> Markup:
    out, position = Markup(""), start
    for span_start, span_end in spans:
        if span_start < position or span_end > end:
            continue
        out += escape(text[position:span_start]) + Markup("<mark>") + escape(text[span_start:span_end]) + Markup("</mark>")
        position = span_end
    return out + escape(text[position:end])


def folded(text: str) -> str:
    return fold(text)
