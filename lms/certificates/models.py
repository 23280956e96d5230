"""Certificates. One per (user, course); the holder's name, course title and locality are
copied at issue time so the record stays what was certified."""

from lms.core.db import IdMixin, utcnow
from lms.extensions import db


class Certificate(IdMixin, db.Model):
    __tablename__ = "certificates"
    __table_args__ = (db.UniqueConstraint("user_id", "course_id"),)

    serial = db.Column(db.String(20), nullable=False, unique=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id"), nullable=False, index=True)
    enrollment_id = db.Column(db.Integer, db.ForeignKey("enrollments.id", ondelete="SET NULL"))
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id"), index=True)
    holder_name = db.Column(db.String(160), nullable=False)
    course_title = db.Column(db.String(200), nullable=False)
    hours = db.Column(db.Numeric(6, 2), nullable=False, default=0)
    issuing_authority = db.Column(db.String(200), nullable=False)
    issued_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime)
    revoked_at = db.Column(db.DateTime)
    revoked_reason = db.Column(db.Text)

    user = db.relationship("User")
    course = db.relationship("Course")
    locality = db.relationship("Locality")

    def status(self, now=None) -> str:
        now = now or utcnow()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "valid"

    def can_view(self, user) -> bool:
        return bool(user and user.is_authenticated and (user.id == self.user_id or user.is_admin))
