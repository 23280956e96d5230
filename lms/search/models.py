"""One row per searchable thing (a course, a lesson, a library item), written by the indexer task.

The text is kept as shown (for snippets) and folded (no diacritics, đ→d, lower case) for matching,
so both backends agree on what "lua dao" finds. Visibility travels with the row (`visible`,
`audiences`) so a query never has to join back to the content to decide what a person may see.
The full-text index itself is backend-specific (lms.search.backends): a tsvector column with a GIN
index on PostgreSQL, an FTS5 table on SQLite.
"""

from sqlalchemy import DDL, Text, event
from sqlalchemy.dialects import postgresql

from lms.core.db import IdMixin, utcnow
from lms.extensions import db

KINDS = ("course", "lesson", "library")
WORD_MAX = 40  # longer "words" (URLs, file names) are never typo targets
# A tsvector on PostgreSQL; on SQLite the column exists but stays empty (FTS5 holds the index).
VectorType = Text().with_variant(postgresql.TSVECTOR(), "postgresql")


class SearchDocument(IdMixin, db.Model):
    __tablename__ = "search_documents"
    __table_args__ = (
        db.UniqueConstraint("kind", "ref_id"),
        db.Index("ix_search_documents_vector", "vector", postgresql_using="gin"),
        db.Index("ix_search_documents_title_trgm", "title_folded", postgresql_using="gin",
                 postgresql_ops={"title_folded": "gin_trgm_ops"}),
    )

    kind = db.Column(db.String(16), nullable=False)
    ref_id = db.Column(db.Integer, nullable=False)
    # The course a lesson belongs to (course rows: themselves); removing a course removes its rows.
    course_id = db.Column(db.Integer, index=True)
    title = db.Column(db.String(300), nullable=False)
    title_folded = db.Column(db.String(300), nullable=False)
    body = db.Column(db.Text, nullable=False, default="")
    body_folded = db.Column(db.Text, nullable=False, default="")
    url = db.Column(db.String(500), nullable=False)
    # Where the result lives, shown under its title ("Course · Lesson 3", "Cẩm nang dịch vụ công").
    context = db.Column(db.String(300), nullable=False, default="")
    visible = db.Column(db.Boolean, nullable=False, default=True)
    # "|citizen|official|" — empty means everyone; matched with LIKE '%|x|%'.
    audiences = db.Column(db.String(200), nullable=False, default="")
    vector = db.Column(VectorType)
    # The title and the start of the text only: ranking reads this small vector (kept inline) for
    # every match, while matching uses the whole one through its GIN index.
    rank_vector = db.Column(VectorType)
    indexed_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class SearchWord(db.Model):
    """PostgreSQL's typo vocabulary: every word of the indexed text (titles, lesson and item bodies, file
    text) with the number of rows holding it, kept by `PostgresBackend.sync` from the rows' own
    tsvectors; a trigram GIN index finds the words nearest a typo. (SQLite reads FTS5's own word list;
    there the table stays empty.)"""

    __tablename__ = "search_words"
    __table_args__ = (
        # No pending list (fastupdate off): the counts change on every re-index, and a search would
        # read the whole list for each word it looks up (12.8 s for one typo over a freshly loaded
        # vocabulary, where the planner chose this index for the one-edit lookups).
        db.Index("ix_search_words_trgm", "word", postgresql_using="gin",
                 postgresql_ops={"word": "gin_trgm_ops"}, postgresql_with={"fastupdate": "off"}),
    )

    word = db.Column(db.String(WORD_MAX), primary_key=True)
    docs = db.Column(db.Integer, nullable=False, default=0)


class SearchPair(db.Model):
    """Adjacent word pairs of the indexed text ("lua dao", "dao qua") with the number of rows holding
    each, on both engines: among the near candidates of a typo ("lu" → "la", "lua"), the one whose
    neighbours it is most often written beside wins ("lu dao" → "lua dao"). Kept by the backends'
    `sync`/`unsync` as the vocabulary is: on PostgreSQL from the tsvectors' positions, on SQLite from
    the folded text FTS5 indexes."""

    __tablename__ = "search_pairs"

    first = db.Column(db.String(WORD_MAX), primary_key=True)
    second = db.Column(db.String(WORD_MAX), primary_key=True)
    docs = db.Column(db.Integer, nullable=False, default=0)


# The schema pieces that are not tables of the model: extensions and the FTS5 table. The migration
# creates them too; these hooks cover `db.create_all()` (tests, a fresh embedded install).
event.listen(db.metadata, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS unaccent; CREATE EXTENSION IF NOT EXISTS pg_trgm")
             .execute_if(dialect="postgresql"))
FTS_CREATE = ("CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
              "title, body, tags, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')")
event.listen(SearchDocument.__table__, "after_create", DDL(FTS_CREATE).execute_if(dialect="sqlite"))
# PostgreSQL: rows stay narrow (texts and the full vector out of line) so a ranked scan over every
# match reads little; the small ranking vector stays in the row.
PG_STORAGE = ("ALTER TABLE search_documents SET (toast_tuple_target = 256); "
              "ALTER TABLE search_documents ALTER COLUMN rank_vector SET STORAGE MAIN")
event.listen(SearchDocument.__table__, "after_create", DDL(PG_STORAGE).execute_if(dialect="postgresql"))
event.listen(SearchDocument.__table__, "after_drop", DDL("DROP TABLE IF EXISTS search_fts").execute_if(dialect="sqlite"))
