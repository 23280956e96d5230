"""offline progress records (issue 16: phones without a network), the account's text size, commune help contacts

Revision ID: 0013_offline
Revises: 0013_rights
Create Date: 2026-12-05 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0013_offline"
down_revision = "0013_rights"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "offline_progress_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("lesson_id", sa.Integer(), sa.ForeignKey("lessons.id", ondelete="CASCADE"), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_offline_progress_records_user_id", "offline_progress_records", ["user_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("text_size", sa.String(8)))
    op.create_table(
        "commune_contacts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("locality_id", sa.Integer(), sa.ForeignKey("localities.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("hours", sa.String(120), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("commune_contacts")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("text_size")
    op.drop_index("ix_offline_progress_records_user_id", "offline_progress_records")
    op.drop_table("offline_progress_records")
