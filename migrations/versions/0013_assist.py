"""community teams: coverage targets per commune, imported hamlet lists

Revision ID: 0013_assist
Revises: 0012_library
Create Date: 2026-12-05 17:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0013_assist"
down_revision = "0012_library"
branch_labels = None
depends_on = None


def upgrade():
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
    op.create_table(
        "community_hamlets",
        sa.Column("locality_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["locality_id"], ["localities.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("locality_id", "name"),
    )


def downgrade():
    op.drop_table("community_hamlets")
    op.drop_table("community_targets")
