"""Queueing results for the receiver, and retrying failed ones. Each flushes; the caller commits."""

import uuid

from sqlalchemy import select

from lms.core import audit
from lms.core.outbox import enqueue
from lms.extensions import db
from lms.sharing import queries
from lms.sharing.models import ResultDelivery


def queue_delivery(certificate) -> ResultDelivery | None:
    """Queue the certificate's result for the receiver, once (a second call returns the first row)."""
    label = queries.receiver()
    if label is None or not queries.may_share(certificate.user):
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
