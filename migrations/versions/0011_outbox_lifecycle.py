"""outbox lifecycle: state, lease/due time, runs; worker marks

Revision ID: 0011
Revises: 0010_report_programs
Create Date: 2026-12-05 10:40:00

Messages already dispatched before this revision are taken as done (the broker had them); the
repair sweep finds any certificate that nevertheless never came of them.
"""
from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010_report_programs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("state", sa.String(length=12), server_default="queued", nullable=False))
        batch_op.add_column(sa.Column("due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("runs", sa.Integer(), server_default="0", nullable=False))
    op.execute("UPDATE outbox_messages SET due_at = created_at, "
               "state = CASE WHEN dispatched_at IS NULL THEN 'queued' ELSE 'done' END, "
               "finished_at = dispatched_at")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column("due_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_dedupe_key"), ["dedupe_key"], unique=False)
        batch_op.create_index("ix_outbox_messages_state_due_at", ["state", "due_at"], unique=False)

    op.create_table(
        "worker_marks",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_marks")),
    )


def downgrade():
    op.drop_table("worker_marks")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_state_due_at")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_dedupe_key"))
        batch_op.drop_column("runs")
        batch_op.drop_column("finished_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("due_at")
        batch_op.drop_column("state")
        batch_op.drop_column("dedupe_key")
