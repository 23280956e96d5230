"""security part B: when quiz reviews show the right answers; import files checked in the worker;
audit events with before/after and origin; pending official/CIO requests

Revision ID: 0012_secb
Revises: 0012_identity
Create Date: 2026-12-05 14:00:00

Existing quizzes take the new default (`when-done`): the review shows the right answers only
once no attempt is left or the quiz has closed. A trainer chooses `answers: after-submit` to
show them after every attempt again.
"""
from alembic import op
import sqlalchemy as sa


revision = "0012_secb"
down_revision = "0012_identity"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answers_shown", sa.String(length=16), server_default="when-done", nullable=False))
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="people", nullable=False))
        batch_op.add_column(sa.Column("headers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("samples", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("preview", sa.JSON(), nullable=True))


    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audience_requested", sa.String(length=16), nullable=True))
        batch_op.create_index("ix_users_audience_requested", ["audience_requested"], unique=False)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("before", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("after", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("via", sa.String(length=16), server_default="web", nullable=False))
        batch_op.create_index("ix_audit_events_action_at", ["action", "at"], unique=False)


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_audience_requested")
        batch_op.drop_column("audience_requested")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_action_at")
        for column in ("via", "after", "before"):
            batch_op.drop_column(column)
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        for column in ("preview", "samples", "headers", "kind"):
            batch_op.drop_column(column)
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.drop_column("answers_shown")
