"""search typo vocabulary: every indexed word with its row count, for PostgreSQL's typo correction

Revision ID: 0015_search
Revises: 0014_sessions
Create Date: 2026-12-05 21:00:00

PostgreSQL only fills it (from the rows' tsvectors, here and then by the indexer); a trigram GIN
index finds the words nearest a typo. On SQLite the table stays empty (FTS5 keeps its own word list).
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_search"
down_revision = "0014_sessions"
branch_labels = None
depends_on = None

# The statement of lms.search.backends.VOCABULARY_FILL, as of this revision.
FILL = ("INSERT INTO search_words (word, docs) SELECT word, count(*) FROM search_documents d, "
        "unnest(tsvector_to_array(d.vector)) AS word WHERE length(word) <= 40 GROUP BY word")


def upgrade():
    op.create_table(
        "search_words",
        sa.Column("word", sa.String(40), primary_key=True),
        sa.Column("docs", sa.Integer(), nullable=False),
    )
    # A trigram GIN index on PostgreSQL; on SQLite a plain index, as the model declares it there.
    op.create_index("ix_search_words_trgm", "search_words", ["word"], postgresql_using="gin",
                    postgresql_ops={"word": "gin_trgm_ops"}, postgresql_with={"fastupdate": "off"})
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FILL)


def downgrade():
    op.drop_index("ix_search_words_trgm", table_name="search_words", postgresql_using="gin")
    op.drop_table("search_words")
