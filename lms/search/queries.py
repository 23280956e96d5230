"""The one search: courses, lessons and library items, whatever the database.

Who sees what: only published content (drafts, archived lessons and items never appear), and only
what is open to the person's audience — a learner sees rows for everyone or for their own audience
(citizen / official / cio); a visitor without an account is taken as a citizen; administrators may
look at any audience.
"""

from dataclasses import dataclass, field
from itertools import pairwise

from markupsafe import Markup
from sqlalchemy import select

from lms.core.permissions import can
from lms.extensions import db
from lms.search.backends import COUNT_CAP, Filters, backend, pair_counts
from lms.search.models import KINDS, SearchDocument
from lms.search.text import best_sequence, highlight, near_words, query_terms, snippet

PAGE_SIZE = 20
AUDIENCES = ("citizen", "official", "cio")
PUBLIC_AUDIENCE = "citizen"


@dataclass
class Hit:
    kind: str
    title: Markup
    url: str
    context: str
    snippet: Markup
    ref_id: int = 0
    course_id: int | None = None   # a course or lesson hit: its course (the catalogue lists courses)


@dataclass
class Results:
    query: str
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    kind: str | None = None
    audience: str | None = None
    # The words searched instead when the typed ones found nothing ("lu dao" → "lua dao").
    corrected: str | None = None

    @property
    def capped(self) -> bool:
        """More rows matched than were counted (COUNT_CAP)."""
        return self.total > COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def audience_for(user, requested: str | None) -> str | None:
    """The audience results must be open to: the person's own unless they are an administrator."""
    if user is not None and can("administer", user):
        return requested if requested in AUDIENCES else None
    if user is not None and user.is_authenticated:
        return user.audience
    return PUBLIC_AUDIENCE


# How many times more rows a pair of near words must be in than the pair as typed to replace a word the
# index knows ("mat khu manh": "khu" is a word, but "mat khau" and "khau manh" are written, "mat khu" not).
KEPT_PAIR_WEIGHT = 10


def _corrected(engine, terms: list[str], known: set[str], nearby: dict, known_too: bool = False) -> list[str] | None:
    """The query with each word the index does not know replaced by one it does (same on both engines:
    SQLite reads FTS5's word list, PostgreSQL its vocabulary table): of each word's near candidates, the
    combination whose neighbouring words are most often written side by side (one statement over the word
    pairs: "lu dao" → "lua dao", not the commoner "la"), then the nearest, then the most used; None when
    nothing changes. `known_too`: the known words may change as well (a typo that is another word), when
    the pairs with the near word are in KEPT_PAIR_WEIGHT times more rows than the typed pairs.
    `nearby` keeps each word's candidates between the two attempts."""

    def near(term):
        if term not in nearby:
            nearby[term] = near_words(term, engine.near(term))
        return nearby[term]

    options = [[(term, 0, 0)] if term.isdigit() or (term in known and not known_too) else
               [(term, 0, 0)] + near(term) if term in known else near(term) or [(term, 0, 0)] for term in terms]
    firsts, seconds = set(), set()
    for before, after in pairwise(options):
        if len(before) > 1 or len(after) > 1:  # a pair with a choice in it
            firsts.update(word for word, _distance, _rows in before)
            seconds.update(word for word, _distance, _rows in after)
    pairs = pair_counts(firsts, seconds) if firsts else {}
    for typed in pairwise(terms) if known_too else ():
        if typed in pairs:
            pairs[typed] *= KEPT_PAIR_WEIGHT
    fixed = best_sequence(options, pairs)
    return fixed if fixed != terms else None


def _retyped(engine, terms: list[str], filters: Filters, offset: int) -> tuple[list[str], list[int], int]:
    """When the words as typed find nothing: the unknown words corrected, then (two words or more) the
    known ones too; (the words searched, the page's ids, the total) of the first attempt that finds rows,
    ([], [], 0) when none does."""
    known, nearby, tried = engine.known(terms), {}, None
    for known_too in (False, True) if len(terms) > 1 else (False,):
        corrected = _corrected(engine, terms, known, nearby, known_too)
        if corrected and corrected != tried:
            tried = corrected
            ids, total = engine.match(corrected, filters, PAGE_SIZE, offset)
            if total:
                return corrected, ids, total
    return [], [], 0


def search(query: str, user=None, kind: str | None = None, audience: str | None = None, page: int = 1) -> Results:
    kind = kind if kind in KINDS else None
    audience = audience_for(user, audience)
    results = Results(query=query, kind=kind, audience=audience, page=max(1, page))
    terms = query_terms(query)
    if not terms:
        return results
    engine, filters, offset = backend(), Filters(kind=kind, audience=audience), (results.page - 1) * PAGE_SIZE
    ids, results.total = engine.match(terms, filters, PAGE_SIZE, offset)
    if not results.total:
        corrected, ids, results.total = _retyped(engine, terms, filters, offset)
        if results.total:
            results.corrected, terms = " ".join(corrected), corrected
    if not results.total:
        ids, results.total = engine.match(terms, filters, PAGE_SIZE, offset, loose=True)
    rows = {row.id: row for row in db.session.scalars(select(SearchDocument).where(SearchDocument.id.in_(ids)))}
    results.hits = [Hit(kind=row.kind, title=highlight(row.title, terms), url=row.url, context=row.context,
                        snippet=snippet(row.body, terms), ref_id=row.ref_id, course_id=row.course_id)
                   for row in (rows[i] for i in ids if i in rows)]
    return results
