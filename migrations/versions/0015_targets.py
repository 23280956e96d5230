"""one target model (issue 15): the community coverage targets join the reports' locality targets

`locality_targets` gains `counts` (all | assisted | self), `completed_target` (people completing a
course) and an optional `due_on`; one target per (unit, audience, group). Every `community_targets`
row becomes a residents' target of its commune (population = residents to reach, share 100 %, no
date); where the commune already had a reports target for that group, the reports' population stays
and the community's completion number is added to it. Downgrade moves them back (one per commune).

Also `programs.assisted_attempts_count` (default true): whether quiz attempts taken in an assisted session
count toward completing the program's courses.

Revision ID: 0015_targets
Revises: 0015_search
Create Date: 2026-12-05 21:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0015_targets"
down_revision = "0015_search"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("locality_targets") as batch:
        batch.add_column(sa.Column("counts", sa.String(8), nullable=False, server_default="all"))
        batch.add_column(sa.Column("completed_target", sa.Integer(), nullable=True))
        batch.alter_column("due_on", existing_type=sa.Date(), nullable=True)
        batch.drop_constraint("uq_locality_targets_locality_id_audience", type_="unique")
        batch.create_unique_constraint("uq_locality_targets_locality_id_audience_counts",
                                       ["locality_id", "audience", "counts"])
    op.execute("""
        UPDATE locality_targets SET completed_target = (
            SELECT c.completed FROM community_targets c
            WHERE c.locality_id = locality_targets.locality_id AND c.counts = locality_targets.counts)
        WHERE audience = 'citizen' AND EXISTS (
            SELECT 1 FROM community_targets c
            WHERE c.locality_id = locality_targets.locality_id AND c.counts = locality_targets.counts)""")
    op.execute("""
        INSERT INTO locality_targets (locality_id, audience, counts, population, target_percent, completed_target,
                                      due_on, updated_by_id, updated_at, created_at)
        SELECT c.locality_id, 'citizen', c.counts, c.reached, 100, c.completed, NULL, c.set_by_id,
               c.updated_at, c.updated_at
        FROM community_targets c
        WHERE c.reached > 0 AND NOT EXISTS (
            SELECT 1 FROM locality_targets t
            WHERE t.locality_id = c.locality_id AND t.audience = 'citizen' AND t.counts = c.counts)""")
    op.drop_table("community_targets")
    with op.batch_alter_table("programs") as batch:
        batch.add_column(sa.Column("assisted_attempts_count", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("programs") as batch:
        batch.drop_column("assisted_attempts_count")
    op.create_table(
        "community_targets",
        sa.Column("locality_id", sa.Integer(), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("counts", sa.String(length=8), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["locality_id"], ["localities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["set_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("locality_id"),
    )
    # One community target per commune: its first residents' target with a completion number.
    op.execute("""
        INSERT INTO community_targets (locality_id, reached, completed, counts, set_by_id, updated_at)
        SELECT t.locality_id, (t.population * t.target_percent + 99) / 100, t.completed_target, t.counts,
               t.updated_by_id, t.updated_at
        FROM locality_targets t
        WHERE t.id IN (SELECT MIN(id) FROM locality_targets
                       WHERE audience = 'citizen' AND completed_target IS NOT NULL GROUP BY locality_id)""")
    # The old table holds one dated target per (unit, audience): undated and extra groups' rows go.
    op.execute("DELETE FROM locality_targets WHERE due_on IS NULL")
    op.execute("""
        DELETE FROM locality_targets WHERE id NOT IN (
            SELECT MIN(id) FROM locality_targets GROUP BY locality_id, audience)""")
    with op.batch_alter_table("locality_targets") as batch:
        batch.drop_constraint("uq_locality_targets_locality_id_audience_counts", type_="unique")
        batch.create_unique_constraint("uq_locality_targets_locality_id_audience", ["locality_id", "audience"])
        batch.alter_column("due_on", existing_type=sa.Date(), nullable=False)
        batch.drop_column("completed_target")
        batch.drop_column("counts")
