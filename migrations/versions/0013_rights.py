"""Data rights: accounts to be shown the privacy notice at next login, consent purposes, results sharing

Revision ID: 0013_rights
Revises: 0013_assist
Create Date: 2026-12-05 17:00:00

Accounts made before consent existed have no consent record. This migration does NOT invent one:
it lists them in `notice_reviews`, and each is asked to accept the current notice at the next
login (lms/privacy/gate.py); the consent is recorded then, with its version and time.
"""
from alembic import op
import sqlalchemy as sa


revision = "0013_rights"
down_revision = "0013_assist"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notice_reviews",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notice_reviews_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notice_reviews")),
    )
    with op.batch_alter_table("consent_records") as batch:
        batch.add_column(sa.Column("purpose", sa.String(length=16), nullable=False, server_default="account"))
    op.create_table(
        "result_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("receiver", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_result_deliveries_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["certificate_id"], ["certificates.id"],
                                name=op.f("fk_result_deliveries_certificate_id_certificates"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_deliveries")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_result_deliveries_delivery_id")),
        sa.UniqueConstraint("certificate_id", "receiver", name=op.f("uq_result_deliveries_certificate_id_receiver")),
    )
    op.create_index(op.f("ix_result_deliveries_user_id"), "result_deliveries", ["user_id"])
    # Listed, not consented: the people are asked at their next login.
    op.execute("INSERT INTO notice_reviews (user_id, since) SELECT id, CURRENT_TIMESTAMP FROM users "
               "WHERE id NOT IN (SELECT user_id FROM consent_records)")


def downgrade():
    op.drop_index(op.f("ix_result_deliveries_user_id"), table_name="result_deliveries")
    op.drop_table("result_deliveries")
    with op.batch_alter_table("consent_records") as batch:
        batch.drop_column("purpose")
    op.drop_table("notice_reviews")
