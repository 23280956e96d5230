"""In-app notifications, their e-mail copies, preferences, and the demo mailbox.

A notification is unique by `dedupe_key`: asking twice for the same notice (a retried task, a
beat job running twice) finds the first one instead of making a second.
"""

from flask_babel import lazy_gettext as _l

from lms.core.db import IdMixin, utcnow
from lms.extensions import db

# Kinds people can switch e-mail off for. Features add theirs with `register_kind`.
KINDS = {
    "account": _l("My account"),
    "import": _l("Imports I started"),
    "class": _l("Classes I attend or teach"),
    "general": _l("Other announcements"),
}


def register_kind(kind: str, label) -> None:
    KINDS.setdefault(kind, label)


class Notification(IdMixin, db.Model):
    __tablename__ = "notifications"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(40), nullable=False)
    subject = db.Column(db.String(255), nullable=False)
    body = db.Column(db.Text, nullable=False, default="")
    link = db.Column(db.String(500))
    dedupe_key = db.Column(db.String(200), nullable=False, unique=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    read_at = db.Column(db.DateTime)
    # none (no e-mail wanted or possible) | pending | sent | failed
    email_status = db.Column(db.String(16), nullable=False, default="none")
    emailed_at = db.Column(db.DateTime)
    email_error = db.Column(db.Text)

    user = db.relationship("User")

    __table_args__ = (db.Index("ix_notifications_user_unread", "user_id", "read_at"),)

    def can_view(self, user) -> bool:
        return bool(user and user.is_authenticated and user.id == self.user_id)


class NotificationPreference(IdMixin, db.Model):
    __tablename__ = "notification_preferences"
    __table_args__ = (db.UniqueConstraint("user_id", "kind"),)

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(40), nullable=False)
    email = db.Column(db.Boolean, nullable=False, default=True)


class MailboxMessage(IdMixin, db.Model):
    """Where e-mail goes when no SMTP server is configured, and SMS when no gateway is (the embedded
    demo): /dev/mailbox."""

    __tablename__ = "mailbox_messages"

    channel = db.Column(db.String(8), nullable=False, default="email", server_default="email")

    notification_id = db.Column(db.Integer, db.ForeignKey("notifications.id", ondelete="CASCADE"), unique=True)
    to = db.Column(db.String(254), nullable=False)
    subject = db.Column(db.String(255), nullable=False)
    body = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class DirectMessage(IdMixin, db.Model):
    """An e-mail or SMS to an address rather than to an account's inbox: reset links and codes,
    verification of a new address or number, set-password links. Sent once through the outbox;
    the body (which may hold a code or a link) is blanked once it went out."""

    __tablename__ = "direct_messages"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel = db.Column(db.String(8), nullable=False)  # email | sms
    to = db.Column(db.String(254), nullable=False)
    subject = db.Column(db.String(255), nullable=False, default="")
    body = db.Column(db.Text, nullable=False, default="")
    purpose = db.Column(db.String(32), nullable=False)
    status = db.Column(db.String(12), nullable=False, default="pending")  # pending | sent
    error = db.Column(db.Text)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    sent_at = db.Column(db.DateTime)
