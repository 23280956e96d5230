"""Text for the index (Markdown → plain words) and highlighted snippets for results.

Snippets are cut from the text as written, with diacritics, and the matched words marked; matching
is done on a same-length folded copy, so "lua dao" marks "lừa đảo".
"""

import re
import unicodedata
from itertools import pairwise

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


# Latin letters with their marks (Vietnamese lives in Latin-1, Latin Extended-A/B and U+1EA0–U+1EF9):
# one C-level translate per text instead of a Python call per character.
_FOLD_TABLE = {code: _fold_char(chr(code)) for block in (range(0x41, 0x5B), range(0xC0, 0x250), range(0x1E00, 0x1F00))
               for code in block if _fold_char(chr(code)) != chr(code)}


def _folded_same_length(text: str) -> str:
    return text.translate(_FOLD_TABLE)


def _match_spans(text: str, terms: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, term) of each match; whole words, except the last term which may be a prefix
    (the person may still be typing it), as the engines match."""
    if not terms:
        return []
    folded = _folded_same_length(text)
    whole = [re.escape(t) for t in terms[:-1]]
    alternatives = [rf"(?P<p>{re.escape(terms[-1])})\w*"] + [rf"(?:{w})\b" for w in sorted(whole, key=len, reverse=True)]
    pattern = re.compile(r"\b(?:" + "|".join(alternatives) + ")")
    return [(m.start(), m.end(), folded[m.start():m.end()] if m.group("p") is None else terms[-1])
            for m in pattern.finditer(folded)]


def highlight(text: str, terms: list[str]) -> Markup:
    """The whole (short) text, HTML-escaped, with the matched words in <mark>."""
    return _marked(text, _match_spans(text, terms), 0, len(text))


def snippet(text: str, terms: list[str], size: int = SNIPPET_CHARS) -> Markup:
    """A window of the text around its densest run of matches, with them marked."""
    text = _SPACES.sub(" ", text or "").strip()
    spans = _match_spans(text, terms)
    if not spans:
        cut = text[:size]
        return escape(cut) + ("…" if len(text) > size else "")
    # The window with the most different words of the query, then the most matches: one pass with
    # a moving end (the spans are in text order), not a slice per span.
    scores, end = [], 0
    for i, (span_start, _end, _term) in enumerate(spans):
        end = max(end, i)
        while end < len(spans) and spans[end][0] < span_start + size:
            end += 1
        scores.append((len({span[2] for span in spans[i:end]}), end - i))

    def score(i):
        return scores[i]

    best = max(range(len(spans)), key=score)
    start = max(0, spans[best][0] - size // 4)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < spans[best][0] else start
    end = min(len(text), start + size)
    inside = [span for span in spans if span[0] >= start and span[1] <= end]
    prefix = "…" if start else ""
    suffix = "…" if end < len(text) else ""
    return prefix + _marked(text, inside, start, end) + suffix  # Markup + str escapes the str


def _marked(text: str, spans, start: int, end: int) -> Markup:
    # Escaped pieces joined once: adding Markup objects one by one re-escaped and copied the
    # whole snippet at each step (half of a search's time in the profile).
    out, position = [], start
    for span_start, span_end, _term in spans:
        if span_start < position or span_end > end:
            continue
        out += [escape(text[position:span_start]), "<mark>", escape(text[span_start:span_end]), "</mark>"]
        position = span_end
    out.append(escape(text[position:end]))
    # Every piece of the text went through escape() above: bandit's B704 does not apply.
    return Markup("".join(out))  # nosec B704


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Edit distance counting two swapped neighbours as one edit, as `one_edit` does ("mahn" → "manh"),
    giving up (limit + 1) once every path is past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    earlier, previous = None, list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            if earlier is not None and j > 1 and char == b[j - 2] and a[i - 2] == other:
                cost = min(cost, earlier[j - 2] + 1)
            current.append(cost)
        if min(current) > limit:
            return limit + 1
        earlier, previous = previous, current
    return previous[-1]


# The letters of folded text (lms.core.text.fold): what a one-letter slip can produce.
FOLDED_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def one_edit(word: str) -> list[str]:
    """Every string one letter deleted, changed or added away from `word`, or with two neighbours swapped
    (words up to 12 letters)."""
    if len(word) > 12:
        return []
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    variants = {left + right[1:] for left, right in splits if right}
    variants |= {left + letter + right[1:] for left, right in splits if right for letter in FOLDED_LETTERS}
    variants |= {left + letter + right for left, right in splits for letter in FOLDED_LETTERS}
    variants |= {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    variants.discard(word)
    return sorted(variants)


def near_words(word: str, candidates: list[tuple[str, int]], keep: int = 64) -> list[tuple[str, int, int]]:
    """(term, edit distance, row count) of the candidates near enough to `word` (one edit for short words,
    two from five letters), nearest and then most used first, at most `keep` (the word pairs decide among
    them: a short word has a dozen neighbours one edit away, "lu": tu, du, la, vu, … lua)."""
    limit = 1 if len(word) < 5 else 2
    scored = sorted((edit_distance(word, term, limit), -count, term) for term, count in candidates if term != word)
    return [(term, distance, -count) for distance, count, term in scored if distance <= limit][:keep]


# What FTS5's unicode61 tokenizer takes for a word in folded text (letters and digits).
WORD_TOKEN = re.compile(r"[^\W_]+")


def word_pairs(*texts: str, longest: int) -> set[tuple[str, str]]:
    """The adjacent word pairs of folded texts (each text on its own), words of at most `longest` letters."""
    pairs = set()
    for part in texts:
        words = WORD_TOKEN.findall((part or "").lower())
        pairs.update((a, b) for a, b in pairwise(words) if len(a) <= longest and len(b) <= longest)
    return pairs


def best_sequence(options: list[list[tuple[str, int, int]]], pairs: dict[tuple[str, str], int]) -> list[str]:
    """Of one (word, distance, rows) option per position, the sequence whose adjacent pairs are in the most
    rows (`pairs`), then the nearest, then the most used words: a best path, position by position."""
    best = {word: ((0, -distance, count), [word]) for word, distance, count in options[0]}
    for position in options[1:]:
        step = {}
        for word, distance, count in position:
            own = (-distance, count)
            step[word] = max(((score[0] + pairs.get((before, word), 0), score[1] + own[0], score[2] + own[1]),
                              path + [word]) for before, (score, path) in best.items())
        best = step
    return max(best.values())[1]


def folded(text: str) -> str:
    return fold(text)
