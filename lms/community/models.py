"""Community digital teams (Tổ công nghệ số cộng đồng): residents a team member registered, and the
assisted sessions in which a member helped a resident on the member's own device.

What was done in an assisted session is not flagged row by row in other features' tables: the
session's time window says it (everything the resident did between `started_at` and `ended_at`
was done with help), so lessons, simulations and quizzes need no change to be told apart.
"""

from lms.core.db import IdMixin, utcnow
from lms.extensions import db

TEAM_ROLE = "digital_team"
CONSENT_METHODS = ("paper", "sms")


class CommunityResident(IdMixin, db.Model):
    __tablename__ = "community_residents"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True)
    registered_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id"), nullable=False, index=True)
    # Thôn, ấp, khu phố, tổ dân phố: free text under the commune, for the reports.
    hamlet = db.Column(db.String(120))
    consent_method = db.Column(db.String(8), nullable=False)
    consent_reference = db.Column(db.String(120), nullable=False)
    consented_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    user = db.relationship("User", foreign_keys=[user_id])
    registered_by = db.relationship("User", foreign_keys=[registered_by_id])
    locality = db.relationship("Locality")


class AssistedSession(IdMixin, db.Model):
    __tablename__ = "assisted_sessions"
    __table_args__ = (db.Index("ix_assisted_sessions_resident_window", "resident_id", "started_at"),)

    member_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    resident_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    started_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    ended_at = db.Column(db.DateTime)

    member = db.relationship("User", foreign_keys=[member_id])
    resident = db.relationship("User", foreign_keys=[resident_id])


class Hamlet(IdMixin, db.Model):
    """An imported thôn, ấp or khu phố of a commune: the picker when registering a resident. Residents keep
    their hamlet as text, so a hamlet dropped from a later list (or typed before lists) stays in reports."""

    __tablename__ = "community_hamlets"
    __table_args__ = (db.UniqueConstraint("locality_id", "name"),)

    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id", ondelete="CASCADE"), nullable=False)
    name = db.Column(db.String(120), nullable=False)


class CommuneContact(IdMixin, db.Model):
    """Where a resident of the commune gets help (issue 16's home page): set by the commune's manager."""

    __tablename__ = "commune_contacts"

    locality_id = db.Column(db.Integer, db.ForeignKey("localities.id", ondelete="CASCADE"), nullable=False, unique=True)
    phone = db.Column(db.String(40), nullable=False, default="")
    place = db.Column(db.String(200), nullable=False, default="")
    hours = db.Column(db.String(120), nullable=False, default="")
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
