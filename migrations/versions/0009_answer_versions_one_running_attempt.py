"""answer versions, one running attempt

Saves carry a per-question version so a replayed or late older save never overwrites a newer
answer; a partial unique index allows one running attempt per (quiz, user).

Databases that already hold several running attempts of one learner on one quiz (the start race
this index closes) keep the newest running; the older ones are closed now and marked as waiting
for grading, so the quiz's Regrade button grades them with the answers they hold.

Revision ID: 0009_quiz_versions
Revises: 0008
Create Date: 2026-12-01 09:00:00

"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0009_quiz_versions"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("attempt_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.BigInteger(), nullable=True))

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    op.get_bind().execute(sa.text(
        "UPDATE attempts SET submitted_at = :now, needs_grading = :waiting "
        "WHERE submitted_at IS NULL AND id NOT IN "
        "(SELECT MAX(id) FROM attempts WHERE submitted_at IS NULL GROUP BY quiz_id, user_id)"),
        {"now": now, "waiting": True})
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.create_index("uq_attempts_one_running", ["quiz_id", "user_id"], unique=True,
                              postgresql_where=sa.text("submitted_at IS NULL"),
                              sqlite_where=sa.text("submitted_at IS NULL"))


def downgrade():
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index("uq_attempts_one_running")

    with op.batch_alter_table("attempt_answers", schema=None) as batch_op:
        batch_op.drop_column("version")
