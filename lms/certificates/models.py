"""Certificates. One per (user, course) or (user, program) and generation.

The holder's name, title and locality are copied at issue time so the record stays what was
certified. A renewal (after expiry) or a reissue (after a name correction) makes the next
generation; the unique constraints on (user, subject, generation) are what make issuing
exactly-once when two workers race on the same message.
"""

from lms.core.db import IdMixin, utcnow
from lms.extensions import db

STATUSES = ("valid", "expired", "revoked", "superseded")


class Certificate(IdMixin, db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        db.UniqueConstraint("user_id", "course_id", "generation"),
        db.UniqueConstraint("user_id", "program_id", "generation"),
        db.CheckConstraint("(course_id IS NULL) <> (program_id IS NULL)", name="one_subject"),
    )

    serial = db.Column(db.String(20), nullable=False, unique=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    course_id = db.Column(db.Integer, db.ForeignKey("courses.id"), index=True)
    program_id = db.Column(db.Integer, db.ForeignKey("programs.id"), index=True)
    generation = db.Column(db.Integer, nullable=False, default=1)
    enrollment_id = db.Column(db.Integer, db.ForeignKey("enrollments.id", ondelete="SET NULL"))
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id"), index=True)
    holder_name = db.Column(db.String(160), nullable=False)
    # Set when the holder's account was deleted (lms.privacy.erasure): the name, PDF and signed
    # credential are gone; the serial still verifies.
    holder_erased_at = db.Column(db.DateTime)
    # The title of what is certified: the course's or the program's, as it was at issue.
    course_title = db.Column(db.String(200), nullable=False)
    hours = db.Column(db.Numeric(6, 2), nullable=False, default=0)
    issuing_authority = db.Column(db.String(200), nullable=False)
    issued_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime)
    revoked_at = db.Column(db.DateTime)
    revoked_reason = db.Column(db.Text)
    superseded_by_id = db.Column(db.Integer, db.ForeignKey("certificates.id", ondelete="SET NULL"))
    # Written by the worker: the PDF's key in the file store and the signed Open Badges credential.
    pdf_key = db.Column(db.String(200))
    credential_json = db.deferred(db.Column(db.Text))

    user = db.relationship("User")
    course = db.relationship("Course")
    program = db.relationship("Program")
    locality = db.relationship("Locality")
    superseded_by = db.relationship("Certificate", remote_side="Certificate.id")

    @property
    def title(self) -> str:
        return self.course_title

    @property
    def kind(self) -> str:
        return "program" if self.program_id else "course"

    def status(self, now=None) -> str:
        now = now or utcnow()
        if self.revoked_at is not None:
            return "revoked"
        if self.superseded_by_id is not None:
            return "superseded"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "valid"

    def can_view(self, user) -> bool:
        """The holder and admins see the private view (downloads by id); anyone sees /verify."""
        return bool(user and user.is_authenticated and (user.id == self.user_id or user.is_admin))

    def can_renew(self, user) -> bool:
        """Starting the renewal: only the holder (an admin may see the certificate, not renew it for them)."""
        return bool(user and user.is_authenticated and user.id == self.user_id)

    def can_see_in_register(self, user) -> bool:
        if not (user and user.is_authenticated):
            return False
        return user.is_admin or (self.locality is not None and user.can_manage_locality(self.locality))

    def can_manage(self, user) -> bool:
        return bool(user and user.is_authenticated and user.is_admin)


class VerificationLookup(IdMixin, db.Model):
    """One public lookup, for a rate limit that holds across app processes and hosts."""

    __tablename__ = "verification_lookups"
    ip = db.Column(db.String(64), nullable=False, index=True)
    at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
