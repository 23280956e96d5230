"""Results sent to an outside receiver (VNeID, personnel records): one row per certificate and receiver."""

from lms.core.db import IdMixin, utcnow
from lms.extensions import db


class ResultDelivery(IdMixin, db.Model):
    """A certificate's result on its way to (or at) the configured receiver.

    `delivery_id` (a UUID) is sent with every try as `Idempotency-Key` and in the body, so the
    receiver can drop a second copy when our first try got through but its answer was lost.
    """

    __tablename__ = "result_deliveries"
    __table_args__ = (db.UniqueConstraint("certificate_id", "receiver"),)

    delivery_id = db.Column(db.String(36), nullable=False, unique=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    certificate_id = db.Column(db.Integer, db.ForeignKey("certificates.id", ondelete="CASCADE"), nullable=False)
    receiver = db.Column(db.String(255), nullable=False)  # the receiver's label, e.g. "VNeID"
    status = db.Column(db.String(12), nullable=False, default="pending")  # pending | delivered | failed
    attempts = db.Column(db.Integer, nullable=False, default=0)
    last_error = db.Column(db.Text)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    delivered_at = db.Column(db.DateTime)

    certificate = db.relationship("Certificate")
