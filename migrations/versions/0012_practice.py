"""practice simulations: lesson kind and source, practice runs and their steps (issue 15)

Revision ID: 0012_practice
Revises: 0011
Create Date: 2026-12-05 14:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0012_practice"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="page", nullable=False))
        batch_op.add_column(sa.Column("source_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("simulation", sa.JSON(), nullable=True))

    op.create_table(
        "practice_runs",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("step_count", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["lesson_id"], ["lessons.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("practice_runs", schema=None) as batch_op:
        batch_op.create_index("ix_practice_runs_lesson_user", ["lesson_id", "user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_practice_runs_user_id"), ["user_id"], unique=False)

    op.create_table(
        "practice_steps",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("wrong_tries", sa.Integer(), nullable=False),
        sa.Column("hints_used", sa.Integer(), nullable=False),
        sa.Column("last_choice", sa.Integer(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["practice_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "position"),
    )
    with op.batch_alter_table("practice_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_practice_steps_run_id"), ["run_id"], unique=False)


def downgrade():
    with op.batch_alter_table("practice_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_practice_steps_run_id"))
    op.drop_table("practice_steps")
    with op.batch_alter_table("practice_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_practice_runs_user_id"))
        batch_op.drop_index("ix_practice_runs_lesson_user")
    op.drop_table("practice_runs")
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_column("simulation")
        batch_op.drop_column("source_text")
        batch_op.drop_column("kind")
