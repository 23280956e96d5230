"""Cross-feature records: the outbox for background work and the audit trail."""

from lms.core.db import IdMixin, utcnow
from lms.extensions import db


class OutboxMessage(IdMixin, db.Model):
    """A piece of background work, written in the same transaction as the change needing it.

    Its lifecycle (lms.core.outbox): queued → dispatched (handed to the broker) → running (a worker
    claimed it, with a lease) → done, or failed once it ran out of runs. `due_at` is when the
    reconciler looks at it again: the end of the lease while running, the time by which a
    dispatched message should have started, the next try after a failed run.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (db.Index("ix_outbox_messages_state_due_at", "state", "due_at"),)
    task = db.Column(db.String(120), nullable=False)
    kwargs = db.Column(db.JSON, nullable=False, default=dict)
    # Identifies the work (e.g. "certificates.issue:41"): the repair sweep skips what is already pending.
    dedupe_key = db.Column(db.String(200), index=True)
    state = db.Column(db.String(12), nullable=False, default="queued", server_default="queued")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    due_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    dispatched_at = db.Column(db.DateTime, index=True)
    started_at = db.Column(db.DateTime)
    finished_at = db.Column(db.DateTime)
    attempts = db.Column(db.Integer, nullable=False, default=0)  # times handed to the broker or runner
    runs = db.Column(db.Integer, nullable=False, default=0, server_default="0")  # times a worker started it
    last_error = db.Column(db.Text)
    # The request that queued it (lms.core.observability): its log lines and the task's share the id.
    request_id = db.Column(db.String(64))


class WorkerMark(db.Model):
    """Small named facts of the background machinery: when a schedule entry last ran, the embedded
    runner's heartbeat, the last repair sweep's findings. Kept in the database so every process agrees."""

    __tablename__ = "worker_marks"
    name = db.Column(db.String(120), primary_key=True)
    at = db.Column(db.DateTime, nullable=False, default=utcnow)
    detail = db.Column(db.JSON, nullable=False, default=dict)


class AuditEvent(IdMixin, db.Model):
    __tablename__ = "audit_events"
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action = db.Column(db.String(80), nullable=False)
    object_type = db.Column(db.String(40), nullable=False)
    object_id = db.Column(db.String(64))
    summary = db.Column(db.JSON, nullable=False, default=dict)
    ip = db.Column(db.String(64))
    at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
