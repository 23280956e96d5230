"""Delivering a result to the receiver (LMS_RESULTS_ENDPOINT), through the outbox with its retries.

The body is JSON (docs/privacy.md, "Sending results"): the delivery id, the person (name, e-mail,
phone, so the receiver can match its own records), the certificate with its public verify URL and
credential URL, and the signed Open Badges credential itself when it is already rendered. A
non-2xx answer or a network error raises; the outbox runs the task again with backoff, and after
its last run `background_work_failed` marks the delivery failed for an administrator to retry.
"""

import json
import logging

from celery import shared_task
from flask import current_app
from sqlalchemy import select

from lms.core.db import utcnow
from lms.core.http import post_json
from lms.extensions import db
from lms.sharing.models import ResultDelivery

log = logging.getLogger(__name__)


class DeliveryError(OSError):
    """The receiver refused or could not be reached; the outbox tries again."""


def payload(delivery: ResultDelivery) -> dict:
    certificate, user = delivery.certificate, delivery.certificate.user
    base = current_app.config["LMS_BASE_URL"]
    return {
        "delivery_id": delivery.delivery_id,
        "type": "certificate-issued",
        "person": {"full_name": user.full_name, "email": user.email, "phone": user.phone},
        "certificate": {
            "serial": certificate.serial, "title": certificate.course_title, "hours": float(certificate.hours),
            "issued_at": certificate.issued_at.isoformat() + "Z",
            "expires_at": certificate.expires_at.isoformat() + "Z" if certificate.expires_at else None,
            "issuing_authority": certificate.issuing_authority,
            "verify_url": f"{base}/verify/{certificate.serial}",
            "credential_url": f"{base}/verify/{certificate.serial}/credential.json",
        },
        "credential": json.loads(certificate.credential_json) if certificate.credential_json else None,
    }


def post(body: dict, delivery_id: str) -> None:
    config = current_app.config
    post_json(config["LMS_RESULTS_ENDPOINT"], body, token=config.get("LMS_RESULTS_TOKEN", ""),
              timeout=config.get("LMS_RESULTS_TIMEOUT", 10), headers={"Idempotency-Key": delivery_id},
              error_class=DeliveryError)


@shared_task(name="sharing.deliver")
def deliver(delivery_id: str, retry: int = 0):
    """Send one result; a delivered one is never sent again (the row is locked while sending)."""
    delivery = db.session.scalar(select(ResultDelivery).where(ResultDelivery.delivery_id == delivery_id)
                                 .with_for_update())
    if delivery is None or delivery.status == "delivered" or not current_app.config.get("LMS_RESULTS_ENDPOINT"):
        db.session.rollback()
        return "skipped"
    delivery.attempts += 1
    try:
        post(payload(delivery), delivery.delivery_id)
    except DeliveryError as error:
        delivery.last_error = str(error)
        log.warning("result delivery %s not delivered: %s", delivery_id, error)
        db.session.commit()
        raise
    delivery.status, delivery.delivered_at, delivery.last_error = "delivered", utcnow(), None
    db.session.commit()
    return "delivered"
