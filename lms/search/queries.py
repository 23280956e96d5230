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


def _corrected(engine, terms: list[str]) -> list[str] | None:
    """The query with each word the index does not know replaced by one it does (same on both engines:
    SQLite reads FTS5's word list, PostgreSQL its vocabulary table): of each word's near candidates, the
    combination whose neighbouring words are most often written side by side (one statement over the word
    pairs: "lu dao" → "lua dao", not the commoner "la"), then the nearest, then the most used; None when
    nothing changes."""
    known = engine.known(terms)
    options = [[(term, 0, 0)] if term in known or term.isdigit() else
               (near_words(term, engine.near(term)) or [(term, 0, 0)]) for term in terms]
    if all(len(option) == 1 for option in options):
        fixed = [option[0][0] for option in options]
    else:
        firsts, seconds = set(), set()
        for before, after in pairwise(options):
            if len(before) > 1 or len(after) > 1:  # a pair with a choice in it
                firsts.update(word for word, _distance, _rows in before)
                seconds.update(word for word, _distance, _rows in after)
        fixed = best_sequence(options, pair_counts(firsts, seconds) if firsts else {})
    return fixed if fixed != terms else None


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
        corrected = _corrected(engine, terms)
        if corrected:
            ids, results.total = engine.match(corrected, filters, PAGE_SIZE, offset)
            results.corrected = " ".join(corrected) if results.total else None
            terms = corrected if results.total else terms
    if not results.total:
        ids, results.total = engine.match(terms, filters, PAGE_SIZE, offset, loose=True)
    rows = {row.id: row for row in db.session.scalars(select(SearchDocument).where(SearchDocument.id.in_(ids)))}
    results.hits = [Hit(kind=row.kind, title=highlight(row.title, terms), url=row.url, context=row.context,
                        snippet=snippet(row.body, terms), ref_id=row.ref_id, course_id=row.course_id)
                   for row in (rows[i] for i in ids if i in rows)]
    return results
