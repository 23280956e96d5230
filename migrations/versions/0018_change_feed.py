"""change feed: PostgreSQL notifies every committed change to the tables the light pages read

Revision ID: 0018_change_feed
Revises: 0017_search_pairs
Create Date: 2026-12-07 00:10:00

Each process keeps the rows of the pages read most (a lesson, the library) while the database says nothing
changed them (lms.core.change_feed). These triggers say it: on channel `lms_changes`, `u:<user id>` for a
change to a person's own rows, `t:<table>` for content, `*` when the person cannot be told. NOTIFY is sent
at commit, and identical notifications of one transaction are sent once. Nothing on SQLite.
"""
from alembic import op

revision = "0018_change_feed"
down_revision = "0017_search_pairs"
branch_labels = None
depends_on = None

# A person's tables and the column naming the person (lesson_progress: through its enrolment).
PERSON_TABLES = {"users": "id", "session_records": "user_id", "role_grants": "user_id", "enrollments": "user_id",
                 "lesson_progress": "enrollment_id", "notifications": "user_id"}
CONTENT_TABLES = ("courses", "modules", "lessons", "localities", "library_items", "library_collections",
                  "library_item_collections", "library_usages", "library_files")

PERSON_FUNCTION = """
CREATE OR REPLACE FUNCTION lms_changes_person() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed jsonb;
  person text;
BEGIN
  FOREACH changed IN ARRAY ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
                                 CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END] LOOP
    CONTINUE WHEN changed IS NULL;
    IF TG_ARGV[0] = 'enrollment_id' THEN
      SELECT e.user_id::text INTO person FROM enrollments e WHERE e.id = (changed->>'enrollment_id')::bigint;
    ELSE
      person := changed->>TG_ARGV[0];
    END IF;
    PERFORM pg_notify('lms_changes', COALESCE('u:' || person, '*'));
  END LOOP;
  RETURN NULL;
END $$
"""

CONTENT_FUNCTION = """
CREATE OR REPLACE FUNCTION lms_changes_content() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('lms_changes', 't:' || TG_TABLE_NAME);
  RETURN NULL;
END $$
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(PERSON_FUNCTION)
    op.execute(CONTENT_FUNCTION)
    for table, column in PERSON_TABLES.items():
        op.execute(f"CREATE TRIGGER lms_changes_person AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION lms_changes_person('{column}')")
    for table in CONTENT_TABLES:
        op.execute(f"CREATE TRIGGER lms_changes_content AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION lms_changes_content()")
    for table in PERSON_TABLES:  # TRUNCATE has no rows to name a person by
        op.execute(f"CREATE TRIGGER lms_changes_truncate AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION lms_changes_content()")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in PERSON_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS lms_changes_person ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS lms_changes_truncate ON {table}")
    for table in CONTENT_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS lms_changes_content ON {table}")
    op.execute("DROP FUNCTION IF EXISTS lms_changes_person()")
    op.execute("DROP FUNCTION IF EXISTS lms_changes_content()")
