"""session records: a person sees and ends their signed-in browsers (issue 12, OWASP ASVS 3.3.4)

Revision ID: 0014_sessions
Revises: 0013_offline
Create Date: 2026-12-05 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0014_sessions"
down_revision = "0013_offline"
branch_labels = None
depends_on = None


def upgrade():
    # Sessions signed in before this revision carry no record key: they end, and the person logs in once more.
    op.create_table(
        "session_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("user_agent", sa.String(255)),
        sa.Column("ip", sa.String(45)),
        sa.Column("ended_at", sa.DateTime()),
    )
    op.create_index("ix_session_records_user_id", "session_records", ["user_id"])


def downgrade():
    op.drop_index("ix_session_records_user_id", "session_records")
    op.drop_table("session_records")
