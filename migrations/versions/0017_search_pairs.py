"""search word pairs: adjacent words of the indexed text with their row counts, for typo choice

Revision ID: 0017_search_pairs
Revises: 0016_library
Create Date: 2026-12-06 03:30:00

"lu dao" was corrected to "la dao": both "la" and "lua" are one edit from "lu", and "la" is in more
rows. Which candidate is written beside the query's other words tells them apart. Filled here from
what is indexed (PostgreSQL: the tsvectors' positions; SQLite: the folded titles and texts, as FTS5
reads them), then kept by the indexer (lms.search.backends).
"""
import re
from itertools import pairwise

import sqlalchemy as sa
from alembic import op

revision = "0017_search_pairs"
down_revision = "0016_library"
branch_labels = None
depends_on = None

# The statement of lms.search.backends.PAIRS_FILL, as of this revision.
PG_FILL = ("INSERT INTO search_pairs (first, second, docs) "
           "SELECT word, next, count(DISTINCT id) FROM (SELECT d.id, v.lexeme AS word, p.pos, "
           "lead(v.lexeme) OVER (PARTITION BY d.id ORDER BY p.pos) AS next, "
           "lead(p.pos) OVER (PARTITION BY d.id ORDER BY p.pos) AS next_pos FROM search_documents d, "
           "unnest(d.vector) AS v, unnest(v.positions) AS p(pos) WHERE length(v.lexeme) <= 40) AS s "
           "WHERE next_pos = pos + 1 GROUP BY word, next")
# lms.search.text.WORD_TOKEN, as of this revision.
TOKEN = re.compile(r"[^\W_]+")


def upgrade():
    op.create_table(
        "search_pairs",
        sa.Column("first", sa.String(40), primary_key=True),
        sa.Column("second", sa.String(40), primary_key=True),
        sa.Column("docs", sa.Integer(), nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(PG_FILL)
        return
    counts: dict[tuple[str, str], int] = {}
    for title, body in bind.execute(sa.text("SELECT title_folded, body_folded FROM search_documents")):
        pairs = set()
        for part in (title, body):
            words = TOKEN.findall((part or "").lower())
            pairs.update((a, b) for a, b in pairwise(words) if len(a) <= 40 and len(b) <= 40)
        for pair in pairs:
            counts[pair] = counts.get(pair, 0) + 1
    if counts:
        bind.execute(sa.text("INSERT INTO search_pairs (first, second, docs) VALUES (:first, :second, :docs)"),
                     [{"first": a, "second": b, "docs": n} for (a, b), n in counts.items()])


def downgrade():
    op.drop_table("search_pairs")
