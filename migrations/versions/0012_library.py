"""e-library (items, files with versions, collections, lesson usages) and the search index

Revision ID: 0012_library
Revises: 0012_secb
Create Date: 2026-12-05 14:30:00

PostgreSQL: the unaccent and pg_trgm extensions, a tsvector column with a GIN index, and a trigram
index on titles. SQLite: an FTS5 table beside search_documents (rows written by the indexer).
Existing courses are indexed by `flask search reindex` (run by `make run`'s setup).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = "0012_library"
down_revision = "0012_secb"
branch_labels = None
depends_on = None

FTS_CREATE = ("CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
              "title, body, tags, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')")


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "library_collections",
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "library_items",
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("title_folded", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(length=120), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("locality_id", sa.Integer(), nullable=True),
        sa.Column("agency", sa.String(length=300), nullable=False),
        sa.Column("licence", sa.String(length=200), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("source_path", sa.String(length=500), nullable=True),
        sa.Column("source_hash", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["locality_id"], ["localities.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    with op.batch_alter_table("library_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_items_locality_id"), ["locality_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_library_items_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_library_items_title_folded"), ["title_folded"], unique=False)
    op.create_table(
        "library_item_collections",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["collection_id"], ["library_collections.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["library_items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id", "collection_id"),
    )
    op.create_table(
        "library_files",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_status", sa.String(length=12), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["library_items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("library_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_files_item_id"), ["item_id"], unique=False)
    op.create_table(
        "library_usages",
        sa.Column("item_slug", sa.String(length=120), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["lesson_id"], ["lessons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_slug", "lesson_id"),
    )
    with op.batch_alter_table("library_usages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_usages_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_library_usages_lesson_id"), ["lesson_id"], unique=False)
    op.create_table(
        "search_documents",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("title_folded", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_folded", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("context", sa.String(length=300), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("audiences", sa.String(length=200), nullable=False),
        sa.Column("vector", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=True),
        sa.Column("rank_vector", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=True),
        sa.Column("indexed_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "ref_id"),
    )
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_documents_course_id"), ["course_id"], unique=False)
        batch_op.create_index("ix_search_documents_vector", ["vector"], unique=False, postgresql_using="gin")
        batch_op.create_index("ix_search_documents_title_trgm", ["title_folded"], unique=False,
                              postgresql_using="gin", postgresql_ops={"title_folded": "gin_trgm_ops"})
    if dialect == "sqlite":
        op.execute(FTS_CREATE)
    else:  # narrow rows for ranked scans (lms.search.models)
        op.execute("ALTER TABLE search_documents SET (toast_tuple_target = 256)")
        op.execute("ALTER TABLE search_documents ALTER COLUMN rank_vector SET STORAGE MAIN")
    # Courses already in the database are indexed by the worker: one queued message per course.
    course_ids = [row[0] for row in op.get_bind().execute(sa.text("SELECT id FROM courses"))]
    if course_ids:
        from datetime import UTC, datetime

        now = datetime.now(UTC).replace(tzinfo=None)
        outbox = sa.table("outbox_messages", sa.column("task"), sa.column("kwargs", sa.JSON),
                          sa.column("dedupe_key"), sa.column("state"), sa.column("due_at"),
                          sa.column("created_at"), sa.column("attempts"), sa.column("runs"))
        op.bulk_insert(outbox, [
            {"task": "search.index_course", "kwargs": {"course_id": i}, "state": "queued", "due_at": now,
             "dedupe_key": f'search.index_course:{{"course_id":{i}}}', "created_at": now, "attempts": 0, "runs": 0}
            for i in course_ids])


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_search_documents_title_trgm", postgresql_using="gin")
        batch_op.drop_index("ix_search_documents_vector", postgresql_using="gin")
        batch_op.drop_index(batch_op.f("ix_search_documents_course_id"))
    op.drop_table("search_documents")
    with op.batch_alter_table("library_usages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_usages_lesson_id"))
        batch_op.drop_index(batch_op.f("ix_library_usages_course_id"))
    op.drop_table("library_usages")
    with op.batch_alter_table("library_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_files_item_id"))
    op.drop_table("library_files")
    op.drop_table("library_item_collections")
    with op.batch_alter_table("library_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_items_title_folded"))
        batch_op.drop_index(batch_op.f("ix_library_items_status"))
        batch_op.drop_index(batch_op.f("ix_library_items_locality_id"))
    op.drop_table("library_items")
    op.drop_table("library_collections")
