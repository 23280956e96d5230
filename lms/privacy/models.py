"""Personal data under Decree 13/2023/NĐ-CP: the privacy notice, consent, and data requests."""

from lms.core.db import IdMixin, utcnow
from lms.extensions import db


class PrivacyNotice(IdMixin, db.Model):
    """One published version of the privacy notice (vi/en). Versions are never edited, only added."""

    __tablename__ = "privacy_notices"

    version = db.Column(db.Integer, nullable=False, unique=True)
    body_vi = db.Column(db.Text, nullable=False)
    body_en = db.Column(db.Text, nullable=False)
    published_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    published_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))


class ConsentRecord(IdMixin, db.Model):
    """Consent given or withdrawn, with the notice version it was about and when."""

    __tablename__ = "consent_records"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    notice_version = db.Column(db.Integer, nullable=False)
    action = db.Column(db.String(12), nullable=False)  # given | withdrawn
    via = db.Column(db.String(16), nullable=False)  # register | sso | sso-link | login | account
    # account: the privacy notice (processing for the account); results: sending results to VNeID /
    # personnel records (lms.sharing), optional, given and withdrawn separately.
    purpose = db.Column(db.String(16), nullable=False, default="account", server_default="account")
    ip = db.Column(db.String(64))
    at = db.Column(db.DateTime, nullable=False, default=utcnow)


class DataRequest(IdMixin, db.Model):
    """A person's request about their data (a copy, or deletion), with the deadline to answer it."""

    __tablename__ = "data_requests"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind = db.Column(db.String(12), nullable=False)  # export | deletion
    status = db.Column(db.String(12), nullable=False, default="pending")  # pending | ready | done | cancelled | failed
    requested_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    due_at = db.Column(db.DateTime, nullable=False)
    completed_at = db.Column(db.DateTime)
    file_key = db.Column(db.String(200))
    note = db.Column(db.Text)


class NoticeReview(db.Model):
    """An account that must see and accept the privacy notice at its next login (accounts made
    before consent existed: listed by migration 0013_rights, which does not invent their consent)."""

    __tablename__ = "notice_reviews"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    since = db.Column(db.DateTime, nullable=False, default=utcnow)
