"""Queueing results for the receiver, and retrying failed ones. Each flushes; the caller commits."""

import uuid

from flask import current_app
from sqlalchemy import select

from lms.core import audit
from lms.core.outbox import enqueue
from lms.extensions import db
from lms.privacy.queries import consent_withdrawn, has_consent
from lms.sharing.models import ResultDelivery


def receiver() -> str | None:
    """The configured receiver's label, or None when no endpoint is configured (nothing is sent)."""
    config = current_app.config
    return (config.get("LMS_RESULTS_LABEL") or "VNeID") if config.get("LMS_RESULTS_ENDPOINT") else None


def may_share(user) -> bool:
    """Only with the person's own consent to share results, and not after they withdrew consent."""
    return has_consent(user, "results") and not consent_withdrawn(user.id)


def queue_delivery(certificate) -> ResultDelivery | None:
    """Queue the certificate's result for the receiver, once (a second call returns the first row)."""
    label = receiver()
    if label is None or not may_share(certificate.user):
        return None
    existing = db.session.scalar(select(ResultDelivery).where(
        ResultDelivery.certificate_id == certificate.id, ResultDelivery.receiver == label))
    if existing is not None:
        return existing
    delivery = ResultDelivery(delivery_id=str(uuid.uuid4()), user_id=certificate.user_id,
                              certificate_id=certificate.id, receiver=label, status="pending", attempts=0)
    db.session.add(delivery)
    db.session.flush()
    enqueue("sharing.deliver", delivery_id=delivery.delivery_id)
    return delivery


def retry(delivery: ResultDelivery, actor) -> None:
    """An administrator sends a failed delivery again (same delivery id: the receiver dedupes)."""
    delivery.status, delivery.last_error = "pending", None
    audit.record(actor, "sharing.delivery_retried", delivery, delivery_id=delivery.delivery_id)
    db.session.flush()
    enqueue("sharing.deliver", delivery_id=delivery.delivery_id, retry=delivery.attempts)


def mark_failed(delivery_id: str, error: str) -> None:
    delivery = db.session.scalar(select(ResultDelivery).where(ResultDelivery.delivery_id == delivery_id))
    if delivery is not None and delivery.status == "pending":
        delivery.status, delivery.last_error = "failed", error[:2000]
        db.session.flush()
