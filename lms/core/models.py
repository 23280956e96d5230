"""Cross-feature records: the outbox for background work and the audit trail."""

from lms.core.db import IdMixin, utcnow
from lms.extensions import db


class OutboxMessage(IdMixin, db.Model):
    """A task to send to Celery, written in the same transaction as the change needing it."""

    __tablename__ = "outbox_messages"
    task = db.Column(db.String(120), nullable=False)
    kwargs = db.Column(db.JSON, nullable=False, default=dict)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    dispatched_at = db.Column(db.DateTime, index=True)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    last_error = db.Column(db.Text)


class AuditEvent(IdMixin, db.Model):
    __tablename__ = "audit_events"
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action = db.Column(db.String(80), nullable=False)
    object_type = db.Column(db.String(40), nullable=False)
    object_id = db.Column(db.String(64))
    summary = db.Column(db.JSON, nullable=False, default=dict)
    ip = db.Column(db.String(64))
    at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
