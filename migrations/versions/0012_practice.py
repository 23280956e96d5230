"""practice simulations: lesson kind and source, practice runs and their steps; community digital
teams: residents registered on their behalf and assisted sessions (issue 15)

Revision ID: 0012_practice
Revises: 0012_scale
Create Date: 2026-12-05 14:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0012_practice"
down_revision = "0012_scale"
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

    op.create_table(
        "community_residents",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("registered_by_id", sa.Integer(), nullable=True),
        sa.Column("locality_id", sa.Integer(), nullable=False),
        sa.Column("hamlet", sa.String(length=120), nullable=True),
        sa.Column("consent_method", sa.String(length=8), nullable=False),
        sa.Column("consent_reference", sa.String(length=120), nullable=False),
        sa.Column("consented_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["locality_id"], ["localities.id"]),
        sa.ForeignKeyConstraint(["registered_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
    )
    with op.batch_alter_table("community_residents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_residents_locality_id"), ["locality_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_residents_registered_by_id"), ["registered_by_id"], unique=False)

    op.create_table(
        "assisted_sessions",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resident_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assisted_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assisted_sessions_member_id"), ["member_id"], unique=False)
        batch_op.create_index("ix_assisted_sessions_resident_window", ["resident_id", "started_at"], unique=False)


def downgrade():
    with op.batch_alter_table("assisted_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_assisted_sessions_resident_window")
        batch_op.drop_index(batch_op.f("ix_assisted_sessions_member_id"))
    op.drop_table("assisted_sessions")
    with op.batch_alter_table("community_residents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_residents_registered_by_id"))
        batch_op.drop_index(batch_op.f("ix_community_residents_locality_id"))
    op.drop_table("community_residents")
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
